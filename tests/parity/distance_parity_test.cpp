// cpu vs cpu_ref for l2_normalize and pairwise_distance (forward and backward) in float:
// SuperPoint / KP2D descriptors (256 channels at 1/8 resolution of 240x320), keypoint coordinates
// (D = 2) and odd sizes.
#include "support.hpp"

#include "kpt/ops/distance.hpp"

using namespace kpt;
using kpt::test::max_rel_diff;
using kpt::test::random_tensor;

BOOST_AUTO_TEST_CASE(l2_normalize_cpu_matches_cpu_ref) {
  const std::vector<std::pair<shape, int>> cases = {
      {{2, 256, 30, 40}, 1}, {{1200, 256}, -1}, {{3, 7, 13}, 1}, {{5, 33}, 0}, {{2, 64, 60, 80}, -1}};
  std::uint64_t seed = 4000;
  for (const auto& [s, axis] : cases) {
    BOOST_TEST_CONTEXT("axis " << axis << ", shape " << s.str()) {
      auto x = random_tensor<float>(s, seed++);
      auto xr = x.clone().requires_grad_();
      auto xc = x.to<cpu>().requires_grad_();
      auto yr = l2_normalize(xr, axis);
      auto yc = l2_normalize(xc, axis);
      BOOST_TEST(max_rel_diff(yc, yr, 1e-2) <= 1e-5);
      auto g = random_tensor<float>(s, seed++);
      autograd::backward(yr, g);
      autograd::backward(yc, g.to<cpu>());
      BOOST_TEST(max_rel_diff(xc.grad(), xr.grad()) <= 1e-5);
    }
  }
}

BOOST_AUTO_TEST_CASE(pairwise_distance_cpu_matches_cpu_ref) {
  const std::vector<std::pair<shape, shape>> cases = {{{2, 300, 256}, {2, 400, 256}},
                                                      {{1000, 2}, {900, 2}},
                                                      {{3, 37, 13}, {3, 29, 13}},
                                                      {{5, 1}, {7, 1}},
                                                      {{1, 33, 100}, {1, 1, 100}}};
  std::uint64_t seed = 5000;
  for (const auto& [sa, sb] : cases) {
    BOOST_TEST_CONTEXT("shapes " << sa.str() << " and " << sb.str()) {
      auto a = random_tensor<float>(sa, seed++), b = random_tensor<float>(sb, seed++);
      auto ar = a.clone().requires_grad_(), br = b.clone().requires_grad_();
      auto ac = a.to<cpu>().requires_grad_(), bc = b.to<cpu>().requires_grad_();
      auto dr = pairwise_distance(ar, br);
      auto dc = pairwise_distance(ac, bc);
      BOOST_TEST(max_rel_diff(dc, dr, 1e-3) <= 1e-5);
      auto g = random_tensor<float>(dr.shape(), seed++);
      autograd::backward(dr, g);
      autograd::backward(dc, g.to<cpu>());
      BOOST_TEST(max_rel_diff(ac.grad(), ar.grad()) <= 1e-5);
      BOOST_TEST(max_rel_diff(bc.grad(), br.grad()) <= 1e-5);
    }
  }
}
