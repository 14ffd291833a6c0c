#include "support.hpp"

#include "kpt/ops/shuffle.hpp"

using namespace kpt;
using kpt::test::max_rel_diff;
using kpt::test::random_tensor;

BOOST_AUTO_TEST_CASE(shuffle_cpu_matches_cpu_ref_exactly) {
  // SuperPoint: the 64 detector bins of a cell <-> its 8x8 pixels; plus other factors and odd sizes.
  struct shuffle_case {
    shape lo;
    index_t r;
  };
  const std::vector<shuffle_case> cases = {
      {{2, 64, 60, 80}, 8}, {{2, 256, 30, 40}, 2}, {{1, 48, 7, 9}, 4}, {{3, 18, 5, 7}, 3}, {{2, 5, 3, 4}, 1}};
  std::uint64_t seed = 4000;
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT("lo " << c.lo.str() << " r " << c.r) {
      auto lo = random_tensor<float>(c.lo, seed++);
      auto hi_r = pixel_shuffle(lo, c.r);
      auto hi_c = pixel_shuffle(lo.to<cpu>(), c.r);
      BOOST_TEST(max_rel_diff(hi_c, hi_r) == 0.0);
      auto hi = random_tensor<float>(hi_r.shape(), seed++);
      BOOST_TEST(max_rel_diff(space_to_depth(hi.to<cpu>(), c.r), space_to_depth(hi, c.r)) == 0.0);
      // Backward of each is the other.
      auto lr = lo.clone().requires_grad_();
      auto lc = lo.to<cpu>().requires_grad_();
      autograd::backward(pixel_shuffle(lr, c.r), hi);
      autograd::backward(pixel_shuffle(lc, c.r), hi.to<cpu>());
      BOOST_TEST(max_rel_diff(lc.grad(), lr.grad()) == 0.0);
      BOOST_TEST(max_rel_diff(lr.grad(), space_to_depth(hi, c.r)) == 0.0);
    }
  }
}
