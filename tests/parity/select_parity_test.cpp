// cpu vs cpu_ref for argmax / argmin / topk on SuperPoint-shaped tensors: indices must be equal.
#include "support.hpp"

#include "kpt/ops/select.hpp"

using namespace kpt;
using kpt::test::random_tensor;

BOOST_AUTO_TEST_CASE(select_ops_cpu_matches_cpu_ref) {
  auto semi = random_tensor<float>({2, 65, 30, 40}, 1);
  auto semic = semi.to<cpu>();
  BOOST_TEST(argmax(semic, 1).to_vector() == argmax(semi, 1).to_vector());
  BOOST_TEST(argmin(semic, 1, true).to_vector() == argmin(semi, 1, true).to_vector());
  BOOST_TEST(argmax(semic, -1).to_vector() == argmax(semi, -1).to_vector());
  // Ties: values on a coarse grid, so many rows have equal maxima.
  auto coarse = tensor<float, cpu_ref>::empty({2, 65, 30, 40});
  rng g(2);
  for (auto& v : coarse.values()) v = float(g.below(4));
  BOOST_TEST(argmax(coarse.to<cpu>(), 1).to_vector() == argmax(coarse, 1).to_vector());
  BOOST_TEST(argmin(coarse.to<cpu>(), 0).to_vector() == argmin(coarse, 0).to_vector());
  // KP2D: the 300 lowest of 1200 cell scores per image; SuperPoint: the best 1000 of 4800 points.
  auto scores = random_tensor<float>({2, 1200}, 3, 0, 1);
  for (bool largest : {false, true}) {
    auto [vr, ir] = topk(scores, 300, 1, largest);
    auto [vc, ic] = topk(scores.to<cpu>(), 300, 1, largest);
    BOOST_TEST(ic.to_vector() == ir.to_vector());
    BOOST_TEST(vc.to_vector() == vr.to_vector());
  }
  auto [vr, ir] = topk(coarse, 7, 1);
  auto [vc, ic] = topk(coarse.to<cpu>(), 7, 1);
  BOOST_TEST(ic.to_vector() == ir.to_vector());
  BOOST_TEST(vc.to_vector() == vr.to_vector());
  auto pts = random_tensor<float>({2, 4800}, 4);
  BOOST_TEST(topk(pts.to<cpu>(), 1000).second.to_vector() == topk(pts, 1000).second.to_vector());
}
