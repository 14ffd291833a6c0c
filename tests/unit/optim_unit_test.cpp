#include "support.hpp"

#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <set>

#include "kpt/optim/all.hpp"

using namespace kpt;
namespace fs = std::filesystem;

namespace {

using ft = tensor<float, cpu_ref>;
using dt = tensor<double, cpu_ref>;

template <class F>
void expect_error_with(F&& f, std::initializer_list<std::string> parts) {
  try {
    f();
    BOOST_ERROR("no exception thrown (expected one mentioning '" << *parts.begin() << "')");
  } catch (const kpt::error& e) {
    const std::string m = e.what();
    for (const auto& part : parts) BOOST_TEST(m.find(part) != std::string::npos, "message lacks '" << part << "': " << m);
  }
}

template <class T, class B = cpu_ref>
tensor<T, B> leaf(std::initializer_list<T> v) {
  auto t = tensor<T, B>::from({index_t(v.size())}, v);
  t.requires_grad_();
  return t;
}
template <class T, class B>
void set_grad(tensor<T, B>& p, std::initializer_list<T> g) {
  p.set_grad(tensor<T, B>::from(p.shape(), g));
}

// A deterministic, parameter-dependent gradient (no ops needed): g = 2 (p - c) + 0.1 sin(3 p).
template <class T, class B>
void fake_backward(std::vector<tensor<T, B>>& ps) {
  for (std::size_t k = 0; k < ps.size(); ++k) {
    auto g = tensor<T, B>::empty(ps[k].shape());
    for (index_t i = 0; i < g.numel(); ++i) {
      const T p = ps[k].data()[i];
      g.data()[i] = T(2) * (p - T(0.3 * double(k + 1))) + T(0.1) * std::sin(T(3) * p);
    }
    ps[k].set_grad(g);
  }
}

struct temp_file {
  fs::path path;
  temp_file() {
    static int counter = 0;
    path = fs::temp_directory_path() / ("kpt_optim_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++) +
                                        ".safetensors");
  }
  ~temp_file() {
    std::error_code ec;
    fs::remove(path, ec);
  }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(optimisers)

BOOST_AUTO_TEST_CASE(adam_first_steps_follow_the_formula) {
  auto p = leaf<double>({1.0, -2.0});
  optim::adam<double> opt({{"p", p}}, {.lr = 0.1, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8, .weight_decay = 0.01});
  double w[2] = {1.0, -2.0}, m[2] = {0, 0}, v[2] = {0, 0};
  const double g0[2][2] = {{0.5, -0.25}, {0.125, 3.0}};
  for (int t = 1; t <= 2; ++t) {
    set_grad(p, {g0[t - 1][0], g0[t - 1][1]});
    opt.step();
    for (int i = 0; i < 2; ++i) {
      const double g = g0[t - 1][i] + 0.01 * w[i];
      m[i] = 0.9 * m[i] + 0.1 * g;
      v[i] = 0.999 * v[i] + 0.001 * g * g;
      const double denom = std::sqrt(v[i]) / std::sqrt(1 - std::pow(0.999, t)) + 1e-8;
      w[i] -= 0.1 / (1 - std::pow(0.9, t)) * m[i] / denom;
      BOOST_TEST(std::abs(p.values()[std::size_t(i)] - w[i]) < 1e-15);
    }
  }
  BOOST_TEST(opt.state_of(0, 0).step.item() == 2);
  BOOST_TEST(!p.requires_grad() == false);  // still a parameter
}

BOOST_AUTO_TEST_CASE(adam_amsgrad_uses_the_running_maximum) {
  auto p = leaf<double>({0.0});
  optim::adam<double> opt({{"p", p}}, {.lr = 1.0, .beta1 = 0.0, .beta2 = 0.5, .eps = 0.0, .amsgrad = true});
  set_grad(p, {4.0});
  opt.step();  // v = 8, vmax = 8, bc2 = 0.5: denom = sqrt(8)/sqrt(0.5) = 4; m = 4 -> p = -1
  BOOST_TEST(p.values()[0] == -1.0);
  set_grad(p, {1.0});
  opt.step();  // v = 4.5 < vmax = 8; bc2 = 0.75: denom = sqrt(8/0.75); m = 1
  BOOST_TEST(std::abs(p.values()[0] - (-1.0 - 1.0 / std::sqrt(8 / 0.75))) < 1e-15);
  BOOST_TEST(opt.state_of(0, 0).max_exp_avg_sq.values()[0] == 8.0);
}

BOOST_AUTO_TEST_CASE(sgd_momentum_dampening_and_nesterov) {
  auto a = leaf<double>({1.0});
  auto b = leaf<double>({1.0});
  auto c = leaf<double>({1.0});
  optim::sgd<double> plain({{"a", a}}, {.lr = 0.5, .momentum = 0.9, .dampening = 0.5});
  optim::sgd<double> nest({{"b", b}}, {.lr = 0.5, .momentum = 0.9, .weight_decay = 0.1, .nesterov = true});
  optim::sgd<double> maxi({{"c", c}}, {.lr = 0.5, .maximize = true});
  for (auto* t : {&a, &b, &c}) set_grad(*t, {2.0});
  plain.step();  // buf = g = 2 (no dampening at the first step)
  nest.step();   // g = 2 + 0.1 = 2.1, buf = 2.1, g = 2.1 + 0.9 * 2.1
  maxi.step();
  BOOST_TEST(a.values()[0] == 1.0 - 0.5 * 2.0);
  BOOST_TEST(std::abs(b.values()[0] - (1.0 - 0.5 * (2.1 + 0.9 * 2.1))) < 1e-15);
  BOOST_TEST(c.values()[0] == 2.0);
  set_grad(a, {2.0});
  plain.step();  // buf = 0.9 * 2 + 0.5 * 2 = 2.8
  BOOST_TEST(std::abs(a.values()[0] - (0.0 - 0.5 * 2.8)) < 1e-15);
  BOOST_TEST(plain.state_of(0, 0).momentum_buffer.values()[0] == 2.8);
}

BOOST_AUTO_TEST_CASE(parameters_without_gradient_are_skipped_and_zero_grad_follows_torch) {
  auto p = leaf<float>({1.f, 2.f});
  auto q = leaf<float>({3.f});
  optim::adam<float> opt({{"p", p}, {"q", q}}, {.lr = 0.1f, .weight_decay = 0.5});
  set_grad(p, {1.f, 1.f});
  opt.step();
  BOOST_TEST(q.values()[0] == 3.f);  // no gradient: no step, no weight decay
  BOOST_TEST(opt.state_of(0, 1).step.item() == 0);
  BOOST_TEST(opt.state_of(0, 0).step.item() == 1);
  opt.zero_grad();  // PyTorch 1.13 default: zeroed in place, so the next step still decays
  BOOST_TEST(p.grad().defined());
  BOOST_TEST(p.grad().values()[0] == 0.f);
  const float before = p.values()[0];
  opt.step();
  BOOST_TEST(p.values()[0] != before);
  opt.zero_grad(/*set_to_none=*/true);
  BOOST_TEST(!p.grad().defined());
  const float after = p.values()[0];
  opt.step();
  BOOST_TEST(p.values()[0] == after);
}

BOOST_AUTO_TEST_CASE(groups_have_their_own_options) {
  auto a = leaf<double>({1.0});
  auto b = leaf<double>({1.0});
  optim::sgd<double> opt({{"a", a}}, {.lr = 0.1});
  opt.add_param_group({{"b", b}}, {.lr = 0.01, .weight_decay = 1.0});
  set_grad(a, {1.0});
  set_grad(b, {1.0});
  opt.step();
  BOOST_TEST(a.values()[0] == 1.0 - 0.1);
  BOOST_TEST(b.values()[0] == 1.0 - 0.01 * 2.0);
  BOOST_TEST(opt.num_groups() == 2u);
  BOOST_TEST(opt.parameters().size() == 2u);
  opt.options(1).lr = 0.5;
  BOOST_TEST(opt.lr(1) == 0.5);
  BOOST_TEST(opt.initial_lr(1) == 0.01);
  opt.set_lr(0.2);
  BOOST_TEST(opt.lr(0) == 0.2);
  BOOST_TEST(opt.lr(1) == 0.2);
}

BOOST_AUTO_TEST_CASE(parameters_from_any_named_range) {
  std::vector<std::pair<std::string, ft>> named{{"x", ft::ones({2})}, {"y", ft::ones({3})}};
  optim::adam<float> a(named);
  BOOST_TEST(a.group(0).params[1].name == "y");
  std::vector<ft> bare{ft::ones({2}), ft::ones({1})};
  optim::sgd<float> s(bare, {.lr = 1.0});
  BOOST_TEST(s.group(0).params[1].name == "1");
  BOOST_TEST(s.group(0).params[0].value.same(bare[0]));
  optim::adam<float, cpu> fast({{"x", tensor<float, cpu>::ones({4})}});  // any host backend
  BOOST_TEST(fast.parameters().size() == 1u);
}

BOOST_AUTO_TEST_CASE(bad_options_and_parameters_are_value_errors) {
  auto p = leaf<float>({1.f});
  using optim::adam, optim::sgd;
  expect_error_with([&] { adam<float>({{"p", p}}, {.lr = -1}); }, {"adam", "learning rate -1"});
  expect_error_with([&] { adam<float>({{"p", p}}, {.beta1 = 1.0}); }, {"adam", "beta1 1"});
  expect_error_with([&] { adam<float>({{"p", p}}, {.beta2 = -0.1}); }, {"beta2"});
  expect_error_with([&] { adam<float>({{"p", p}}, {.eps = -1}); }, {"eps"});
  expect_error_with([&] { sgd<float>({{"p", p}}, {.weight_decay = -1}); }, {"sgd", "weight_decay"});
  expect_error_with([&] { sgd<float>({{"p", p}}, {.nesterov = true}); }, {"nesterov", "momentum > 0"});
  expect_error_with([&] { sgd<float>({{"p", p}}, {.momentum = 0.9, .dampening = 0.1, .nesterov = true}); },
                    {"dampening 0"});
  expect_error_with([&] { sgd<float>({{"p", p}, {"q", p}}); }, {"'q'", "appears twice"});
  expect_error_with([&] { sgd<float>({{"p", p}, {"p", ft::ones({1})}}); }, {"two parameters are named 'p'"});
  expect_error_with([&] { sgd<float>({{"", p}}); }, {"no name"});
  expect_error_with([&] { sgd<float>({{"u", ft{}}}); }, {"'u'", "undefined"});
  {
    sgd<float> s({{"p", p}});
    expect_error_with([&] { s.add_param_group({{"again", p}}, {}); }, {"'again'", "already in a group", "'p'"});
    expect_error_with([&] { s.set_lr(-0.5); }, {"negative"});
    p.set_grad(ft::ones({2}));
    expect_error_with([&] { s.step(); }, {"sgd", "gradient of 'p'", "[2]", "[1]"});
  }
}

BOOST_AUTO_TEST_CASE(learning_rate_schedules) {
  const optim::kp2d_halving kp2d;
  const std::vector<std::pair<int, double>> want{{0, 1}, {39, 1}, {40, 0.5}, {49, 0.5}, {79, 0.5}, {80, 0.25},
                                                 {120, 0.125}, {160, 0.0625}, {1000, 0.0625}};
  for (const auto& [e, f] : want) BOOST_TEST(kp2d.factor(e) == f, "epoch " << e);
  const optim::kp2d_halving repeat2{.period = 40.0 / 2};
  BOOST_TEST(repeat2.factor(19) == 1.0);
  BOOST_TEST(repeat2.factor(20) == 0.5);
  const optim::kp2d_halving repeat3{.period = 40.0 / 3};  // 13.33 epochs per halving
  BOOST_TEST(repeat3.factor(13) == 1.0);
  BOOST_TEST(repeat3.factor(14) == 0.5);
  const optim::step_decay step{.step_size = 3, .gamma = 0.1};
  BOOST_TEST(step.factor(2) == 1.0);
  BOOST_TEST(step.factor(3) == 0.1);
  BOOST_TEST(std::abs(step.factor(7) - 0.01) < 1e-17);
  const optim::multi_step_decay ms{.milestones = {2, 5}, .gamma = 0.5};
  BOOST_TEST(ms.factor(1) == 1.0);
  BOOST_TEST(ms.factor(2) == 0.5);
  BOOST_TEST(ms.factor(9) == 0.25);
  expect_error_with([&] { (void)optim::step_decay{.step_size = 0}.factor(1); }, {"step_size"});
  expect_error_with([&] { (void)kp2d.factor(-1); }, {"negative"});

  // KP2D's setting: both groups at 1e-3, halved at epoch 40.
  auto a = leaf<float>({1.f});
  auto b = leaf<float>({1.f});
  optim::adam<float> opt({{"keypoint_net.a", a}}, {.lr = 1e-3});
  opt.add_param_group({{"io_net.b", b}}, {.lr = 1e-4});
  optim::apply(opt, kp2d, 39);
  BOOST_TEST(opt.lr(0) == 1e-3);
  optim::apply(opt, kp2d, 45);
  BOOST_TEST(opt.lr(0) == 1e-3 * 0.5);
  BOOST_TEST(opt.lr(1) == 1e-4 * 0.5);
}

BOOST_AUTO_TEST_CASE(gradient_clipping_by_norm_and_value) {
  auto a = leaf<double>({3.0, 0.0});
  auto b = leaf<double>({1.0});
  auto c = leaf<double>({1.0});  // no gradient: ignored
  std::vector<dt> ps{a, b, c};
  set_grad(a, {3.0, -4.0});
  set_grad(b, {12.0});
  const double total = optim::clip_grad_norm(ps, 6.5);
  BOOST_TEST(total == 13.0);
  const double coef = 6.5 / (13.0 + 1e-6);
  BOOST_TEST(a.grad().values()[0] == 3.0 * coef);
  BOOST_TEST(b.grad().values()[0] == 12.0 * coef);
  BOOST_TEST(!c.grad().defined());
  // Below the limit: unchanged.
  set_grad(a, {0.3, -0.4});
  b.zero_grad();
  BOOST_TEST(std::abs(optim::clip_grad_norm(ps, 1.0) - 0.5) < 1e-15);
  BOOST_TEST(a.grad().values()[0] == 0.3);
  // Other norms.
  set_grad(a, {3.0, -4.0});
  set_grad(b, {-12.0});
  BOOST_TEST(optim::clip_grad_norm(ps, 100.0, INFINITY) == 12.0);
  BOOST_TEST(optim::clip_grad_norm(ps, 100.0, 1.0) == 19.0);
  BOOST_TEST(std::abs(optim::clip_grad_norm(ps, 100.0, 3.0) - std::cbrt(27.0 + 64 + 1728)) < 1e-12);
  // Non-finite gradients.
  set_grad(a, {double(NAN), 1.0});
  expect_error_with([&] { (void)optim::clip_grad_norm(ps, 1.0, 2.0, true); }, {"clip_grad_norm", "NaN or Inf"});
  BOOST_TEST(std::isnan(optim::clip_grad_norm(ps, 1.0)));
  // By value, on an optimiser's parameters and on named params.
  set_grad(a, {3.0, -0.25});
  set_grad(b, {-12.0});
  optim::sgd<double> opt({{"a", a}, {"b", b}});
  optim::clip_grad_value(opt.parameters(), 0.5);
  BOOST_TEST(a.grad().values()[0] == 0.5);
  BOOST_TEST(a.grad().values()[1] == -0.25);
  BOOST_TEST(b.grad().values()[0] == -0.5);
  std::vector<optim::param<double>> named{{"a", a}};
  optim::clip_grad_value(named, 0.1);
  BOOST_TEST(a.grad().values()[0] == 0.1);
  expect_error_with([&] { optim::clip_grad_value(ps, -1.0); }, {"negative"});
}

BOOST_AUTO_TEST_CASE(state_is_named_for_checkpoints) {
  auto w = leaf<float>({1.f, 2.f});
  optim::adam<float> a({{"conv.weight", w}}, {.amsgrad = true});
  std::set<std::string> names;
  a.visit_state([&](const std::string& n, auto&) { names.insert(n); });
  BOOST_TEST((names == std::set<std::string>{"adam.conv.weight.exp_avg", "adam.conv.weight.exp_avg_sq",
                                             "adam.conv.weight.max_exp_avg_sq", "adam.conv.weight.step"}));
  optim::sgd<float> s({{"conv.weight", w}}, {.momentum = 0.9});
  names.clear();
  s.visit_state([&](const std::string& n, auto&) { names.insert(n); });
  BOOST_TEST((names == std::set<std::string>{"sgd.conv.weight.momentum_buffer", "sgd.conv.weight.step"}));
}

// 10 steps in one go equal 5 steps, a checkpoint, a fresh process state, and 5 more, bit for bit.
template <class Opt, class Options>
void check_resume(const Options& options, const Options& options2) {
  using T = typename Opt::value_type;
  using B = typename Opt::backend_type;
  using tt = tensor<T, B>;
  auto make = [] {
    return std::vector<tt>{test::random_tensor<T, B>({3, 4}, 11), test::random_tensor<T, B>({4}, 12),
                           test::random_tensor<T, B>({}, 13)};
  };
  auto named = [](std::vector<tt>& ps) {
    std::vector<optim::param<T, B>> out;
    const char* names[] = {"enc.w", "enc.b", "head.s"};
    for (std::size_t i = 0; i < ps.size(); ++i) out.push_back({names[i], ps[i].requires_grad_()});
    return out;
  };
  auto build = [&](std::vector<tt>& ps) {
    auto np = named(ps);
    Opt opt(std::vector<optim::param<T, B>>(np.begin(), np.begin() + 2), options);
    opt.add_param_group({np[2]}, options2);
    return opt;
  };
  const optim::step_decay sched{.step_size = 4, .gamma = 0.5};

  auto ref = make();
  Opt ref_opt = build(ref);
  for (int i = 0; i < 10; ++i) {
    optim::apply(ref_opt, sched, i);
    fake_backward(ref);
    ref_opt.step();
  }

  temp_file ckpt;
  {
    auto ps = make();
    Opt opt = build(ps);
    for (int i = 0; i < 5; ++i) {
      optim::apply(opt, sched, i);
      fake_backward(ps);
      opt.step();
    }
    io::safetensors_writer w;
    for (const auto& p : named(ps)) w.add(p.name, p.value);
    optim::save_state(w, opt);
    w.write(ckpt.path);
  }
  auto ps = make();  // different starting values would also do: everything is loaded
  for (auto& p : ps) p = tt::zeros(p.shape());
  Opt opt = build(ps);
  io::safetensors_file f(ckpt.path);
  io::state_loader weights;
  for (const auto& p : named(ps)) weights.bind(p.name, p.value);
  weights.load(f, {.allow_unexpected = true});
  optim::load_state(f, opt);
  BOOST_TEST(opt.lr(0) == options.lr * 0.5);  // the schedule's value at epoch 4 came back
  for (int i = 5; i < 10; ++i) {
    optim::apply(opt, sched, i);
    fake_backward(ps);
    opt.step();
  }
  for (std::size_t k = 0; k < ps.size(); ++k)
    BOOST_TEST((ps[k].to_vector() == ref[k].to_vector()), Opt::kind_name << ": parameter " << k << " differs after resume");
}

BOOST_AUTO_TEST_CASE(resume_from_a_checkpoint_is_bit_exact) {
  check_resume<optim::adam<float>>(optim::adam_options{.lr = 1e-2, .weight_decay = 0.01, .amsgrad = true},
                                   optim::adam_options{.lr = 3e-3});
  check_resume<optim::adam<double, cpu>>(optim::adam_options{.lr = 1e-2}, optim::adam_options{.lr = 1e-2});
  check_resume<optim::sgd<float>>(optim::sgd_options{.lr = 0.05, .momentum = 0.9, .weight_decay = 0.01},
                                  optim::sgd_options{.lr = 0.01, .momentum = 0.5, .nesterov = true});
}

BOOST_AUTO_TEST_CASE(loading_mismatched_state_names_the_problem) {
  auto w = leaf<float>({1.f, 2.f});
  auto b = leaf<float>({1.f});
  temp_file ckpt;
  {
    optim::adam<float> a({{"w", w}, {"b", b}});
    io::safetensors_writer out;
    optim::save_state(out, a);
    out.write(ckpt.path);
  }
  io::safetensors_file f(ckpt.path);
  {
    optim::sgd<float> s({{"w", w}});
    expect_error_with([&] { optim::load_state(f, s); }, {"holds no sgd optimiser state"});
  }
  {
    optim::adam<float> a({{"w", w}});
    a.add_param_group({{"b", b}}, {});
    expect_error_with([&] { optim::load_state(f, a); }, {"1 parameter groups", "has 2"});
  }
  {
    auto w3 = leaf<float>({1.f, 2.f, 3.f});
    auto c = leaf<float>({1.f});
    optim::adam<float> a({{"w", w3}, {"c", c}});
    expect_error_with([&] { optim::load_state(f, a); }, {"parameters this optimiser does not have", "'adam.b.exp_avg'"});
    optim::adam<float> a2({{"w", w3}, {"b", c}});
    expect_error_with([&] { optim::load_state(f, a2); },
                      {"mis-shaped", "'adam.w.exp_avg': file [2], expected [3]", "'adam.w.exp_avg_sq'"});
  }
  {
    optim::adam<float> a({{"w", w}, {"b", b}}, {.amsgrad = true});
    expect_error_with([&] { optim::load_state(f, a); }, {"missing", "'adam.w.max_exp_avg_sq'", "'adam.b.max_exp_avg_sq'"});
  }
}

BOOST_AUTO_TEST_SUITE_END()
