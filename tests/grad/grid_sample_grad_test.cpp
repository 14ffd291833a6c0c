// gradcheck of grid_sample (to the image and to the grid), on cpu_ref and cpu, both align_corners.
#include "support.hpp"

#include "kpt/autograd/gradcheck.hpp"
#include "kpt/ops/grid_sample.hpp"

using namespace kpt;
using kpt::test::random_tensor;

namespace {
// Normalised coordinate of pixel coordinate p on an axis of `size` pixels (the inverse of PyTorch's
// unnormalisation).
double normalise(double p, index_t size, bool align_corners) {
  return align_corners ? p / double(size - 1) * 2 - 1 : (2 * p + 1) / double(size) - 1;
}

// Points at (integer + fraction in [0.2, 0.8]) pixel positions: never on a kink of the bilinear
// interpolant, where finite differences would straddle two linear pieces. The integer part ranges
// over [-2, size], so some points have corners outside the image (zeros padding) and a few lie
// entirely outside.
template <class B>
tensor<double, B> safe_grid(index_t n, index_t ho, index_t wo, index_t h, index_t w, bool align, std::uint64_t seed) {
  rng g(seed);
  auto t = tensor<double, cpu_ref>::empty({n, ho, wo, 2});
  auto v = t.values();
  for (std::size_t i = 0; i < v.size(); i += 2) {
    const double px = double(index_t(g.below(std::uint64_t(w + 3))) - 2) + g.uniform(0.2, 0.8);
    const double py = double(index_t(g.below(std::uint64_t(h + 3))) - 2) + g.uniform(0.2, 0.8);
    v[i] = normalise(px, w, align);
    v[i + 1] = normalise(py, h, align);
  }
  return t.template to<B>();
}

template <class B>
void grid_sample_gradcheck() {
  struct gs_case {
    index_t n, c, h, w, ho, wo;
  };
  std::uint64_t seed = 300;
  for (const auto& k : {gs_case{1, 1, 2, 2, 1, 5}, gs_case{2, 3, 5, 7, 3, 4}, gs_case{2, 2, 4, 9, 1, 11},
                        gs_case{3, 4, 6, 5, 2, 3}}) {
    for (bool align : {true, false}) {
      BOOST_TEST_CONTEXT("x [" << k.n << ", " << k.c << ", " << k.h << ", " << k.w << "], grid [" << k.n << ", "
                               << k.ho << ", " << k.wo << ", 2], align_corners " << align) {
        auto x = random_tensor<double, B>({k.n, k.c, k.h, k.w}, seed++);
        auto grid = safe_grid<B>(k.n, k.ho, k.wo, k.h, k.w, align, seed++);
        gradcheck_options opt;
        opt.max_samples = 64;
        auto r = gradcheck<B>([&](const auto& in) { return grid_sample(in[0], in[1], align); }, {x, grid}, opt);
        BOOST_TEST(r.ok, r.report);
        // Each gradient alone (the other input a constant).
        auto rx = gradcheck<B>([&](const auto& in) { return grid_sample(in[0], grid, align); }, {x});
        BOOST_TEST(rx.ok, rx.report);
        auto rg = gradcheck<B>([&](const auto& in) { return grid_sample(x, in[0], align); }, {grid});
        BOOST_TEST(rg.ok, rg.report);
      }
    }
  }
}
}  // namespace

BOOST_AUTO_TEST_CASE(grid_sample_passes_gradcheck_cpu_ref) { grid_sample_gradcheck<cpu_ref>(); }
BOOST_AUTO_TEST_CASE(grid_sample_passes_gradcheck_cpu) { grid_sample_gradcheck<cpu>(); }
