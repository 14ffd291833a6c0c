// cpu vs cpu_ref for sum, mean and max (forward and backward) in float on SuperPoint-shaped
// inputs and odd sizes.
#include "support.hpp"

#include "kpt/ops/reduce.hpp"

using namespace kpt;
using kpt::test::max_rel_diff;
using kpt::test::random_tensor;

namespace {

using F = tensor<float, cpu_ref>;

template <class Fn>
void compare(const std::string& what, Fn f, const F& x, std::uint64_t seed) {
  BOOST_TEST_CONTEXT(what << ", shape " << x.shape().str()) {
    auto xr = x.clone().requires_grad_();
    auto xc = x.to<cpu>().requires_grad_();
    auto yr = f(xr);
    auto yc = f(xc);
    BOOST_TEST(yc.shape() == yr.shape());
    BOOST_TEST(max_rel_diff(yc, yr) <= 1e-5);
    auto g = random_tensor<float>(yr.shape(), seed);
    autograd::backward(yr, g);
    autograd::backward(yc, g.template to<cpu>());
    BOOST_TEST(max_rel_diff(xc.grad(), xr.grad()) <= 1e-5);
  }
}

}  // namespace

BOOST_AUTO_TEST_CASE(reductions_cpu_match_cpu_ref) {
  const std::vector<shape> shapes = {{2, 64, 60, 80}, {3, 7, 13}, {2, 3, 5, 7, 9}, {17}};
  std::uint64_t seed = 2000;
  for (const auto& s : shapes) {
    auto x = random_tensor<float>(s, seed++);
    compare("sum", [](auto t) { return sum(t); }, x, seed++);
    compare("mean", [](auto t) { return mean(t); }, x, seed++);
    for (int a = 0; a < s.rank(); ++a) {
      const std::string ax = " axis " + std::to_string(a);
      compare("sum" + ax, [a](auto t) { return sum(t, {a}); }, x, seed++);
      compare("mean" + ax, [a](auto t) { return mean(t, {a}, true); }, x, seed++);
      compare("max" + ax, [a](auto t) { return max(t, a); }, x, seed++);
    }
    if (s.rank() >= 3) {
      compare("sum {0, 2}", [](auto t) { return sum(t, {0, 2}); }, x, seed++);
      compare("mean {-1, -2}", [](auto t) { return mean(t, {-1, -2}); }, x, seed++);
      compare("sum {0, -1}", [](auto t) { return sum(t, {0, -1}, true); }, x, seed++);
    }
  }
}

BOOST_AUTO_TEST_CASE(max_picks_the_same_first_maximum_on_both_backends) {
  // Few distinct values: many ties, so the position matters (the gradient goes to the first).
  auto x = random_tensor<float>({2, 64, 60, 80}, 77);
  for (auto& v : x.values()) v = std::round(v * 2.0f);
  for (int a = 0; a < 4; ++a) {
    auto xr = x.clone().requires_grad_();
    auto xc = x.to<cpu>().requires_grad_();
    auto yr = max(xr, a);
    auto yc = max(xc, a);
    BOOST_TEST(max_rel_diff(yc, yr) == 0.0);
    autograd::backward(yr, F::ones(yr.shape()));
    autograd::backward(yc, tensor<float, cpu>::ones(yc.shape()));
    BOOST_TEST(max_rel_diff(xc.grad(), xr.grad()) == 0.0, "axis " << a);
  }
}
