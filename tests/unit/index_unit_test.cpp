// Hand-computed values and bad inputs for the shape, index, select, loss and grid_sample ops.
#include "support.hpp"

#include <cmath>
#include <limits>

#include "kpt/ops/grid_sample.hpp"
#include "kpt/ops/index.hpp"
#include "kpt/ops/loss.hpp"
#include "kpt/ops/select.hpp"
#include "kpt/ops/shape.hpp"

using namespace kpt;
using F = tensor<float, cpu_ref>;
using D = tensor<double, cpu_ref>;
using I = tensor<std::int64_t, cpu_ref>;

namespace {
// Checks that f throws E and that its message contains every one of `parts`.
template <class E, class Fn>
void expect_error(Fn&& f, std::initializer_list<const char*> parts) {
  bool thrown = false;
  try {
    f();
  } catch (const E& e) {
    thrown = true;
    const std::string m = e.what();
    for (const char* p : parts) BOOST_TEST(m.find(p) != std::string::npos, "'" << p << "' not in: " << m);
  }
  BOOST_TEST(thrown, "no exception thrown");
}
std::vector<float> range_values(int n) {
  std::vector<float> v(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) v[std::size_t(i)] = float(i);
  return v;
}
// Runs the same check on both backends.
template <class Fn>
void on_both(Fn&& f) {
  f(cpu_ref{});
  f(cpu{});
}
}  // namespace

BOOST_AUTO_TEST_SUITE(shape_ops)

BOOST_AUTO_TEST_CASE(reshape_infers_and_shares_the_buffer) {
  auto x = F::from({2, 3}, range_values(6));
  auto y = reshape(x, {3, -1});
  BOOST_TEST(y.shape() == (shape{3, 2}));
  BOOST_TEST(!y.same(x));  // a new handle
  BOOST_TEST(y.data() == x.data());
  BOOST_TEST(reshape(x, {-1}).shape() == (shape{6}));
  BOOST_TEST(reshape(x, shape{1, 6, 1}).shape() == (shape{1, 6, 1}));
  BOOST_TEST(reshape(F::scalar(4), {1, 1}).shape() == (shape{1, 1}));
  BOOST_TEST(reshape(F::from({1}, {4}), std::vector<index_t>{}).rank() == 0);
  // The gradient comes back in the input's shape.
  auto p = D::from({2, 3}, {1, 2, 3, 4, 5, 6}).requires_grad_();
  auto q = reshape(p, {6});
  autograd::backward(q, D::from({6}, {1, 2, 3, 4, 5, 6}));
  BOOST_TEST(p.grad().shape() == (shape{2, 3}));
  BOOST_TEST(p.grad().to_vector() == (std::vector<double>{1, 2, 3, 4, 5, 6}));
}

BOOST_AUTO_TEST_CASE(reshape_bad_inputs) {
  auto x = F::zeros({2, 3});
  expect_error<shape_error>([&] { reshape(x, {4, 2}); }, {"reshape", "[2, 3]", "[4, 2]"});
  expect_error<shape_error>([&] { reshape(x, {4, -1}); }, {"reshape", "[2, 3]", "[4, -1]"});
  expect_error<value_error>([&] { reshape(x, {-1, -1}); }, {"reshape", "more than one -1"});
  expect_error<value_error>([&] { reshape(x, {-2, -3}); }, {"reshape", "negative"});
  expect_error<shape_error>([&] { reshape(x, {1, 1, 1, 1, 2, 3}); }, {"reshape", "at most 5"});
  expect_error<shape_error>([&] { reshape(F{}, {1}); }, {"reshape", "undefined"});
}

BOOST_AUTO_TEST_CASE(permute_and_transpose_values) {
  on_both([](auto b) {
    using B = decltype(b);
    auto x = F::from({2, 3, 4}, range_values(24)).to<B>();
    auto y = permute(x, {2, 0, 1});  // y[k, i, j] = x[i, j, k]
    BOOST_TEST(y.shape() == (shape{4, 2, 3}));
    for (index_t i = 0; i < 2; ++i)
      for (index_t j = 0; j < 3; ++j)
        for (index_t k = 0; k < 4; ++k) BOOST_TEST(y.at({k, i, j}) == x.at({i, j, k}));
    auto t = transpose(F::from({2, 3}, {1, 2, 3, 4, 5, 6}).to<B>(), 0, -1);
    BOOST_TEST(t.shape() == (shape{3, 2}));
    BOOST_TEST(t.to_vector() == (std::vector<float>{1, 4, 2, 5, 3, 6}));
    // Merged axes: [N, C, H, W] -> [N, H, W, C] moves C past the H*W block.
    auto z = permute(F::from({1, 2, 2, 2}, range_values(8)).to<B>(), {0, 2, 3, 1});
    BOOST_TEST(z.to_vector() == (std::vector<float>{0, 4, 1, 5, 2, 6, 3, 7}));
    // int64 tensors are moved too.
    auto iz = permute(I::from({2, 2}, {1, 2, 3, 4}).to<B>(), {1, 0});
    BOOST_TEST(iz.to_vector() == (std::vector<std::int64_t>{1, 3, 2, 4}));
  });
  // The gradient is permuted back.
  auto p = D::from({2, 3}, {1, 2, 3, 4, 5, 6}).requires_grad_();
  autograd::backward(transpose(p, 0, 1), D::from({3, 2}, {10, 40, 20, 50, 30, 60}));
  BOOST_TEST(p.grad().to_vector() == (std::vector<double>{10, 20, 30, 40, 50, 60}));
}

BOOST_AUTO_TEST_CASE(permute_bad_inputs) {
  auto x = F::zeros({2, 3, 4});
  expect_error<value_error>([&] { permute(x, {0, 1}); }, {"permute", "[2, 3, 4]", "rank 3"});
  expect_error<value_error>([&] { permute(x, {0, 1, 1}); }, {"permute", "twice"});
  expect_error<value_error>([&] { permute(x, {0, 1, 3}); }, {"permute", "axis 3", "[2, 3, 4]"});
  expect_error<value_error>([&] { transpose(x, 0, 5); }, {"transpose", "axis 5"});
}

BOOST_AUTO_TEST_CASE(concat_values_and_gradient_split) {
  on_both([](auto b) {
    using B = decltype(b);
    auto a = F::from({2, 2}, {1, 2, 3, 4}).to<B>(), c = F::from({2, 1}, {5, 6}).to<B>();
    BOOST_TEST(concat({a, c}, 1).to_vector() == (std::vector<float>{1, 2, 5, 3, 4, 6}));
    BOOST_TEST(concat({a, c}, -1).shape() == (shape{2, 3}));
    auto r = concat(std::vector{a, F::from({1, 2}, {7, 8}).to<B>()}, 0);
    BOOST_TEST(r.to_vector() == (std::vector<float>{1, 2, 3, 4, 7, 8}));
    BOOST_TEST(concat({a, F::zeros({2, 0}).to<B>()}, 1).to_vector() == a.to_vector());
  });
  auto a = D::from({2, 2}, {1, 2, 3, 4}).requires_grad_(), c = D::from({2, 1}, {5, 6}).requires_grad_();
  auto y = concat({a, c, a}, 1);
  autograd::backward(y, D::from({2, 5}, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10}));
  BOOST_TEST(a.grad().to_vector() == (std::vector<double>{1 + 4, 2 + 5, 6 + 9, 7 + 10}));
  BOOST_TEST(c.grad().to_vector() == (std::vector<double>{3, 8}));
}

BOOST_AUTO_TEST_CASE(concat_bad_inputs) {
  auto a = F::zeros({2, 3}), b = F::zeros({3, 3});
  expect_error<shape_error>([&] { concat({a, b}, 1); }, {"concat", "[3, 3]", "[2, 3]", "axis 1"});
  expect_error<shape_error>([&] { concat({a, F::zeros({2, 3, 1})}, 0); }, {"concat", "[2, 3, 1]"});
  expect_error<value_error>([&] { concat(std::vector<F>{}, 0); }, {"concat", "no tensors"});
  expect_error<value_error>([&] { concat({a, a}, 2); }, {"concat", "axis 2"});
  expect_error<shape_error>([&] { concat({F::scalar(1), F::scalar(2)}, 0); }, {"concat", "scalar"});
  expect_error<shape_error>([&] { concat({a, F{}}, 0); }, {"concat", "tensor 1", "undefined"});
}

BOOST_AUTO_TEST_CASE(slice_values_and_gradient) {
  on_both([](auto b) {
    using B = decltype(b);
    auto x = F::from({2, 4}, range_values(8)).to<B>();
    BOOST_TEST(slice(x, 1, 1, 3).to_vector() == (std::vector<float>{1, 2, 5, 6}));
    BOOST_TEST(slice(x, -1, -2, 4).to_vector() == (std::vector<float>{2, 3, 6, 7}));
    BOOST_TEST(slice(x, 0, 1, 2).to_vector() == (std::vector<float>{4, 5, 6, 7}));
    BOOST_TEST(slice(x, 1, 2, 2).shape() == (shape{2, 0}));
  });
  auto p = D::from({2, 3}, {1, 2, 3, 4, 5, 6}).requires_grad_();
  autograd::backward(slice(p, 1, 1, -1), D::from({2, 1}, {7, 8}));
  BOOST_TEST(p.grad().to_vector() == (std::vector<double>{0, 7, 0, 0, 8, 0}));
}

BOOST_AUTO_TEST_CASE(slice_bad_inputs) {
  auto x = F::zeros({2, 4});
  expect_error<value_error>([&] { slice(x, 1, 3, 2); }, {"slice", "[3, 2)", "[2, 4]"});
  expect_error<value_error>([&] { slice(x, 1, 0, 5); }, {"slice", "[0, 5)"});
  expect_error<value_error>([&] { slice(x, 1, -5, 2); }, {"slice"});
  expect_error<value_error>([&] { slice(x, 2, 0, 1); }, {"slice", "axis 2"});
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(index_ops)

BOOST_AUTO_TEST_CASE(index_select_values_and_scatter_add) {
  on_both([](auto b) {
    using B = decltype(b);
    auto x = F::from({3, 2}, {1, 2, 3, 4, 5, 6}).to<B>();
    auto idx = I::from({4}, {2, 0, 2, 1}).to<B>();
    BOOST_TEST(index_select(x, 0, idx).to_vector() == (std::vector<float>{5, 6, 1, 2, 5, 6, 3, 4}));
    BOOST_TEST(index_select(x, 1, I::from({1}, {1}).to<B>()).to_vector() == (std::vector<float>{2, 4, 6}));
    BOOST_TEST(index_select(x, 0, I::zeros({0}).to<B>()).shape() == (shape{0, 2}));
    auto p = tensor<double, B>::from({3, 2}, {1, 2, 3, 4, 5, 6}).requires_grad_();
    autograd::backward(index_select(p, 0, idx), tensor<double, B>::from({4, 2}, {1, 2, 3, 4, 5, 6, 7, 8}));
    // Row 2 was picked twice: its gradient is the sum.
    BOOST_TEST(p.grad().to_vector() == (std::vector<double>{3, 4, 7, 8, 1 + 5, 2 + 6}));
  });
}

BOOST_AUTO_TEST_CASE(gather_values_and_scatter_add) {
  on_both([](auto b) {
    using B = decltype(b);
    // torch.gather(x, 1, idx): y[i][j] = x[i][idx[i][j]]
    auto x = F::from({2, 3}, {1, 2, 3, 4, 5, 6}).to<B>();
    auto idx = I::from({2, 2}, {2, 2, 0, 1}).to<B>();
    BOOST_TEST(gather(x, 1, idx).to_vector() == (std::vector<float>{3, 3, 4, 5}));
    // axis 0, index smaller than x along the other axis
    BOOST_TEST(gather(x, 0, I::from({1, 2}, {1, 0}).to<B>()).to_vector() == (std::vector<float>{4, 2}));
    auto p = tensor<double, B>::from({2, 3}, {1, 2, 3, 4, 5, 6}).requires_grad_();
    autograd::backward(gather(p, 1, idx), tensor<double, B>::from({2, 2}, {1, 2, 3, 4}));
    BOOST_TEST(p.grad().to_vector() == (std::vector<double>{0, 0, 3, 3, 4, 0}));
    // int64 data
    BOOST_TEST(gather(I::from({3}, {7, 8, 9}).to<B>(), 0, I::from({2}, {2, 0}).to<B>()).to_vector() ==
               (std::vector<std::int64_t>{9, 7}));
  });
}

BOOST_AUTO_TEST_CASE(index_bad_inputs) {
  on_both([](auto b) {
    using B = decltype(b);
    auto x = tensor<float, B>::zeros({3, 2});
    using IB = tensor<std::int64_t, B>;
    expect_error<value_error>([&] { index_select(x, 0, IB::from({2}, {0, 3})); },
                              {"index_select", "index 3", "position 1", "axis 0", "[3, 2]", "0 to 2"});
    expect_error<value_error>([&] { index_select(x, 0, IB::from({1}, {-1})); }, {"index_select", "index -1"});
    expect_error<shape_error>([&] { index_select(x, 0, IB::zeros({1, 1})); }, {"index_select", "1-D", "[1, 1]"});
    expect_error<value_error>([&] { index_select(x, 2, IB::zeros({1})); }, {"index_select", "axis 2"});
    expect_error<value_error>([&] { gather(x, 1, IB::from({1, 1}, {2})); }, {"gather", "index 2", "axis 1"});
    expect_error<shape_error>([&] { gather(x, 1, IB::zeros({3})); }, {"gather", "[3]", "[3, 2]"});
    expect_error<shape_error>([&] { gather(x, 1, IB::zeros({4, 1})); }, {"gather", "[4, 1]", "[3, 2]"});
    expect_error<shape_error>([&] { gather(x, 1, IB{}); }, {"gather", "undefined"});
  });
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(select_ops)

BOOST_AUTO_TEST_CASE(argmax_argmin_values_ties_and_nan) {
  on_both([](auto b) {
    using B = decltype(b);
    auto x = F::from({2, 3}, {1, 3, 3, 5, 0, 0}).to<B>();
    BOOST_TEST(argmax(x, 1).to_vector() == (std::vector<std::int64_t>{1, 0}));  // first of the ties
    BOOST_TEST(argmin(x, 1).to_vector() == (std::vector<std::int64_t>{0, 1}));
    BOOST_TEST(argmax(x, 0).to_vector() == (std::vector<std::int64_t>{1, 0, 0}));
    BOOST_TEST(argmin(x, -2).to_vector() == (std::vector<std::int64_t>{0, 1, 1}));
    BOOST_TEST(argmax(x, 1, true).shape() == (shape{2, 1}));
    BOOST_TEST(argmax(x, 0).shape() == (shape{3}));
    const float nan = std::numeric_limits<float>::quiet_NaN();
    auto y = F::from({4}, {1, nan, 0, nan}).to<B>();
    BOOST_TEST(argmax(y, 0).item() == 1);  // NaN propagates, as torch.argmax / argmin
    BOOST_TEST(argmin(y, 0).item() == 1);
    // argmax over the channel axis of a [N, C, H, W] map
    auto m = F::from({1, 3, 1, 2}, {0, 9, 5, 1, 7, 2}).to<B>();
    BOOST_TEST(argmax(m, 1).to_vector() == (std::vector<std::int64_t>{2, 0}));
    BOOST_TEST(argmax(m, 1).shape() == (shape{1, 1, 2}));
  });
}

BOOST_AUTO_TEST_CASE(topk_sorted_with_ties_and_nan) {
  on_both([](auto b) {
    using B = decltype(b);
    auto x = F::from({2, 5}, {1, 4, 3, 4, 0, 2, 2, 9, 2, 2}).to<B>();
    auto [v, i] = topk(x, 3);
    BOOST_TEST(v.to_vector() == (std::vector<float>{4, 4, 3, 9, 2, 2}));
    BOOST_TEST(i.to_vector() == (std::vector<std::int64_t>{1, 3, 2, 2, 0, 1}));
    auto [vs, is] = topk(x, 2, 1, false);
    BOOST_TEST(vs.to_vector() == (std::vector<float>{0, 1, 2, 2}));
    BOOST_TEST(is.to_vector() == (std::vector<std::int64_t>{4, 0, 0, 1}));
    auto [v0, i0] = topk(x, 1, 0);
    BOOST_TEST(v0.to_vector() == (std::vector<float>{2, 4, 9, 4, 2}));
    BOOST_TEST(i0.to_vector() == (std::vector<std::int64_t>{1, 0, 1, 0, 1}));
    BOOST_TEST(topk(x, 0).first.shape() == (shape{2, 0}));
    // As torch.topk: NaN is the largest value.
    const float nan = std::numeric_limits<float>::quiet_NaN();
    auto y = F::from({5}, {1, nan, 3, 3, 0}).to<B>();
    BOOST_TEST(topk(y, 3, 0, false).second.to_vector() == (std::vector<std::int64_t>{4, 0, 2}));
    BOOST_TEST(topk(y, 2).second.to_vector() == (std::vector<std::int64_t>{1, 2}));
  });
}

BOOST_AUTO_TEST_CASE(topk_values_carry_a_gradient) {
  auto p = D::from({4}, {3, 1, 4, 2}).requires_grad_();
  auto [v, i] = topk(p, 2);
  BOOST_TEST(v.requires_grad());
  autograd::backward(v, D::from({2}, {10, 20}));
  BOOST_TEST(p.grad().to_vector() == (std::vector<double>{20, 0, 10, 0}));
}

BOOST_AUTO_TEST_CASE(select_bad_inputs) {
  auto x = F::zeros({2, 3});
  expect_error<value_error>([&] { topk(x, 4); }, {"topk", "k = 4", "[2, 3]", "0 to 3"});
  expect_error<value_error>([&] { topk(x, -1); }, {"topk", "k = -1"});
  expect_error<value_error>([&] { topk(x, 1, 2); }, {"topk", "axis 2"});
  expect_error<value_error>([&] { argmax(x, 2); }, {"argmax", "axis 2"});
  expect_error<shape_error>([&] { argmin(F::zeros({2, 0}), 1); }, {"argmin", "empty", "[2, 0]"});
  expect_error<shape_error>([&] { argmax(F::scalar(1), 0); }, {"argmax", "scalar"});
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(loss_ops)

BOOST_AUTO_TEST_CASE(cross_entropy_values_and_gradient) {
  on_both([](auto b) {
    using B = decltype(b);
    using DB = tensor<double, B>;
    using IB = tensor<std::int64_t, B>;
    auto l = DB::from({2, 3}, {1, 2, 3, 1, 1, 1}).requires_grad_();
    auto t = IB::from({2}, {2, 0});
    // torch.nn.functional.cross_entropy: mean of log(e+e^2+e^3) - 3 and log 3
    auto loss = cross_entropy(l, t);
    BOOST_TEST(loss.rank() == 0);
    BOOST_TEST(loss.item() == 0.7531091265562451, boost::test_tools::tolerance(1e-12));
    loss.backward();
    const std::vector<double> want = {0.04501528658519022, 0.12236423552739882, -0.1673795221125891,
                                      -0.33333333333333337, 0.16666666666666666, 0.16666666666666666};
    const auto got = l.grad().to_vector();
    for (std::size_t k = 0; k < want.size(); ++k) BOOST_TEST(got[k] == want[k], boost::test_tools::tolerance(1e-12));
    // A 0/1 weight keeps item 0 only; an all-zero weight gives 0.
    BOOST_TEST(cross_entropy(l, t, DB::from({2}, {1, 0})).item() == 0.4076059644443804,
               boost::test_tools::tolerance(1e-12));
    BOOST_TEST(cross_entropy(l, t, DB::zeros({2})).item() == 0.0);
    // Large logits are stable.
    auto big = cross_entropy(DB::from({1, 2}, {1000, 0}), IB::from({1}, {1}));
    BOOST_TEST(big.item() == 1000.0, boost::test_tools::tolerance(1e-12));
  });
}

BOOST_AUTO_TEST_CASE(cross_entropy_over_a_map_is_per_pixel) {
  // [N, C, H, W] logits = [N*H*W, C] logits after moving the classes last.
  auto l = kpt::test::random_tensor<double>({2, 5, 3, 4}, 11, -3, 3);
  auto t = I::empty({2, 3, 4});
  rng g(3);
  for (auto& v : t.values()) v = std::int64_t(g.below(5));
  auto w = kpt::test::random_tensor<double>({2, 3, 4}, 12, 0, 1);
  const double a = cross_entropy(l, t, w).item();
  const double b = cross_entropy(reshape(permute(l, {0, 2, 3, 1}), {-1, 5}), reshape(t, {-1}), reshape(w, {-1})).item();
  BOOST_TEST(a == b, boost::test_tools::tolerance(1e-12));
}

BOOST_AUTO_TEST_CASE(cross_entropy_bad_inputs) {
  auto l = F::zeros({2, 3, 4});
  expect_error<value_error>([&] { cross_entropy(l, I::from({2, 4}, {0, 1, 2, 3, 0, 0, 0, 0})); },
                            {"cross_entropy", "index 3", "3 classes", "[2, 3, 4]"});
  expect_error<value_error>([&] { cross_entropy(l, I::full({2, 4}, -1)); }, {"cross_entropy", "index -1"});
  expect_error<shape_error>([&] { cross_entropy(l, I::zeros({2, 3})); }, {"cross_entropy", "[2, 3]", "[2, 3, 4]"});
  expect_error<shape_error>([&] { cross_entropy(l, I::zeros({2})); }, {"cross_entropy", "[2]", "[2, 3, 4]"});
  expect_error<shape_error>([&] { cross_entropy(l, I::zeros({2, 4}), F::ones({2})); },
                            {"cross_entropy", "item_weight", "[2]", "[2, 4]"});
  expect_error<shape_error>([&] { cross_entropy(F::zeros({3}), I::zeros({3})); }, {"cross_entropy", "[3]"});
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(grid_sample_op)

BOOST_AUTO_TEST_CASE(grid_sample_matches_pytorch) {
  on_both([](auto b) {
    using B = decltype(b);
    using DB = tensor<double, B>;
    auto x = DB::from({1, 1, 2, 2}, {1, 2, 3, 4});
    auto grid = DB::from({1, 1, 7, 2}, {0, 0, -1, -1, 1, 1, 1, -1, 0.3, -0.6, 1.2, 0.1, -1.7, 0.4});
    // torch.nn.functional.grid_sample(x, grid, 'bilinear', 'zeros', align_corners)
    const std::vector<double> want_true = {2.5, 1.0, 4.0, 2.0, 2.05, 2.79, 1.56};
    const std::vector<double> want_false = {2.5, 0.25, 1.0, 0.5, 1.62, 0.96, 0.0};
    const auto yt = grid_sample(x, grid, true).to_vector(), yf = grid_sample(x, grid, false).to_vector();
    for (std::size_t k = 0; k < 7; ++k) {
      BOOST_TEST(yt[k] == want_true[k], boost::test_tools::tolerance(1e-12));
      BOOST_TEST(yf[k] == want_false[k], boost::test_tools::tolerance(1e-12));
    }
    // Gradient to the grid on a 3x4 ramp x = 4 y + x at the point (0.25, -0.5).
    std::vector<double> ramp(12);
    for (int k = 0; k < 12; ++k) ramp[std::size_t(k)] = k;
    auto x2 = DB::from({1, 1, 3, 4}, ramp);
    for (bool ac : {true, false}) {
      auto g = DB::from({1, 1, 1, 2}, {0.25, -0.5}).requires_grad_();
      auto y = grid_sample(x2, g, ac);
      BOOST_TEST(y.item() == (ac ? 3.875 : 3.0), boost::test_tools::tolerance(1e-12));
      autograd::backward(y, DB::ones({1, 1, 1, 1}));
      const auto gg = g.grad().to_vector();
      BOOST_TEST(gg[0] == (ac ? 1.5 : 2.0), boost::test_tools::tolerance(1e-12));
      BOOST_TEST(gg[1] == (ac ? 4.0 : 6.0), boost::test_tools::tolerance(1e-12));
    }
  });
}

BOOST_AUTO_TEST_CASE(grid_sample_far_outside_and_nan_read_zero) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  auto x = D::from({1, 1, 2, 2}, {1, 2, 3, 4});
  auto grid = D::from({1, 1, 3, 2}, {1e30, 0, -1e30, 0, nan, 0});
  BOOST_TEST(grid_sample(x, grid, true).to_vector() == (std::vector<double>{0, 0, 0}));
  BOOST_TEST(grid_sample(x.to<cpu>(), grid.to<cpu>(), false).to_vector() == (std::vector<double>{0, 0, 0}));
}

BOOST_AUTO_TEST_CASE(grid_sample_bad_inputs) {
  auto x = F::zeros({2, 3, 4, 5});
  expect_error<shape_error>([&] { grid_sample(x, F::zeros({2, 1, 7, 3}), true); }, {"grid_sample", "[2, 1, 7, 3]"});
  expect_error<shape_error>([&] { grid_sample(x, F::zeros({1, 1, 7, 2}), true); },
                            {"grid_sample", "N = 2", "[1, 1, 7, 2]", "[2, 3, 4, 5]"});
  expect_error<shape_error>([&] { grid_sample(F::zeros({3, 4, 5}), F::zeros({3, 1, 1, 2}), false); },
                            {"grid_sample", "[N, C, H, W]", "[3, 4, 5]"});
  expect_error<shape_error>([&] { grid_sample(F::zeros({1, 1, 0, 5}), F::zeros({1, 1, 1, 2}), false); },
                            {"grid_sample", "empty"});
}

BOOST_AUTO_TEST_SUITE_END()
