// cpu vs cpu_ref for grid_sample on SuperPoint / KP2D shapes (output, image gradient, grid gradient).
#include "support.hpp"

#include "kpt/ops/grid_sample.hpp"

using namespace kpt;
using kpt::test::max_rel_diff;
using kpt::test::random_tensor;

namespace {
void compare(const shape& xs, const shape& gs, bool align, std::uint64_t seed) {
  auto x = random_tensor<float>(xs, seed);
  auto grid = random_tensor<float>(gs, seed + 1, -1.1, 1.1);  // a few points beyond the border
  auto xr = x.clone().requires_grad_(), gr = grid.clone().requires_grad_();
  auto xc = x.to<cpu>().requires_grad_(), gc = grid.to<cpu>().requires_grad_();
  auto yr = grid_sample(xr, gr, align);
  auto yc = grid_sample(xc, gc, align);
  BOOST_TEST(max_rel_diff(yc, yr) <= 1e-5);
  auto g = random_tensor<float>(yr.shape(), seed + 2);
  autograd::backward(yr, g);
  autograd::backward(yc, g.to<cpu>());
  BOOST_TEST(max_rel_diff(xc.grad(), xr.grad()) <= 1e-5);
  BOOST_TEST(max_rel_diff(gc.grad(), gr.grad()) <= 1e-5);
}
}  // namespace

BOOST_AUTO_TEST_CASE(grid_sample_cpu_matches_cpu_ref) {
  for (bool align : {true, false}) {
    BOOST_TEST_CONTEXT("align_corners " << align) {
      // Descriptors at 300 keypoints from a 2 x 256 x 30 x 40 map.
      compare({2, 256, 30, 40}, {2, 1, 300, 2}, align, 1);
      // Score map sampled on a dense grid; an image warped at full resolution.
      compare({2, 1, 30, 40}, {2, 30, 40, 2}, align, 4);
      compare({2, 3, 120, 160}, {2, 120, 160, 2}, align, 7);
      compare({3, 5, 7, 11}, {3, 13, 3, 2}, align, 10);
    }
  }
}
