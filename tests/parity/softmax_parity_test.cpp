// cpu vs cpu_ref for softmax and log_softmax (forward and backward) in float: the SuperPoint
// detector head (softmax over 65 channels of 2x65x30x40), a feature map along its last axis and
// odd sizes.
#include "support.hpp"

#include "kpt/ops/softmax.hpp"

using namespace kpt;
using kpt::test::max_rel_diff;
using kpt::test::random_tensor;

BOOST_AUTO_TEST_CASE(softmax_cpu_matches_cpu_ref) {
  const std::vector<std::pair<shape, int>> cases = {{{2, 65, 30, 40}, 1}, {{2, 64, 60, 80}, -1}, {{2, 64, 60, 80}, 0},
                                                    {{3, 7, 13}, 1},      {{5, 1000}, 1},          {{3, 37}, 0},
                                                    {{4, 300, 9}, 1}};
  std::uint64_t seed = 3000;
  for (const auto& [s, axis] : cases) {
    for (bool log : {false, true}) {
      BOOST_TEST_CONTEXT((log ? "log_softmax" : "softmax") << " axis " << axis << ", shape " << s.str()) {
        auto x = random_tensor<float>(s, seed++, -10.0, 10.0);
        auto xr = x.clone().requires_grad_();
        auto xc = x.to<cpu>().requires_grad_();
        auto yr = log ? log_softmax(xr, axis) : softmax(xr, axis);
        auto yc = log ? log_softmax(xc, axis) : softmax(xc, axis);
        // softmax values are small: judge them relative to 1e-3, not 1
        BOOST_TEST(max_rel_diff(yc, yr, log ? 1.0 : 1e-3) <= 1e-5);
        auto g = random_tensor<float>(s, seed++);
        autograd::backward(yr, g);
        autograd::backward(yc, g.to<cpu>());
        BOOST_TEST(max_rel_diff(xc.grad(), xr.grad()) <= 1e-5);
      }
    }
  }
}
