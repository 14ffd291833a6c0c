// cpu vs cpu_ref for the element-wise maps of one tensor, forward and backward, in float:
// a SuperPoint feature map (2x64x60x80) and odd sizes for the SIMD tails.
#include "support.hpp"

#include "kpt/ops/pointwise.hpp"

using namespace kpt;
using kpt::test::max_rel_diff;
using kpt::test::random_tensor;

namespace {

using F = tensor<float, cpu_ref>;
using Fc = tensor<float, cpu>;

// y = f(x) and dL/dx for L = sum(y * g) on both backends; both must agree within tol.
template <class Fn>
void compare(const char* what, Fn f, const F& x, std::uint64_t seed, double tol = 1e-5) {
  BOOST_TEST_CONTEXT(what << ", shape " << x.shape().str()) {
    auto xr = x.clone().requires_grad_();
    auto xc = x.to<cpu>().requires_grad_();
    auto yr = f(xr);
    auto yc = f(xc);
    BOOST_TEST(max_rel_diff(yc, yr) <= tol);
    auto g = random_tensor<float>(yr.shape(), seed);
    autograd::backward(yr, g);
    autograd::backward(yc, g.template to<cpu>());
    BOOST_TEST(max_rel_diff(xc.grad(), xr.grad()) <= tol);
  }
}

}  // namespace

BOOST_AUTO_TEST_CASE(unary_ops_cpu_matches_cpu_ref) {
  const std::vector<shape> shapes = {{2, 64, 60, 80}, {3, 7, 13}, {17}, {1}, {}};
  std::uint64_t seed = 1000;
  for (const auto& s : shapes) {
    auto any = random_tensor<float>(s, seed++, -3.0, 3.0);
    auto pos = random_tensor<float>(s, seed++, 0.1, 4.0);
    compare("neg", [](auto x) { return neg(x); }, any, seed++);
    compare("exp", [](auto x) { return exp(x); }, any, seed++);
    compare("log", [](auto x) { return log(x); }, pos, seed++);
    compare("sqrt", [](auto x) { return sqrt(x); }, pos, seed++);
    compare("abs", [](auto x) { return abs(x); }, any, seed++);
    compare("relu", [](auto x) { return relu(x); }, any, seed++);
    compare("leaky_relu", [](auto x) { return leaky_relu(x, 0.2); }, any, seed++);
    compare("sigmoid", [](auto x) { return sigmoid(x); }, any, seed++);
    compare("tanh", [](auto x) { return tanh(x); }, any, seed++);
    compare("pow 2", [](auto x) { return pow(x, 2.0); }, any, seed++);
    compare("pow 3", [](auto x) { return pow(x, 3.0); }, any, seed++);
    compare("pow -1", [](auto x) { return pow(x, -1.0); }, pos, seed++);
    compare("pow 0.5", [](auto x) { return pow(x, 0.5); }, pos, seed++);
    compare("pow 2.5", [](auto x) { return pow(x, 2.5); }, pos, seed++);
    compare("pow -1.5", [](auto x) { return pow(x, -1.5); }, pos, seed++);
    compare("clamp", [](auto x) { return clamp(x, -1.0, 2.0); }, any, seed++);
    compare("add_scalar", [](auto x) { return x + 0.3; }, any, seed++);
    compare("sub_scalar", [](auto x) { return x - 0.3; }, any, seed++);
    compare("mul_scalar", [](auto x) { return x * 1.7; }, any, seed++);
    compare("div_scalar", [](auto x) { return x / 1.7; }, any, seed++);
    compare("rsub_scalar", [](auto x) { return 0.3 - x; }, any, seed++);
    compare("rdiv_scalar", [](auto x) { return 2.0 / x; }, pos, seed++);
  }
}
