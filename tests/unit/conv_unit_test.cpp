#include "support.hpp"

#include <boost/mpl/list.hpp>

#include <algorithm>
#include <cmath>

#include "kpt/ops/conv.hpp"
#include "kpt/ops/matmul.hpp"
#include "kpt/ops/pointwise.hpp"

using namespace kpt;

namespace {
using backends = boost::mpl::list<cpu_ref, cpu>;

template <class B>
using F = tensor<float, B>;

std::vector<float> values(std::initializer_list<float> v) { return v; }

// True when the exception message contains every part.
template <class E>
auto mentions(std::vector<std::string> parts) {
  return [parts](const E& e) {
    const std::string m = e.what();
    for (const auto& p : parts)
      if (m.find(p) == std::string::npos) {
        BOOST_TEST_MESSAGE("message '" << m << "' lacks '" << p << "'");
        return false;
      }
    return true;
  };
}
}  // namespace

BOOST_AUTO_TEST_SUITE(conv_unit)

BOOST_AUTO_TEST_CASE_TEMPLATE(conv2d_small_by_hand, B, backends) {
  const auto x = F<B>::from({1, 1, 3, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9});
  const auto w = F<B>::from({1, 1, 2, 2}, {1, 2, 3, 4});
  // y[0,0] = 1*1 + 2*2 + 4*3 + 5*4 = 37, and so on.
  BOOST_TEST(conv2d(x, w).to_vector() == values({37, 47, 67, 77}));
  BOOST_TEST(conv2d(x, w).shape() == (shape{1, 1, 2, 2}));
  const auto b = F<B>::from({1}, {10});
  BOOST_TEST(conv2d(x, w, b).to_vector() == values({47, 57, 77, 87}));
  // Padding 1, stride 2, a 3x3 box filter: each output sums the in-range part of its window.
  const auto box = F<B>::ones({1, 1, 3, 3});
  BOOST_TEST(conv2d(x, box, {}, {2, 1}).to_vector() == values({12, 16, 24, 28}));
  // Padding 2: a 1x1 kernel only sees zeros around the image.
  const auto one = F<B>::from({1, 1, 1, 1}, {2});
  const auto p2 = conv2d(x, one, {}, {1, 2});
  BOOST_TEST(p2.shape() == (shape{1, 1, 7, 7}));
  BOOST_TEST(p2.at({0, 0, 0, 0}) == 0.f);
  BOOST_TEST(p2.at({0, 0, 2, 2}) == 2.f);
  BOOST_TEST(p2.at({0, 0, 4, 4}) == 18.f);
}

BOOST_AUTO_TEST_CASE_TEMPLATE(conv2d_channels_by_hand, B, backends) {
  // Two input channels, two outputs: output 0 adds the channels, output 1 subtracts them.
  const auto x = F<B>::from({1, 2, 1, 2}, {1, 2, 10, 20});
  const auto w = F<B>::from({2, 2, 1, 1}, {1, 1, 1, -1});
  const auto b = F<B>::from({2}, {0.5f, -0.5f});
  BOOST_TEST(conv2d(x, w, b).to_vector() == values({11.5f, 22.5f, -9.5f, -18.5f}));
  // Batch of two: each sample on its own.
  const auto x2 = F<B>::from({2, 2, 1, 1}, {1, 10, 2, 20});
  BOOST_TEST(conv2d(x2, w).to_vector() == values({11, -9, 22, -18}));
}

BOOST_AUTO_TEST_CASE_TEMPLATE(conv2d_gradients_by_hand, B, backends) {
  auto x = F<B>::from({1, 1, 3, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9}).requires_grad_();
  auto w = F<B>::from({1, 1, 2, 2}, {1, 2, 3, 4}).requires_grad_();
  auto b = F<B>::from({1}, {10}).requires_grad_();
  auto y = conv2d(x, w, b);
  autograd::backward(y, F<B>::ones(y.shape()));  // d(sum y)
  // dw[i,j] = sum of x over the windows' (i,j) taps; dx = how much weight covers each pixel.
  BOOST_TEST(w.grad().to_vector() == values({12, 16, 24, 28}));
  BOOST_TEST(x.grad().to_vector() == values({1, 3, 2, 4, 10, 6, 3, 7, 4}));
  BOOST_TEST(b.grad().to_vector() == values({4}));
}

// The fused op is the two ops in one: the same sums with the same activation, so the same bits,
// forward and backward (the backward reads the activation's derivative off the output's sign).
BOOST_AUTO_TEST_CASE_TEMPLATE(conv2d_leaky_relu_is_conv2d_then_the_activation, B, backends) {
  for (const double slope : {0.0, 0.1}) {
    BOOST_TEST_CONTEXT("slope " << slope) {
      const auto x0 = test::random_tensor<float, B>({2, 5, 9, 11}, 1), w0 = test::random_tensor<float, B>({7, 5, 3, 3}, 2);
      const auto b0 = test::random_tensor<float, B>({7}, 3);
      auto run = [&](bool fused) {
        auto x = x0.clone().requires_grad_(), w = w0.clone().requires_grad_(), b = b0.clone().requires_grad_();
        auto y = fused ? conv2d_leaky_relu(x, w, b, {1, 1}, slope)
                 : slope == 0 ? relu(conv2d(x, w, b, {1, 1}))
                              : leaky_relu(conv2d(x, w, b, {1, 1}), slope);
        autograd::backward(y, test::random_tensor<float, B>(y.shape(), 4));
        return std::vector<std::vector<float>>{y.to_vector(), x.grad().to_vector(), w.grad().to_vector(),
                                               b.grad().to_vector()};
      };
      const auto fused = run(true), apart = run(false);
      for (std::size_t i = 0; i < fused.size(); ++i) BOOST_TEST(fused[i] == apart[i], boost::test_tools::per_element());
      // Half of the outputs are negative: the activation did something.
      BOOST_TEST(std::count(fused[0].begin(), fused[0].end(), 0.f) > index_t(fused[0].size() / 4) == (slope == 0));
    }
  }
  const auto x = F<B>::zeros({1, 3, 8, 8}), w = F<B>::zeros({4, 3, 3, 3});
  for (const double bad : {-0.1, std::nan("")})
    BOOST_CHECK_EXCEPTION(conv2d_leaky_relu(x, w, {}, {}, bad), value_error,
                          mentions<value_error>({"conv2d_leaky_relu", "slope"}));
}

BOOST_AUTO_TEST_CASE_TEMPLATE(conv1d_by_hand, B, backends) {
  const auto x = F<B>::from({1, 1, 5}, {1, 2, 3, 4, 5});
  const auto w = F<B>::from({1, 1, 3}, {1, 0, -1});
  BOOST_TEST(conv1d(x, w).to_vector() == values({-2, -2, -2}));
  BOOST_TEST(conv1d(x, w, {}, {1, 1}).to_vector() == values({-2, -2, -2, -2, 4}));
  const auto y = conv1d(x, w, F<B>::from({1}, {1}), {2, 1});
  BOOST_TEST(y.shape() == (shape{1, 1, 3}));
  BOOST_TEST(y.to_vector() == values({-1, -1, 5}));
  // Gradient of sum(conv1d(x, w)) to x: each x[l] collects the taps that touch it.
  auto xr = x.clone().requires_grad_();
  auto out = conv1d(xr, w);
  autograd::backward(out, F<B>::ones(out.shape()));
  BOOST_TEST(xr.grad().to_vector() == values({1, 1, 0, -1, -1}));
}

BOOST_AUTO_TEST_CASE_TEMPLATE(matmul_by_hand, B, backends) {
  const auto a = F<B>::from({2, 2}, {1, 2, 3, 4});
  const auto b = F<B>::from({2, 2}, {5, 6, 7, 8});
  BOOST_TEST(matmul(a, b).to_vector() == values({19, 22, 43, 50}));
  // Batched with a shared right operand, and [1, 3] x [3, 1].
  const auto a3 = F<B>::from({2, 1, 2}, {1, 0, 0, 1});
  BOOST_TEST(matmul(a3, b).to_vector() == values({5, 6, 7, 8}));
  BOOST_TEST(matmul(a3, b).shape() == (shape{2, 1, 2}));
  BOOST_TEST(matmul(F<B>::from({1, 3}, {1, 2, 3}), F<B>::from({3, 1}, {4, 5, 6})).to_vector() == values({32}));
  // Gradients of sum(a b): da = 1 b^T, db = a^T 1.
  auto ar = a.clone().requires_grad_(), br = b.clone().requires_grad_();
  auto c = matmul(ar, br);
  autograd::backward(c, F<B>::ones(c.shape()));
  BOOST_TEST(ar.grad().to_vector() == values({11, 15, 11, 15}));
  BOOST_TEST(br.grad().to_vector() == values({4, 4, 6, 6}));
}

BOOST_AUTO_TEST_CASE_TEMPLATE(bad_shapes_name_the_op_and_the_shapes, B, backends) {
  const auto x = F<B>::zeros({1, 3, 8, 8});
  BOOST_CHECK_EXCEPTION(conv2d(x, F<B>::zeros({4, 2, 3, 3})), shape_error,
                        mentions<shape_error>({"conv2d", "[1, 3, 8, 8]", "[4, 2, 3, 3]"}));
  BOOST_CHECK_EXCEPTION(conv2d(F<B>::zeros({3, 8, 8}), F<B>::zeros({4, 3, 3, 3})), shape_error,
                        mentions<shape_error>({"conv2d", "[3, 8, 8]"}));
  BOOST_CHECK_EXCEPTION(conv2d(x, F<B>::zeros({4, 3, 3})), shape_error,
                        mentions<shape_error>({"conv2d", "[4, 3, 3]"}));
  BOOST_CHECK_EXCEPTION(conv2d(x, F<B>::zeros({4, 3, 3, 3}), F<B>::zeros({5})), shape_error,
                        mentions<shape_error>({"conv2d", "bias", "[5]", "[4, 3, 3, 3]"}));
  BOOST_CHECK_EXCEPTION(conv2d(x, F<B>::zeros({4, 3, 11, 3})), shape_error,
                        mentions<shape_error>({"conv2d", "[4, 3, 11, 3]", "[1, 3, 8, 8]"}));
  BOOST_CHECK_EXCEPTION(conv2d(x, F<B>::zeros({4, 3, 3, 3}), {}, {0, 1}), value_error,
                        mentions<value_error>({"conv2d", "stride"}));
  BOOST_CHECK_EXCEPTION(conv2d(x, F<B>::zeros({4, 3, 3, 3}), {}, {1, -1}), value_error,
                        mentions<value_error>({"conv2d", "padding"}));
  BOOST_CHECK_EXCEPTION(conv2d(x, F<B>{}), shape_error, mentions<shape_error>({"conv2d", "undefined"}));
  BOOST_CHECK_EXCEPTION(conv1d(F<B>::zeros({2, 3, 10}), F<B>::zeros({4, 5, 3})), shape_error,
                        mentions<shape_error>({"conv1d", "[2, 3, 10]", "[4, 5, 3]"}));
  BOOST_CHECK_EXCEPTION(conv1d(x, F<B>::zeros({4, 3, 3})), shape_error, mentions<shape_error>({"conv1d", "[1, 3, 8, 8]"}));
  BOOST_CHECK_EXCEPTION(matmul(F<B>::zeros({2, 3}), F<B>::zeros({4, 5})), shape_error,
                        mentions<shape_error>({"matmul", "[2, 3]", "[4, 5]"}));
  BOOST_CHECK_EXCEPTION(matmul(F<B>::zeros({2, 2, 3}), F<B>::zeros({3, 3, 5})), shape_error,
                        mentions<shape_error>({"matmul", "[2, 2, 3]", "[3, 3, 5]", "batch"}));
  BOOST_CHECK_EXCEPTION(matmul(F<B>::zeros({3}), F<B>::zeros({3, 5})), shape_error,
                        mentions<shape_error>({"matmul", "[3]", "[3, 5]"}));
}

BOOST_AUTO_TEST_SUITE_END()
