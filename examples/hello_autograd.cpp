// kpt in a page: fit a small convolutional layer to a target by gradient descent, on the cpu
// backend, and check the tape's gradient against finite differences on the way.
#include <kpt/autograd/gradcheck.hpp>
#include <kpt/backends/cpu.hpp>
#include <kpt/backends/cpu_ref.hpp>
#include <kpt/ops/binary.hpp>
#include <kpt/ops/conv.hpp>
#include <kpt/ops/pointwise.hpp>
#include <kpt/ops/reduce.hpp>

#include <cstdio>

#include "kpt/core/random.hpp"

using T = kpt::tensor<float, kpt::cpu>;

namespace {
T random(const kpt::shape& s, std::uint64_t seed, float scale) {
  kpt::rng g(seed);
  auto t = T::empty(s);
  for (auto& v : t.values()) v = float(g.uniform(-scale, scale));
  return t;
}
}  // namespace

int main() {
  // A hidden "true" layer makes the targets; a second layer starts from zero and learns them.
  const auto x = random({4, 3, 24, 32}, 1, 1.0f);
  const auto w_true = random({8, 3, 3, 3}, 2, 0.5f);
  const auto target = kpt::relu(kpt::conv2d(x, w_true, T{}, {.stride = 1, .padding = 1}));
  auto w = T::zeros({8, 3, 3, 3}).requires_grad_();
  auto b = T::full({8}, 0.1f).requires_grad_();

  const float lr = 0.5f;
  for (int step = 0; step <= 60; ++step) {
    auto y = kpt::relu(kpt::conv2d(x, w, b, {.stride = 1, .padding = 1}));
    auto diff = kpt::sub(y, target);
    auto loss = kpt::mean(kpt::mul(diff, diff));
    w.zero_grad();
    b.zero_grad();
    loss.backward();
    {
      kpt::no_grad guard;  // plain SGD, in place on the parameters' buffers
      for (auto* p : {&w, &b}) {
        auto g = p->grad().values();
        auto v = p->values();
        for (std::size_t i = 0; i < v.size(); ++i) v[i] -= lr * g[i];
      }
    }
    if (step % 10 == 0) std::printf("step %2d  loss %.6f\n", step, double(loss.item()));
  }

  // The same gradient, checked by central differences in double on the reference backend.
  using D = kpt::tensor<double, kpt::cpu_ref>;
  kpt::rng g(3);
  auto xd = D::empty({2, 3, 7, 9}), wd = D::empty({4, 3, 3, 3});
  for (auto& v : xd.values()) v = g.uniform(-1, 1);
  for (auto& v : wd.values()) v = g.uniform(-1, 1);
  auto check = kpt::gradcheck<kpt::cpu_ref>(
      [](const auto& in) { return kpt::conv2d(in[0], in[1], D{}, {.stride = 1, .padding = 1}); }, {xd, wd});
  std::printf("gradcheck of conv2d: %s (%d coordinates, max relative error %.2e)\n", check.ok ? "pass" : "FAIL",
              check.checked, check.max_rel_error);
  return check.ok ? 0 : 1;
}
