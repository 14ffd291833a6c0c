// kpt's optimisers against torch.optim (PyTorch 1.13): 10 steps of Adam and SGD variants on a
// small network, from tests/data/optim/optim_reference.safetensors (tools/make_optim_fixtures.py).
#include "support.hpp"

#include <filesystem>

#include "kpt/io/safetensors.hpp"
#include "kpt/ops/binary.hpp"
#include "kpt/ops/pointwise.hpp"
#include "kpt/ops/reduce.hpp"
#include "kpt/optim/all.hpp"

using namespace kpt;

namespace {

const std::filesystem::path fixture = std::filesystem::path(KPT_TEST_DATA_DIR) / "optim" / "optim_reference.safetensors";
const std::vector<std::string> names{"W1", "b1", "w2", "b2"};

template <class T, class B>
struct net {
  std::map<std::string, tensor<T, B>> p;
  tensor<T, B> x, y;

  explicit net(const io::safetensors_file& f) : x(f.get<T, B>("x")), y(f.get<T, B>("y")) {
    for (const auto& n : names) p[n] = f.get<T, B>("init." + n).requires_grad_();
  }
  // h = tanh(sum(x[N,1,K] * W1[H,K], 2) + b1);  out = sum(h * w2, 1) + b2;  mean((out - y)^2)
  tensor<T, B> loss() const {
    const auto h = kpt::tanh(add(sum(mul(x, p.at("W1")), {2}), p.at("b1")));
    const auto out = add(sum(mul(h, p.at("w2")), {1}), p.at("b2"));
    const auto d = sub(out, y);
    return mean(mul(d, d));
  }
  std::vector<optim::param<T, B>> params(std::initializer_list<const char*> which) const {
    std::vector<optim::param<T, B>> out;
    for (const char* n : which) out.push_back({n, p.at(n)});
    return out;
  }
};

struct extras {
  double clip_norm = 0;   // 0: none
  double clip_value = 0;  // 0: none
  std::int64_t step_lr = 0;  // StepLR(step_size, 0.5) stepped after every optimiser step; 0: none
};

// Runs 10 steps and compares losses, clip norms and final parameters with torch's.
template <class T, class B, class Opt>
void run_and_compare(const io::safetensors_file& f, const std::string& run, net<T, B>& n, Opt& opt, const extras& ex,
                     double tol) {
  std::vector<double> losses, norms;
  for (int step = 0; step < 10; ++step) {
    if (ex.step_lr) optim::apply(opt, optim::step_decay{.step_size = ex.step_lr, .gamma = 0.5}, step);
    opt.zero_grad();
    const auto l = n.loss();
    l.backward();
    losses.push_back(double(l.item()));
    if (ex.clip_norm > 0) norms.push_back(optim::clip_grad_norm(opt.parameters(), ex.clip_norm));
    if (ex.clip_value > 0) optim::clip_grad_value(opt.parameters(), ex.clip_value);
    opt.step();
  }
  auto compare = [&](const std::string& what, const std::vector<double>& mine) {
    const auto want = f.get<double>(run + "." + what).to_vector();
    BOOST_REQUIRE_EQUAL(mine.size(), want.size());
    double worst = 0;
    for (std::size_t i = 0; i < mine.size(); ++i) worst = std::max(worst, std::abs(mine[i] - want[i]));
    BOOST_TEST(worst <= tol, run << " (" << B::name << ", " << sizeof(T) * 8 << "-bit) " << what << ": max |diff| "
                                 << worst << " > " << tol);
  };
  compare("loss", losses);
  if (ex.clip_norm > 0) compare("clip_norm", norms);
  for (const auto& name : names) {
    std::vector<double> mine;
    for (T v : n.p.at(name).to_vector()) mine.push_back(double(v));
    compare(name, mine);
  }
}

template <class T, class B>
void check_all(double tol) {
  const io::safetensors_file f(fixture);
  auto adam_run = [&](const std::string& run, std::vector<std::pair<std::vector<const char*>, optim::adam_options>> groups,
                      extras ex = {}) {
    net<T, B> n(f);
    optim::adam<T, B> opt;
    for (auto& [which, o] : groups) {
      std::vector<optim::param<T, B>> ps;
      for (const char* w : which) ps.push_back({w, n.p.at(w)});
      opt.add_param_group(ps, o);
    }
    run_and_compare(f, run, n, opt, ex, tol);
  };
  auto sgd_run = [&](const std::string& run, optim::sgd_options o, extras ex = {}) {
    net<T, B> n(f);
    optim::sgd<T, B> opt(n.params({"W1", "b1", "w2", "b2"}), o);
    run_and_compare(f, run, n, opt, ex, tol);
  };
  const std::vector<const char*> all{"W1", "b1", "w2", "b2"};
  adam_run("adam", {{all, {.lr = 1e-2}}});
  adam_run("adam_wd", {{all, {.lr = 1e-2, .weight_decay = 0.1}}});
  adam_run("adam_amsgrad",
           {{all, {.lr = 2e-2, .beta1 = 0.8, .beta2 = 0.99, .eps = 1e-6, .weight_decay = 0.05, .amsgrad = true}}});
  adam_run("adam_groups_step", {{{"W1", "b1"}, {.lr = 1e-2}}, {{"w2", "b2"}, {.lr = 3e-3, .weight_decay = 0.1}}},
           {.step_lr = 3});
  adam_run("adam_clip_value", {{all, {.lr = 1e-2}}}, {.clip_value = 0.05});
  sgd_run("sgd", {.lr = 0.1});
  sgd_run("sgd_momentum", {.lr = 0.05, .momentum = 0.9});
  sgd_run("sgd_momentum_wd", {.lr = 0.05, .momentum = 0.9, .dampening = 0.1, .weight_decay = 0.01});
  sgd_run("sgd_nesterov", {.lr = 0.05, .momentum = 0.9, .weight_decay = 0.01, .nesterov = true});
  sgd_run("sgd_clip_norm", {.lr = 0.05, .momentum = 0.9}, {.clip_norm = 0.5});
}

}  // namespace

BOOST_AUTO_TEST_SUITE(optim_reference)

// The fixture runs in float64: kpt in double agrees to rounding, in float within 1e-5.
BOOST_AUTO_TEST_CASE(ten_steps_match_torch_in_double) {
  check_all<double, cpu_ref>(1e-12);
  check_all<double, cpu>(1e-12);
}

BOOST_AUTO_TEST_CASE(ten_steps_match_torch_in_float) {
  check_all<float, cpu_ref>(1e-5);
  check_all<float, cpu>(1e-5);
}

BOOST_AUTO_TEST_SUITE_END()
