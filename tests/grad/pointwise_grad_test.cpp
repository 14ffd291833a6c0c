// gradcheck of the element-wise maps of one tensor, on cpu_ref and cpu, in double.
//
// Tolerances: the gradcheck defaults (eps 1e-6, rtol 1e-5, atol 1e-7) for every op: all maps are
// smooth on the inputs used, so central differences are accurate to ~1e-9 there. Inputs stay in
// each op's domain: log, sqrt, pow with a fractional exponent and rdiv on [0.5, 2]; abs, relu,
// leaky_relu at least 0.1 away from the kink at 0; clamp at least 0.05 away from its bounds.
#include "support.hpp"

#include "kpt/autograd/gradcheck.hpp"
#include "kpt/ops/binary.hpp"
#include "kpt/ops/pointwise.hpp"

using namespace kpt;
using kpt::test::random_tensor;

namespace {

const std::vector<shape> shapes = {{7}, {3, 5}, {2, 3, 4, 5}, {}, {2, 1, 3, 1, 17}};

// Values in [-hi, -lo] u [lo, hi]: away from a kink at 0.
template <class B>
tensor<double, B> away_from_zero(const shape& s, std::uint64_t seed, double lo = 0.1, double hi = 1.0) {
  auto t = random_tensor<double>(s, seed, -1.0, 1.0);
  for (auto& v : t.values()) v = (v < 0 ? -1.0 : 1.0) * (lo + (hi - lo) * std::abs(v));
  return t.template to<B>();
}

// Values in [-1, 1] nudged at least `margin` away from each listed point.
template <class B>
tensor<double, B> away_from(const shape& s, std::uint64_t seed, std::initializer_list<double> points,
                            double margin = 0.05) {
  auto t = random_tensor<double>(s, seed, -1.0, 1.0);
  for (auto& v : t.values())
    for (double p : points)
      if (std::abs(v - p) < margin) v = p + (v < p ? -margin : margin);
  return t.template to<B>();
}

template <class B, class F>
void check(const char* what, F f, const tensor<double, B>& x) {
  BOOST_TEST_CONTEXT(what << " on " << B::name << ", shape " << x.shape().str()) {
    auto r = gradcheck<B>([&](const auto& in) { return f(in[0]); }, {x});
    BOOST_TEST(r.ok, r.report);
  }
}

template <class B>
void check_all_unary() {
  std::uint64_t seed = 100;
  for (const auto& s : shapes) {
    auto any = random_tensor<double, B>(s, seed++);
    auto pos = random_tensor<double, B>(s, seed++, 0.5, 2.0);
    auto kinked = away_from_zero<B>(s, seed++);
    check("neg", [](auto x) { return neg(x); }, any);
    check("exp", [](auto x) { return exp(x); }, any);
    check("log", [](auto x) { return log(x); }, pos);
    check("sqrt", [](auto x) { return sqrt(x); }, pos);
    check("abs", [](auto x) { return abs(x); }, kinked);
    check("relu", [](auto x) { return relu(x); }, kinked);
    check("leaky_relu 0.01", [](auto x) { return leaky_relu(x); }, kinked);
    check("leaky_relu -0.3", [](auto x) { return leaky_relu(x, -0.3); }, kinked);
    check("sigmoid", [](auto x) { return sigmoid(x * 4.0); }, any);
    check("tanh", [](auto x) { return tanh(x * 3.0); }, any);
    check("pow 2", [](auto x) { return pow(x, 2.0); }, any);
    check("pow 3", [](auto x) { return pow(x, 3.0); }, any);
    check("pow -1", [](auto x) { return pow(x, -1.0); }, pos);
    check("pow 0.5", [](auto x) { return pow(x, 0.5); }, pos);
    check("pow 2.5", [](auto x) { return pow(x, 2.5); }, pos);
    check("pow -1.7", [](auto x) { return pow(x, -1.7); }, pos);
    check("pow 0", [](auto x) { return pow(x, 0.0); }, any);
    check("clamp", [](auto x) { return clamp(x, -0.5, 0.4); }, away_from<B>(s, seed++, {-0.5, 0.4}));
    check("add_scalar", [](auto x) { return add_scalar(x, 0.7); }, any);
    check("sub_scalar", [](auto x) { return sub_scalar(x, 0.7); }, any);
    check("mul_scalar", [](auto x) { return mul_scalar(x, -1.3); }, any);
    check("div_scalar", [](auto x) { return div_scalar(x, 0.3); }, any);
    check("rsub_scalar", [](auto x) { return rsub_scalar(2.0, x); }, any);
    check("rdiv_scalar", [](auto x) { return rdiv_scalar(1.5, x); }, pos);
  }
}

}  // namespace

BOOST_AUTO_TEST_CASE(unary_ops_pass_gradcheck_on_cpu_ref) { check_all_unary<cpu_ref>(); }
BOOST_AUTO_TEST_CASE(unary_ops_pass_gradcheck_on_cpu) { check_all_unary<cpu>(); }

BOOST_AUTO_TEST_CASE(scalar_operators_pass_gradcheck) {
  auto x = random_tensor<double>({3, 4}, 7, 0.5, 2.0);
  check("x + c", [](auto t) { return t + 2.0; }, x);
  check("c + x", [](auto t) { return 2.0 + t; }, x);
  check("x - c", [](auto t) { return t - 2.0; }, x);
  check("c - x", [](auto t) { return 2.0 - t; }, x);
  check("x * c", [](auto t) { return t * 3.0; }, x);
  check("c * x", [](auto t) { return 3.0 * t; }, x);
  check("x / c", [](auto t) { return t / 3.0; }, x);
  check("c / x", [](auto t) { return 3.0 / t; }, x);
  check("-x", [](auto t) { return -t; }, x);
  // a composition, through several saved inputs and outputs
  check("chain", [](auto t) { return sqrt(exp(-t * t) + 1.0) * 2.0 - log(t) / 3.0; }, x.to<cpu>());
}
