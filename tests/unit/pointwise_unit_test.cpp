// Hand-computed values and bad inputs for the pointwise, reduce, softmax and distance ops, on
// both host backends.
#include "support.hpp"

#include <limits>

#include "kpt/ops/binary.hpp"
#include "kpt/ops/distance.hpp"
#include "kpt/ops/pointwise.hpp"
#include "kpt/ops/reduce.hpp"
#include "kpt/ops/softmax.hpp"

using namespace kpt;

namespace {

using Backends = std::tuple<cpu_ref, cpu>;

template <class B>
using D = tensor<double, B>;

template <class T, class B>
void expect_values(const tensor<T, B>& t, std::vector<double> want, double tol = 1e-12) {
  const auto got = t.to_vector();
  BOOST_TEST_REQUIRE(got.size() == want.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    if (std::isnan(want[i])) BOOST_TEST(std::isnan(double(got[i])), "element " << i);
    else if (std::isinf(want[i])) BOOST_TEST(double(got[i]) == want[i], "element " << i);
    else BOOST_TEST(std::abs(double(got[i]) - want[i]) <= tol * std::max(1.0, std::abs(want[i])),
                    "element " << i << ": got " << got[i] << ", want " << want[i]);
  }
}

// The exception of type E whose message contains every one of the parts.
template <class E>
auto says(std::initializer_list<const char*> parts) {
  std::vector<std::string> p(parts.begin(), parts.end());
  return [p](const E& e) {
    const std::string m = e.what();
    for (const auto& s : p)
      if (m.find(s) == std::string::npos) {
        BOOST_TEST_MESSAGE("message was: " << m);
        return false;
      }
    return true;
  };
}

// d(sum(f(x) * g))/dx
template <class B, class F>
D<B> grad_of(F f, const D<B>& x, const D<B>& g) {
  auto xr = x.clone().requires_grad_();
  autograd::backward(f(xr), g);
  return xr.grad();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(pointwise)

BOOST_AUTO_TEST_CASE_TEMPLATE(unary_values, B, Backends) {
  auto x = D<B>::from({5}, {-2.0, -0.5, 0.0, 0.5, 2.0});
  const double e = std::exp(1.0);
  expect_values(neg(x), {2, 0.5, -0.0, -0.5, -2});
  expect_values(-x, {2, 0.5, 0, -0.5, -2});
  expect_values(abs(x), {2, 0.5, 0, 0.5, 2});
  expect_values(relu(x), {0, 0, 0, 0.5, 2});
  expect_values(leaky_relu(x), {-0.02, -0.005, 0, 0.5, 2});
  expect_values(leaky_relu(x, 0.5), {-1, -0.25, 0, 0.5, 2});
  expect_values(clamp(x, -1.0, 1.0), {-1, -0.5, 0, 0.5, 1});
  expect_values(pow(x, 2.0), {4, 0.25, 0, 0.25, 4});
  expect_values(pow(x, 3.0), {-8, -0.125, 0, 0.125, 8});
  expect_values(pow(x, 0.0), {1, 1, 1, 1, 1});
  expect_values(tanh(x), {std::tanh(-2.0), std::tanh(-0.5), 0, std::tanh(0.5), std::tanh(2.0)}, 1e-14);
  expect_values(sigmoid(x), {1 / (1 + e * e), 1 / (1 + std::sqrt(e)), 0.5, 1 / (1 + 1 / std::sqrt(e)),
                             1 / (1 + 1 / (e * e))}, 1e-14);
  auto p = D<B>::from({4}, {0.25, 1.0, 4.0, 9.0});
  expect_values(sqrt(p), {0.5, 1, 2, 3});
  expect_values(pow(p, 0.5), {0.5, 1, 2, 3});
  expect_values(pow(p, -0.5), {2, 1, 0.5, 1.0 / 3});
  expect_values(pow(p, 1.5), {0.125, 1, 8, 27}, 1e-14);
  expect_values(pow(p, -1.0), {4, 1, 0.25, 1.0 / 9});
  expect_values(exp(D<B>::from({3}, {0.0, 1.0, -1.0})), {1, e, 1 / e}, 1e-14);
  expect_values(log(D<B>::from({3}, {1.0, e, 0.0})), {0, 1, -INFINITY}, 1e-14);
  expect_values(log(D<B>::from({1}, {-1.0})), {NAN});
  expect_values(sqrt(D<B>::from({1}, {-1.0})), {NAN});
}

BOOST_AUTO_TEST_CASE_TEMPLATE(pow_of_zero, B, Backends) {
  auto z = D<B>::from({1}, {0.0});
  expect_values(pow(z, 0.0), {1});
  expect_values(pow(z, 2.0), {0});
  expect_values(pow(z, 2.5), {0});
  expect_values(pow(z, -1.0), {INFINITY});
  expect_values(pow(z, -2.5), {INFINITY});
  expect_values(pow(D<B>::from({1}, {-2.0}), 2.5), {NAN});
}

BOOST_AUTO_TEST_CASE_TEMPLATE(nan_passes_through_relu_and_clamp, B, Backends) {
  auto x = D<B>::from({2}, {NAN, -1.0});
  expect_values(relu(x), {NAN, 0});
  expect_values(clamp(x, 0.0, 1.0), {NAN, 0});
}

BOOST_AUTO_TEST_CASE_TEMPLATE(scalar_ops_and_operators, B, Backends) {
  auto x = D<B>::from({3}, {1.0, 2.0, 4.0});
  expect_values(add_scalar(x, 1.5), {2.5, 3.5, 5.5});
  expect_values(sub_scalar(x, 1.5), {-0.5, 0.5, 2.5});
  expect_values(mul_scalar(x, -2.0), {-2, -4, -8});
  expect_values(div_scalar(x, 4.0), {0.25, 0.5, 1});
  expect_values(rsub_scalar(1.0, x), {0, -1, -3});
  expect_values(rdiv_scalar(2.0, x), {2, 1, 0.5});
  expect_values(x + 1, {2, 3, 5});  // an int converts to double
  expect_values(1.0 + x, {2, 3, 5});
  expect_values(x - 1.0, {0, 1, 3});
  expect_values(1.0 - x, {0, -1, -3});
  expect_values(x * 3.0, {3, 6, 12});
  expect_values(3.0 * x, {3, 6, 12});
  expect_values(x / 2.0, {0.5, 1, 2});
  expect_values(8.0 / x, {8, 4, 2});
  expect_values(2.0f * tensor<float, B>::from({2}, {1.f, 2.f}), {2, 4});
}

BOOST_AUTO_TEST_CASE_TEMPLATE(unary_gradients_by_hand, B, Backends) {
  auto x = D<B>::from({4}, {-2.0, -0.5, 0.5, 2.0});
  auto g = D<B>::from({4}, {1.0, 2.0, 3.0, 4.0});
  expect_values(grad_of([](auto t) { return relu(t); }, x, g), {0, 0, 3, 4});
  expect_values(grad_of([](auto t) { return leaky_relu(t, 0.1); }, x, g), {0.1, 0.2, 3, 4});
  // Slopes >= 0 keep the output for backward, negative ones the input (ops/pointwise.hpp)
  expect_values(grad_of([](auto t) { return leaky_relu(t, 0.0); }, x, g), {0, 0, 3, 4});
  expect_values(grad_of([](auto t) { return leaky_relu(t, -0.5); }, x, g), {-0.5, -1, 3, 4});
  expect_values(grad_of([](auto t) { return abs(t); }, x, g), {-1, -2, 3, 4});
  expect_values(grad_of([](auto t) { return clamp(t, -0.5, 1.0); }, x, g), {0, 2, 3, 0});  // bounds included
  expect_values(grad_of([](auto t) { return pow(t, 3.0); }, x, g), {12, 1.5, 2.25, 48});
  expect_values(grad_of([](auto t) { return pow(t, 0.0); }, x, g), {0, 0, 0, 0});
  expect_values(grad_of([](auto t) { return 2.0 / t; }, x, g), {-0.5, -16, -24, -2});
  expect_values(grad_of([](auto t) { return 1.0 - t * 3.0; }, x, g), {-3, -6, -9, -12});
  // relu and abs at exactly 0: gradient 0, as torch
  auto z = D<B>::from({1}, {0.0}), one = D<B>::from({1}, {1.0});
  expect_values(grad_of([](auto t) { return relu(t); }, z, one), {0});
  expect_values(grad_of([](auto t) { return abs(t); }, z, one), {0});
  expect_values(grad_of([](auto t) { return leaky_relu(t, 0.1); }, z, one), {0.1});  // the slope, as torch
}

// Where relu, clamp and pow(x, 0) are flat, an infinite incoming gradient gives 0, not inf * 0 =
// NaN: torch masks these gradients (clamp_backward and threshold_backward select). KP2D's
// sqrt(2 - 2 * clamp(dot, -1, 1)) sends an infinite gradient into the clamp wherever rounding puts
// two equal unit descriptors' dot product above 1.
BOOST_AUTO_TEST_CASE_TEMPLATE(flat_regions_stop_infinite_gradients, B, Backends) {
  auto x = D<B>::from({3}, {-2.0, 0.5, 1.5});
  auto g = D<B>::from({3}, {INFINITY, 1.0, -INFINITY});
  expect_values(grad_of([](auto t) { return relu(t - 1.0); }, x, g), {0, 0, -INFINITY});
  expect_values(grad_of([](auto t) { return clamp(t, -1.0, 1.0); }, x, g), {0, 1, 0});
  expect_values(grad_of([](auto t) { return pow(t, 0.0); }, x, g), {0, 0, 0});
  // the pattern itself: equal unit vectors whose dot product rounds above 1
  auto dot = D<B>::from({1}, {1.0 + 1e-15}).requires_grad_();
  autograd::backward(sqrt(rsub_scalar(2.0, mul_scalar(clamp(dot, -1.0, 1.0), 2.0))), D<B>::from({1}, {1.0}));
  expect_values(dot.grad(), {0});
}

BOOST_AUTO_TEST_CASE(bad_pointwise_inputs) {
  using T = tensor<float, cpu_ref>;
  BOOST_CHECK_EXCEPTION(clamp(T::zeros({2}), 1.0, 0.0), value_error, says<value_error>({"clamp", "lo (1)", "hi (0)"}));
  BOOST_CHECK_EXCEPTION(exp(T{}), shape_error, says<shape_error>({"exp", "undefined"}));
  BOOST_CHECK_EXCEPTION(T{} * 2.0, shape_error, says<shape_error>({"mul_scalar", "undefined"}));
  BOOST_CHECK_EXCEPTION(pow(T::zeros({2}), NAN), value_error, says<value_error>({"pow", "NaN"}));
  BOOST_CHECK_EXCEPTION(leaky_relu(T::zeros({2}), INFINITY), value_error, says<value_error>({"leaky_relu", "slope"}));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(reduce)

BOOST_AUTO_TEST_CASE_TEMPLATE(sum_and_mean_values, B, Backends) {
  auto x = D<B>::from({2, 3}, {1, 2, 3, 4, 5, 6});
  auto s = sum(x);
  BOOST_TEST(s.rank() == 0);
  BOOST_TEST(s.item() == 21.0);
  BOOST_TEST(mean(x).item() == 3.5);
  expect_values(sum(x, {0}), {5, 7, 9});
  expect_values(sum(x, {-1}), {6, 15});
  BOOST_TEST(sum(x, {1}, true).shape() == (shape{2, 1}));
  BOOST_TEST(sum(x, {0, 1}).shape() == shape{});
  expect_values(mean(x, {1}), {2, 5});
  expect_values(mean(x, std::vector<int>{0}, true), {2.5, 3.5, 4.5});
  BOOST_TEST(mean(x, {0}, true).shape() == (shape{1, 3}));
  auto y = D<B>::from({2, 2, 2}, {1, 2, 3, 4, 5, 6, 7, 8});
  expect_values(sum(y, {0, 2}), {1 + 2 + 5 + 6, 3 + 4 + 7 + 8});
  BOOST_TEST(sum(y, {0, 2}, true).shape() == (shape{1, 2, 1}));
  // mean over nothing is NaN, as torch
  BOOST_TEST(std::isnan(mean(D<B>::zeros({0, 3}), {0}).to_vector()[0]));
}

BOOST_AUTO_TEST_CASE_TEMPLATE(sum_and_mean_gradients, B, Backends) {
  auto x = D<B>::from({2, 3}, {1, 2, 3, 4, 5, 6});
  expect_values(grad_of([](auto t) { return sum(t, {0}); }, x, D<B>::from({3}, {1, 2, 3})), {1, 2, 3, 1, 2, 3});
  expect_values(grad_of([](auto t) { return mean(t, {1}, true); }, x, D<B>::from({2, 1}, {3, 6})),
                {1, 1, 1, 2, 2, 2});
  expect_values(grad_of([](auto t) { return mean(t); }, x, D<B>::scalar(6)), {1, 1, 1, 1, 1, 1});
}

BOOST_AUTO_TEST_CASE_TEMPLATE(max_values_and_first_maximum_gradient, B, Backends) {
  auto x = D<B>::from({2, 3}, {1, 7, 7, 4, 2, 4});
  expect_values(max(x, 1), {7, 4});
  expect_values(max(x, 0), {4, 7, 7});
  BOOST_TEST(max(x, -1, true).shape() == (shape{2, 1}));
  // ties: the whole gradient goes to the first maximum
  expect_values(grad_of([](auto t) { return max(t, 1); }, x, D<B>::from({2}, {10, 20})), {0, 10, 0, 20, 0, 0});
  expect_values(grad_of([](auto t) { return max(t, 0); }, x, D<B>::from({3}, {1, 2, 3})), {0, 2, 3, 1, 0, 0});
  // NaN is the maximum
  expect_values(max(D<B>::from({4}, {1, NAN, 5, NAN}), 0), {NAN});
  // long rows and columns through the SIMD paths
  auto big = D<B>::zeros({3, 40});
  big.at({1, 33}) = 5;
  big.at({1, 35}) = 5;
  big.at({2, 39}) = -1;
  expect_values(max(big, 1), {0, 5, 0});
  auto gb = grad_of([](auto t) { return max(t, 1); }, big, D<B>::ones({3}));
  BOOST_TEST(gb.at({1, 33}) == 1.0);
  BOOST_TEST(gb.at({1, 35}) == 0.0);
  BOOST_TEST(gb.at({0, 0}) == 1.0);
  auto gc = grad_of([](auto t) { return max(t, 0); }, big, D<B>::ones({40}));
  BOOST_TEST(gc.at({0, 33}) == 0.0);
  BOOST_TEST(gc.at({1, 33}) == 1.0);
  BOOST_TEST(gc.at({0, 39}) == 1.0);
}

BOOST_AUTO_TEST_CASE(bad_reduce_inputs) {
  using T = tensor<float, cpu_ref>;
  auto x = T::zeros({2, 3});
  BOOST_CHECK_EXCEPTION(sum(x, {2}), value_error, says<value_error>({"sum", "axis 2", "[2, 3]"}));
  BOOST_CHECK_EXCEPTION(mean(x, {0, -2}), value_error, says<value_error>({"mean", "more than once", "[2, 3]"}));
  BOOST_CHECK_EXCEPTION(sum(x, std::vector<int>{}), value_error, says<value_error>({"sum", "empty"}));
  BOOST_CHECK_EXCEPTION(max(x, -3), value_error, says<value_error>({"max", "axis -3", "[2, 3]"}));
  BOOST_CHECK_EXCEPTION(max(T::zeros({2, 0}), 1), shape_error, says<shape_error>({"max", "[2, 0]", "empty"}));
  BOOST_CHECK_EXCEPTION(sum(T{}), shape_error, says<shape_error>({"sum", "undefined"}));
  BOOST_CHECK_EXCEPTION(max(T{}, 0), shape_error, says<shape_error>({"max", "undefined"}));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(softmax_ops)

BOOST_AUTO_TEST_CASE_TEMPLATE(softmax_values, B, Backends) {
  auto x = D<B>::from({2, 3}, {0, 1, 2, 1000, 1001, 1002});  // the second row overflows exp unless shifted
  const double s = 1 + std::exp(1.0) + std::exp(2.0);
  const std::vector<double> row = {1 / s, std::exp(1.0) / s, std::exp(2.0) / s};
  expect_values(softmax(x, 1), {row[0], row[1], row[2], row[0], row[1], row[2]}, 1e-14);
  const double ls = std::log(s);
  expect_values(log_softmax(x, -1), {-ls, 1 - ls, 2 - ls, -ls, 1 - ls, 2 - ls}, 1e-13);
  // along axis 0: each column is softmax of (a, a + 1000)
  auto c = softmax(x, 0).to_vector();
  BOOST_TEST(std::abs(c[0] - 0.0) < 1e-300);
  BOOST_TEST(c[3] == 1.0);
  // backward by hand: softmax of two equal logits is (1/2, 1/2); d/dx0 of y0 = 1/4
  auto two = D<B>::from({1, 2}, {3.0, 3.0});
  expect_values(grad_of([](auto t) { return softmax(t, 1); }, two, D<B>::from({1, 2}, {1.0, 0.0})), {0.25, -0.25});
  expect_values(grad_of([](auto t) { return log_softmax(t, 1); }, two, D<B>::from({1, 2}, {1.0, 0.0})), {0.5, -0.5});
  // a long row and strided columns sum to one
  auto big = kpt::test::random_tensor<double, B>({3, 70, 5}, 9, -30.0, 30.0);
  auto sm = sum(softmax(big, 1), {1});
  for (double v : sm.to_vector()) BOOST_TEST(std::abs(v - 1.0) < 1e-14);
}

BOOST_AUTO_TEST_CASE(bad_softmax_inputs) {
  using T = tensor<float, cpu_ref>;
  BOOST_CHECK_EXCEPTION(softmax(T::zeros({2, 3}), 2), value_error, says<value_error>({"softmax", "axis 2", "[2, 3]"}));
  BOOST_CHECK_EXCEPTION(log_softmax(T{}, 0), shape_error, says<shape_error>({"log_softmax", "undefined"}));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(distance)

BOOST_AUTO_TEST_CASE_TEMPLATE(l2_normalize_values, B, Backends) {
  auto x = D<B>::from({2, 2}, {3, 4, 0, 0});
  expect_values(l2_normalize(x, 1), {0.6, 0.8, 0, 0});  // a zero row stays zero (eps)
  expect_values(l2_normalize(x, 0), {1, 1, 0, 0});
  expect_values(l2_normalize(x, 1, 10.0), {0.3, 0.4, 0, 0});  // norm 5 < eps 10: divided by eps
  // gradient: (g - y (g.y)) / |x|; for g = (1, 0): ((1 - 0.36) / 5, -0.48 / 5)
  expect_values(grad_of([](auto t) { return l2_normalize(t, 1); }, x, D<B>::from({2, 2}, {1, 0, 1, 1})),
                {0.128, -0.096, 1e12, 1e12}, 1e-12);
  auto gz = grad_of([](auto t) { return l2_normalize(t, 1); }, x, D<B>::from({2, 2}, {1, 0, 0, 0}));
  for (double v : gz.to_vector()) BOOST_TEST(std::isfinite(v));
}

BOOST_AUTO_TEST_CASE_TEMPLATE(pairwise_distance_values_and_zero_distance_gradient, B, Backends) {
  auto a = D<B>::from({2, 2}, {0, 0, 3, 4});
  auto b = D<B>::from({1, 2}, {0, 0});
  auto d = pairwise_distance(a, b);
  BOOST_TEST(d.shape() == (shape{2, 1}));
  expect_values(d, {0, 5});
  // da_0 gets nothing from the zero distance (torch.cdist's choice), db gets only -(a_1 - b)/5
  auto ar = a.clone().requires_grad_(), br = b.clone().requires_grad_();
  sum(pairwise_distance(ar, br)).backward();
  expect_values(ar.grad(), {0, 0, 0.6, 0.8});
  expect_values(br.grad(), {-0.6, -0.8});
  // batched
  auto ab = D<B>::from({2, 1, 3}, {1, 2, 2, 0, 0, 0});
  auto bb = D<B>::from({2, 2, 3}, {1, 2, 2, 0, 0, 0, 1, 0, 0, 0, 3, 4});
  expect_values(pairwise_distance(ab, bb), {0, 3, 1, 5});
  // a point against itself: all distances of pairwise_distance(a, a) on the diagonal are 0
  auto p = kpt::test::random_tensor<double, B>({6, 4}, 3).requires_grad_();
  sum(pairwise_distance(p, p)).backward();
  for (double v : p.grad().to_vector()) BOOST_TEST(std::isfinite(v));
}

BOOST_AUTO_TEST_CASE(bad_distance_inputs) {
  using T = tensor<float, cpu_ref>;
  BOOST_CHECK_EXCEPTION(pairwise_distance(T::zeros({3, 4}), T::zeros({5, 3})), shape_error,
                        says<shape_error>({"pairwise_distance", "[3, 4]", "[5, 3]", "feature"}));
  BOOST_CHECK_EXCEPTION(pairwise_distance(T::zeros({2, 3, 4}), T::zeros({5, 4})), shape_error,
                        says<shape_error>({"pairwise_distance", "[2, 3, 4]", "[5, 4]"}));
  BOOST_CHECK_EXCEPTION(pairwise_distance(T::zeros({2, 3, 4}), T::zeros({3, 5, 4})), shape_error,
                        says<shape_error>({"pairwise_distance", "batch", "[2, 3, 4]", "[3, 5, 4]"}));
  BOOST_CHECK_EXCEPTION(pairwise_distance(T::zeros({4}), T::zeros({4})), shape_error,
                        says<shape_error>({"pairwise_distance", "[4]"}));
  BOOST_CHECK_EXCEPTION(l2_normalize(T::zeros({2, 3}), 1, -1.0), value_error, says<value_error>({"l2_normalize", "eps"}));
  BOOST_CHECK_EXCEPTION(l2_normalize(T::zeros({2, 3}), 3), value_error,
                        says<value_error>({"l2_normalize", "axis 3", "[2, 3]"}));
}

BOOST_AUTO_TEST_SUITE_END()
