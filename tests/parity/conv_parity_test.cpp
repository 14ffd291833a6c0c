#include "support.hpp"

#include <cmath>

#include "kpt/ops/conv.hpp"

using namespace kpt;
using kpt::test::max_rel_diff;
using kpt::test::random_tensor;

namespace {

// Root mean square of a tensor: the relative-error floor for sums of many terms, whose
// individual outputs can cancel to near zero while the rounding error scales with the terms.
template <class T, class B>
double rms(const tensor<T, B>& t) {
  double s = 0;
  for (T v : t.values()) s += double(v) * double(v);
  return std::sqrt(s / double(std::max<index_t>(t.numel(), 1)));
}

template <class T, class B1, class B2>
double rel_err(const tensor<T, B1>& got, const tensor<T, B2>& want) {
  return max_rel_diff(got, want, rms(want));
}

struct conv_case {
  shape x, w;
  index_t stride, padding;
  bool bias;
  bool one_d;
};

// Forward and every gradient of the cpu backend against cpu_ref, in float.
void check(const conv_case& k, std::uint64_t seed) {
  auto x = random_tensor<float>(k.x, seed), w = random_tensor<float>(k.w, seed + 1);
  auto b = k.bias ? random_tensor<float>({k.w[0]}, seed + 2) : tensor<float, cpu_ref>{};
  auto run = [&](auto xin, auto win, auto bin) {
    using TB = decltype(xin);
    TB xr = xin.requires_grad_(), wr = win.requires_grad_(), br = bin.defined() ? bin.requires_grad_() : bin;
    TB y = k.one_d ? conv1d(xr, wr, br, {k.stride, k.padding}) : conv2d(xr, wr, br, {k.stride, k.padding});
    return std::tuple{y, xr, wr, br};
  };
  auto [yr, xr, wr, br] = run(x.clone(), w.clone(), k.bias ? b.clone() : b);
  auto [yc, xc, wc, bc] =
      run(x.to<cpu>(), w.to<cpu>(), k.bias ? b.to<cpu>() : tensor<float, cpu>{});
  auto g = random_tensor<float>(yr.shape(), seed + 3);
  autograd::backward(yr, g);
  autograd::backward(yc, g.to<cpu>());
  BOOST_TEST_CONTEXT((k.one_d ? "conv1d x " : "conv2d x ") << k.x.str() << " w " << k.w.str() << " stride "
                                                              << k.stride << " padding " << k.padding) {
    BOOST_TEST(rel_err(yc, yr) <= 1e-5);
    BOOST_TEST(rel_err(xc.grad(), xr.grad()) <= 1e-5);
    BOOST_TEST(rel_err(wc.grad(), wr.grad()) <= 1e-5);
    if (k.bias) BOOST_TEST(rel_err(bc.grad(), br.grad()) <= 1e-5);
  }
}

}  // namespace

BOOST_AUTO_TEST_CASE(conv2d_cpu_matches_cpu_ref_on_superpoint_shapes) {
  const std::vector<conv_case> cases = {
      {{2, 64, 60, 80}, {64, 64, 3, 3}, 1, 1, true, false},    // encoder block at 1/4 resolution
      {{2, 1, 120, 160}, {64, 1, 3, 3}, 1, 1, true, false},    // first layer (grayscale input)
      {{2, 128, 15, 20}, {256, 128, 3, 3}, 1, 1, true, false},  // head trunk
      {{2, 256, 15, 20}, {65, 256, 1, 1}, 1, 0, true, false},   // detector head (1x1)
      {{2, 7, 31, 29}, {9, 7, 3, 3}, 2, 0, false, false},       // stride 2, odd sizes
      {{3, 5, 17, 23}, {11, 5, 5, 3}, 2, 2, true, false},       // non-square kernel, padding 2
      {{2, 16, 101, 1}, {24, 16, 5, 1}, 1, 2, true, false},     // a column
      // Stride 1 with at most 576 taps runs straight from a padded image (AVX-512): rows that
      // cross vectors, output channels not a multiple of the register block, the tap limit.
      {{3, 5, 17, 23}, {11, 5, 5, 3}, 1, 2, true, false},       // non-square kernel, padding 2
      {{2, 9, 13, 16}, {13, 9, 3, 3}, 1, 1, false, false},      // rows exactly one vector wide
      {{1, 3, 20, 37}, {2, 3, 3, 3}, 1, 0, true, false},        // no padding, two outputs
      {{2, 64, 12, 17}, {10, 64, 3, 3}, 1, 1, true, false},     // 576 taps
  };
  std::uint64_t seed = 1000;
  for (const auto& k : cases) check(k, seed += 4);
}

BOOST_AUTO_TEST_CASE(conv1d_cpu_matches_cpu_ref) {
  const std::vector<conv_case> cases = {
      {{2, 16, 101}, {24, 16, 5}, 1, 2, true, true},
      {{3, 32, 250}, {40, 32, 3}, 2, 1, false, true},
      {{2, 64, 77}, {64, 64, 1}, 1, 0, true, true},
  };
  std::uint64_t seed = 2000;
  for (const auto& k : cases) check(k, seed += 4);
}
