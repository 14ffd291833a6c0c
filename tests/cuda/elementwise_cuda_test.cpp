// cuda vs cpu_ref. Every test skips, saying why, when no GPU is usable.
#include "support.hpp"

#include "kpt/backends/cuda.hpp"
#include "kpt/ops/binary.hpp"

using namespace kpt;
using kpt::test::max_rel_diff;
using kpt::test::random_tensor;

namespace {
struct gpu_present {
  boost::test_tools::assertion_result operator()(boost::unit_test::test_unit_id) const {
    boost::test_tools::assertion_result r(cuda_available());
    r.message() << "needs a CUDA GPU: " << cuda_unavailable_reason();
    return r;
  }
};
}  // namespace

BOOST_AUTO_TEST_CASE(cuda_reports_why_it_is_unavailable) {
  // Runs everywhere: without a GPU the reason is a non-empty sentence, with one it is empty.
  BOOST_TEST(cuda_available() == cuda_unavailable_reason().empty());
}

BOOST_AUTO_TEST_CASE(binary_ops_cuda_match_cpu_ref, *boost::unit_test::precondition(gpu_present{})) {
  auto a = random_tensor<float>({2, 64, 60, 80}, 1), b = random_tensor<float>({1, 64, 1, 1}, 2, 0.5, 2.0);
  auto ad = a.to<cuda>(), bd = b.to<cuda>();
  BOOST_TEST(max_rel_diff((ad + bd).to<cpu_ref>(), a + b) <= 1e-5);
  BOOST_TEST(max_rel_diff((ad * bd).to<cpu_ref>(), a * b) <= 1e-5);
  BOOST_TEST(max_rel_diff((ad / bd).to<cpu_ref>(), a / b) <= 1e-5);
  // Broadcast gradient goes through reduce_sum.
  auto ar = a.clone().requires_grad_(), br = b.clone().requires_grad_();
  auto adr = ad.clone().requires_grad_(), bdr = bd.clone().requires_grad_();
  auto g = random_tensor<float>({2, 64, 60, 80}, 3);
  autograd::backward(ar * br, g);
  autograd::backward(adr * bdr, g.to<cuda>());
  BOOST_TEST(max_rel_diff(bdr.grad().to<cpu_ref>(), br.grad()) <= 1e-5);
}
