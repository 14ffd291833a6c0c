// Hand-computed values, running-stat updates and bad inputs of max_pool2d, batch_norm,
// instance_norm, dropout, dropout2d, pixel_shuffle and space_to_depth.
#include "support.hpp"

#include <cmath>

#include "kpt/ops/dropout.hpp"
#include "kpt/ops/norm.hpp"
#include "kpt/ops/pool.hpp"
#include "kpt/ops/shuffle.hpp"

using namespace kpt;
using T = tensor<float, cpu_ref>;
using Tc = tensor<float, cpu>;

namespace {
// True when f throws E whose message contains every one of the parts.
template <class E, class F>
bool throws_with(F f, std::initializer_list<const char*> parts) {
  try {
    f();
  } catch (const E& e) {
    const std::string m = e.what();
    for (const char* p : parts)
      if (m.find(p) == std::string::npos) {
        BOOST_TEST_MESSAGE("message without '" << p << "': " << m);
        return false;
      }
    return true;
  } catch (...) {
    return false;
  }
  return false;
}

std::vector<float> iota_values(index_t n) {
  std::vector<float> v(static_cast<std::size_t>(n));
  for (index_t i = 0; i < n; ++i) v[std::size_t(i)] = float(i);
  return v;
}

void check_close(const std::vector<float>& got, const std::vector<float>& want, double tol = 1e-5) {
  BOOST_REQUIRE_EQUAL(got.size(), want.size());
  for (std::size_t i = 0; i < got.size(); ++i)
    BOOST_TEST(std::abs(got[i] - want[i]) <= tol, "element " << i << ": " << got[i] << " vs " << want[i]);
}
}  // namespace

BOOST_AUTO_TEST_SUITE(layers_pool)

BOOST_AUTO_TEST_CASE(max_pool2d_values) {
  auto x = T::from({1, 1, 4, 4}, iota_values(16));
  BOOST_TEST(max_pool2d(x, 2).to_vector() == (std::vector<float>{5, 7, 13, 15}));
  BOOST_TEST(max_pool2d(x, 3, 2, 1).to_vector() == (std::vector<float>{5, 7, 13, 15}));
  BOOST_TEST(max_pool2d(x, 3, 1, 0).to_vector() == (std::vector<float>{10, 11, 14, 15}));
  // 5x5 with stride 2: the last column and row are dropped (floor), as in PyTorch.
  auto x5 = T::from({1, 1, 5, 5}, iota_values(25));
  BOOST_TEST(max_pool2d(x5, 2).to_vector() == (std::vector<float>{6, 8, 16, 18}));
  BOOST_TEST(max_pool2d(x5.to<cpu>(), 2).to_vector() == (std::vector<float>{6, 8, 16, 18}));
  // Padding is -inf, never 0: all-negative inputs stay negative.
  auto neg = T::full({1, 1, 2, 2}, -3.f);
  BOOST_TEST(max_pool2d(neg, 3, 1, 1).to_vector() == (std::vector<float>(4, -3.f)));
  BOOST_TEST(max_pool2d(neg.to<cpu>(), 3, 1, 1).to_vector() == (std::vector<float>(4, -3.f)));
}

BOOST_AUTO_TEST_CASE(max_pool2d_gradient_goes_to_the_first_maximum) {
  for (int backend = 0; backend < 2; ++backend) {
    // Equal values everywhere: each window sends its gradient to its top-left tap.
    auto check = [](auto x) {
      x.requires_grad_();
      auto y = max_pool2d(x, 2);
      autograd::backward(y, decltype(x)::ones(y.shape()));
      BOOST_TEST(x.grad().to_vector() == (std::vector<float>{1, 0, 1, 0, 0, 0, 0, 0}));
    };
    if (backend == 0) check(T::ones({1, 1, 2, 4}));
    else check(Tc::ones({1, 1, 2, 4}));
  }
  // Kernel 1 is the identity.
  auto x = T::from({1, 1, 1, 3}, {1, 3, 2}).requires_grad_();
  auto y = max_pool2d(x, 1, 1, 0);
  autograd::backward(y, T::ones(y.shape()));
  BOOST_TEST(x.grad().to_vector() == (std::vector<float>{1, 1, 1}));
  // Overlapping windows add up: kernel 2, stride 1: both windows have their maximum 3 at x[1].
  auto x2 = T::from({1, 1, 2, 3}, {1, 3, 2, 0, 0, 0}).requires_grad_();
  auto y2 = max_pool2d(x2, 2, 1, 0);
  BOOST_TEST(y2.to_vector() == (std::vector<float>{3, 3}));
  autograd::backward(y2, T::ones(y2.shape()));
  BOOST_TEST(x2.grad().to_vector() == (std::vector<float>{0, 2, 0, 0, 0, 0}));
}

BOOST_AUTO_TEST_CASE(max_pool2d_propagates_nan) {
  // As PyTorch: a window holding a NaN gives NaN, and its gradient goes to the NaN.
  std::vector<float> v(2 * 40, 1.f);
  v[5] = std::nanf("");
  auto check = [&](auto x) {
    x.requires_grad_();
    auto y = max_pool2d(x, 2);  // [1, 1, 1, 20]
    for (index_t i = 0; i < 20; ++i) BOOST_TEST(std::isnan(y.data()[i]) == (i == 2), "output " << i);
    autograd::backward(y, decltype(x)::ones(y.shape()));
    BOOST_TEST(x.grad().data()[5] == 1.f);
  };
  check(T::from({1, 1, 2, 40}, v));
  check(Tc::from({1, 1, 2, 40}, v));
}

BOOST_AUTO_TEST_CASE(max_pool2d_bad_inputs) {
  auto x = T::zeros({1, 2, 4, 4});
  BOOST_TEST(throws_with<shape_error>([&] { max_pool2d(T::zeros({2, 4, 4}), 2); }, {"max_pool2d", "[2, 4, 4]"}));
  BOOST_TEST(throws_with<value_error>([&] { max_pool2d(x, 0); }, {"max_pool2d", "kernel"}));
  BOOST_TEST(throws_with<value_error>([&] { max_pool2d(x, 2, -1); }, {"max_pool2d", "stride"}));
  BOOST_TEST(throws_with<value_error>([&] { max_pool2d(x, 2, 2, 2); }, {"max_pool2d", "padding"}));
  BOOST_TEST(throws_with<shape_error>([&] { max_pool2d(x, 5); }, {"max_pool2d", "[1, 2, 4, 4]", "kernel 5"}));
  BOOST_TEST(throws_with<shape_error>([&] { max_pool2d(T{}, 2); }, {"max_pool2d", "undefined"}));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(layers_norm)

BOOST_AUTO_TEST_CASE(batch_norm_training_values_and_running_update) {
  for (int backend = 0; backend < 2; ++backend) {
    auto run = [](auto x, auto w, auto b, auto rm, auto rv) {
      // Channel 0 holds 1, 3 (mean 2, biased var 1, unbiased 2); channel 1 holds 2, 6 (4; 4; 8).
      auto y = batch_norm(x, w, b, rm, rv, {.training = true, .momentum = 0.1, .eps = 1e-5});
      const double i0 = 1 / std::sqrt(1 + 1e-5), i1 = 1 / std::sqrt(4 + 1e-5);
      check_close(y.to_vector(), {float(-1 * i0 * 2 + 1), float(-2 * i1 * 3 - 1), float(1 * i0 * 2 + 1),
                                  float(2 * i1 * 3 - 1)});
      // running = 0.9 * running + 0.1 * batch, the variance unbiased.
      check_close(rm.to_vector(), {0.9f * 0.5f + 0.1f * 2, 0.9f * 1 + 0.1f * 4});
      check_close(rv.to_vector(), {0.9f * 2 + 0.1f * 2, 0.9f * 3 + 0.1f * 8});
    };
    auto x = T::from({2, 2}, {1, 2, 3, 6});
    auto w = T::from({2}, {2, 3}), b = T::from({2}, {1, -1});
    auto rm = T::from({2}, {0.5, 1}), rv = T::from({2}, {2, 3});
    if (backend == 0) run(x, w, b, rm, rv);
    else run(x.to<cpu>(), w.to<cpu>(), b.to<cpu>(), rm.to<cpu>(), rv.to<cpu>());
  }
}

BOOST_AUTO_TEST_CASE(batch_norm_eval_uses_running_stats_and_leaves_them_alone) {
  auto x = T::from({2, 2}, {1, 2, 3, 6});
  auto w = T::from({2}, {2, 3}), b = T::from({2}, {1, -1});
  auto rm = T::from({2}, {0.5, 1}), rv = T::from({2}, {2, 3});
  auto y = batch_norm(x, w, b, rm, rv, {.training = false});
  // Values from torch.nn.functional.batch_norm(training=False).
  check_close(y.to_vector(), {1.7071049f, 0.7320478f, 4.5355248f, 7.6602392f});
  BOOST_TEST(rm.to_vector() == (std::vector<float>{0.5f, 1.f}));
  BOOST_TEST(rv.to_vector() == (std::vector<float>{2.f, 3.f}));
  auto rmc = rm.to<cpu>(), rvc = rv.to<cpu>();
  check_close(batch_norm(x.to<cpu>(), w.to<cpu>(), b.to<cpu>(), rmc, rvc, {.training = false}).to_vector(),
              y.to_vector());
  // Eval without running stats falls back to batch statistics (as PyTorch).
  T none_m, none_v;
  check_close(batch_norm(x, T{}, T{}, none_m, none_v, {.training = false}).to_vector(),
              {-1 / std::sqrt(1 + 1e-5f), -1 / std::sqrt(1 + 0.25e-5f), 1 / std::sqrt(1 + 1e-5f),
               1 / std::sqrt(1 + 0.25e-5f)});
}

BOOST_AUTO_TEST_CASE(batch_norm_updates_running_stats_under_no_grad_and_backward_sees_the_old_ones) {
  auto x = test::random_tensor<float>({4, 3, 5}, 11);
  auto rm = T::zeros({3}), rv = T::ones({3});
  {
    no_grad guard;
    batch_norm(x, T{}, T{}, rm, rv);
  }
  BOOST_TEST(rm.to_vector() != (std::vector<float>(3, 0.f)));
  // Eval: the op keeps a copy of the running stats, so updating them before backward changes nothing.
  auto xe = x.clone().requires_grad_();
  auto rm0 = rm.clone(), rv0 = rv.clone();
  auto ye = batch_norm(xe, T{}, T{}, rm, rv, {.training = false});
  batch_norm(x, T{}, T{}, rm, rv);  // training step: rm, rv change in place
  autograd::backward(ye, T::ones(ye.shape()));
  std::vector<float> want;
  for (index_t n = 0; n < 4; ++n)
    for (index_t c = 0; c < 3; ++c)
      for (index_t l = 0; l < 5; ++l) want.push_back(float(1 / std::sqrt(double(rv0.at({c})) + 1e-5)));
  check_close(xe.grad().to_vector(), want);
}

BOOST_AUTO_TEST_CASE(batch_norm_training_gradients_of_a_sum) {
  // sum(y) = sum(w * xhat + b): xhat sums to zero per channel, so d/dx = 0, d/dw = 0, d/db = N * L.
  auto x = test::random_tensor<float>({3, 2, 4}, 12).requires_grad_();
  auto w = T::from({2}, {1.5, -0.5}).requires_grad_(), b = T::from({2}, {0.1, 0.2}).requires_grad_();
  T rm, rv;
  auto y = batch_norm(x, w, b, rm, rv);
  autograd::backward(y, T::ones(y.shape()));
  check_close(x.grad().to_vector(), std::vector<float>(24, 0.f));
  check_close(w.grad().to_vector(), {0.f, 0.f});
  check_close(b.grad().to_vector(), {12.f, 12.f});
}

BOOST_AUTO_TEST_CASE(batch_norm_bad_inputs) {
  auto x = T::zeros({2, 3, 4});
  T rm = T::zeros({3}), rv = T::ones({3}), none;
  BOOST_TEST(throws_with<shape_error>([&] { batch_norm(T::zeros({3}), T{}, T{}, none, none); },
                                      {"batch_norm", "[3]"}));
  BOOST_TEST(throws_with<shape_error>([&] { batch_norm(x, T::ones({4}), T{}, rm, rv); },
                                      {"batch_norm", "weight", "[4]", "[2, 3, 4]"}));
  BOOST_TEST(throws_with<shape_error>([&] { batch_norm(x, T{}, T::ones({2}), rm, rv); }, {"batch_norm", "bias"}));
  auto bad = T::zeros({2});
  BOOST_TEST(throws_with<shape_error>([&] { batch_norm(x, T{}, T{}, bad, rv); }, {"batch_norm", "running_mean"}));
  BOOST_TEST(throws_with<value_error>([&] { batch_norm(x, T{}, T{}, rm, none); }, {"batch_norm", "running_var"}));
  BOOST_TEST(throws_with<value_error>([&] { batch_norm(T::zeros({1, 3}), T{}, T{}, rm, rv); },
                                      {"batch_norm", "more than 1 value", "[1, 3]"}));
  BOOST_TEST(throws_with<value_error>([&] { batch_norm(x, T{}, T{}, rm, rv, {.momentum = 1.5}); },
                                      {"batch_norm", "momentum"}));
  BOOST_TEST(throws_with<value_error>([&] { batch_norm(x, T{}, T{}, rm, rv, {.eps = -1}); }, {"batch_norm", "eps"}));
  // One value per channel is fine in eval mode.
  BOOST_CHECK_NO_THROW(batch_norm(T::zeros({1, 3}), T{}, T{}, rm, rv, {.training = false}));
}

BOOST_AUTO_TEST_CASE(instance_norm_values_and_bad_inputs) {
  // [1, 2, 3, 4]: mean 2.5, biased var 1.25.
  auto x = T::from({2, 1, 4}, {1, 2, 3, 4, 10, 10, 10, 14});
  const float s = float(1 / std::sqrt(1.25 + 1e-5)), s2 = float(1 / std::sqrt(3.0 + 1e-5));
  const std::vector<float> want{-1.5f * s, -0.5f * s, 0.5f * s, 1.5f * s, -1 * s2, -1 * s2, -1 * s2, 3 * s2};
  check_close(instance_norm(x).to_vector(), want);
  check_close(instance_norm(x.to<cpu>()).to_vector(), want);
  BOOST_TEST(throws_with<shape_error>([&] { instance_norm(T::zeros({2, 3})); }, {"instance_norm", "[2, 3]"}));
  BOOST_TEST(throws_with<value_error>([&] { instance_norm(T::zeros({2, 3, 1})); },
                                      {"instance_norm", "more than 1", "[2, 3, 1]"}));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(layers_dropout)

BOOST_AUTO_TEST_CASE(dropout_mask_is_the_counter_stream) {
  const index_t n = 10000;
  auto x = T::ones({n});
  auto y = dropout(x, 0.25, 123);
  index_t dropped = 0;
  for (index_t i = 0; i < n; ++i) {
    const bool keep = counter_uniform(123, std::uint64_t(i)) >= 0.25f;
    BOOST_TEST(y.data()[i] == (keep ? 1 / 0.75f : 0.f));
    dropped += !keep;
  }
  BOOST_TEST(std::abs(double(dropped) / double(n) - 0.25) < 0.02);
  BOOST_TEST(dropout(x.to<cpu>(), 0.25, 123).to_vector() == y.to_vector());
  // Same seed, same mask; another seed, another mask.
  BOOST_TEST(dropout(x, 0.25, 123).to_vector() == y.to_vector());
  BOOST_TEST(dropout(x, 0.25, 124).to_vector() != y.to_vector());
}

BOOST_AUTO_TEST_CASE(dropout2d_drops_whole_planes) {
  auto x = T::ones({4, 8, 3, 5});
  auto y = dropout2d(x, 0.5, 9);
  index_t kept = 0;
  for (index_t p = 0; p < 32; ++p) {
    const bool keep = counter_uniform(9, std::uint64_t(p)) >= 0.5f;
    kept += keep;
    for (index_t i = 0; i < 15; ++i) BOOST_TEST(y.data()[p * 15 + i] == (keep ? 2.f : 0.f));
  }
  BOOST_TEST(kept > 0);
  BOOST_TEST(kept < 32);
  BOOST_TEST(dropout2d(x.to<cpu>(), 0.5, 9).to_vector() == y.to_vector());
}

BOOST_AUTO_TEST_CASE(dropout_identity_cases_and_bad_p) {
  auto x = test::random_tensor<float>({3, 4, 5}, 13);
  BOOST_TEST(dropout(x, 0.5, 1, false).same(x));
  BOOST_TEST(dropout(x, 0.0, 1).same(x));
  BOOST_TEST(dropout2d(x, 0.5, 1, false).same(x));
  BOOST_TEST(dropout2d(x, 0.0, 1).same(x));
  BOOST_TEST(throws_with<value_error>([&] { dropout(x, 1.0, 1); }, {"dropout", "[0, 1)", "1"}));
  BOOST_TEST(throws_with<value_error>([&] { dropout(x, -0.1, 1); }, {"dropout", "-0.1"}));
  BOOST_TEST(throws_with<value_error>([&] { dropout2d(x, 1.5, 1, false); }, {"dropout2d", "1.5"}));
  BOOST_TEST(throws_with<shape_error>([&] { dropout2d(T::ones({5}), 0.5, 1); }, {"dropout2d", "[5]"}));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(layers_shuffle)

BOOST_AUTO_TEST_CASE(pixel_shuffle_and_space_to_depth_values) {
  // torch: pixel_shuffle(arange(8).view(1, 4, 1, 2), 2) and pixel_unshuffle(arange(8).view(1, 1, 2, 4), 2).
  const std::vector<float> want{0, 2, 1, 3, 4, 6, 5, 7};
  auto lo = T::from({1, 4, 1, 2}, iota_values(8));
  auto hi = pixel_shuffle(lo, 2);
  BOOST_TEST(hi.shape() == (shape{1, 1, 2, 4}));
  BOOST_TEST(hi.to_vector() == want);
  BOOST_TEST(pixel_shuffle(lo.to<cpu>(), 2).to_vector() == want);
  auto hi2 = T::from({1, 1, 2, 4}, iota_values(8));
  auto lo2 = space_to_depth(hi2, 2);
  BOOST_TEST(lo2.shape() == (shape{1, 4, 1, 2}));
  BOOST_TEST(lo2.to_vector() == want);
  BOOST_TEST(space_to_depth(hi2.to<cpu>(), 2).to_vector() == want);
  // Exact inverses, for a factor the models do not use.
  auto x = test::random_tensor<float>({2, 3, 9, 6}, 14);
  BOOST_TEST(pixel_shuffle(space_to_depth(x, 3), 3).to_vector() == x.to_vector());
  BOOST_TEST(pixel_shuffle(space_to_depth(x.to<cpu>(), 3), 3).to_vector() == x.to_vector());
  BOOST_TEST(space_to_depth(x, 1).to_vector() == x.to_vector());
}

BOOST_AUTO_TEST_CASE(shuffle_bad_inputs) {
  BOOST_TEST(throws_with<shape_error>([] { pixel_shuffle(T::zeros({1, 6, 2, 2}), 2); },
                                      {"pixel_shuffle", "[1, 6, 2, 2]", "4"}));
  BOOST_TEST(throws_with<shape_error>([] { pixel_shuffle(T::zeros({4, 2, 2}), 2); }, {"pixel_shuffle", "[4, 2, 2]"}));
  BOOST_TEST(throws_with<value_error>([] { pixel_shuffle(T::zeros({1, 4, 2, 2}), 0); }, {"pixel_shuffle", "r"}));
  BOOST_TEST(throws_with<shape_error>([] { space_to_depth(T::zeros({1, 1, 6, 5}), 2); },
                                      {"space_to_depth", "[1, 1, 6, 5]", "2"}));
  BOOST_TEST(throws_with<value_error>([] { space_to_depth(T::zeros({1, 1, 4, 4}), -1); }, {"space_to_depth"}));
}

BOOST_AUTO_TEST_SUITE_END()
