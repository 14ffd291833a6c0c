#include "support.hpp"

#include "kpt/ops/binary.hpp"

using namespace kpt;
using kpt::test::max_rel_diff;
using kpt::test::random_tensor;

BOOST_AUTO_TEST_CASE(binary_ops_cpu_matches_cpu_ref) {
  // SuperPoint-shaped: a feature map and a per-channel bias, plus odd sizes for the SIMD tails.
  const std::vector<std::pair<shape, shape>> cases = {
      {{2, 64, 60, 80}, {2, 64, 60, 80}}, {{2, 64, 60, 80}, {1, 64, 1, 1}}, {{3, 7, 13}, {13}}, {{5, 1, 9}, {1, 4, 1}}};
  std::uint64_t seed = 10;
  for (const auto& [sa, sb] : cases) {
    auto a = random_tensor<float>(sa, seed++), b = random_tensor<float>(sb, seed++, 0.5, 2.0);
    auto ac = a.to<cpu>(), bc = b.to<cpu>();
    BOOST_TEST_CONTEXT("shapes " << sa.str() << " and " << sb.str()) {
      BOOST_TEST(max_rel_diff(ac + bc, a + b) <= 1e-5);
      BOOST_TEST(max_rel_diff(ac - bc, a - b) <= 1e-5);
      BOOST_TEST(max_rel_diff(ac * bc, a * b) <= 1e-5);
      BOOST_TEST(max_rel_diff(ac / bc, a / b) <= 1e-5);
    }
    // Broadcast gradients (sum_to) on both backends.
    auto ar = a.clone().requires_grad_(), br = b.clone().requires_grad_();
    auto ac2 = ac.clone().requires_grad_(), bc2 = bc.clone().requires_grad_();
    auto g = random_tensor<float>(kernels::make_broadcast("t", sa, sb).out, seed++);
    autograd::backward(ar * br, g);
    autograd::backward(ac2 * bc2, g.to<cpu>());
    BOOST_TEST(max_rel_diff(bc2.grad(), br.grad()) <= 1e-5);
    BOOST_TEST(max_rel_diff(ac2.grad(), ar.grad()) <= 1e-5);
  }
}
