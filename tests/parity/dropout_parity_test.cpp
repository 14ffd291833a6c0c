#include "support.hpp"

#include "kpt/ops/dropout.hpp"

using namespace kpt;
using kpt::test::max_rel_diff;
using kpt::test::random_tensor;

BOOST_AUTO_TEST_CASE(dropout_cpu_matches_cpu_ref_exactly) {
  const shape s{2, 64, 60, 80};
  auto x = random_tensor<float>(s, 3000);
  auto xc = x.to<cpu>();
  for (double p : {0.1, 0.5}) {
    BOOST_TEST_CONTEXT("p " << p) {
      BOOST_TEST(max_rel_diff(dropout(xc, p, 77), dropout(x, p, 77)) == 0.0);
      BOOST_TEST(max_rel_diff(dropout2d(xc, p, 78), dropout2d(x, p, 78)) == 0.0);
      // Gradients: the same mask again.
      auto xr = x.clone().requires_grad_();
      auto xcg = xc.clone().requires_grad_();
      auto g = random_tensor<float>(s, 3001);
      autograd::backward(dropout2d(xr, p, 79), g);
      autograd::backward(dropout2d(xcg, p, 79), g.to<cpu>());
      BOOST_TEST(max_rel_diff(xcg.grad(), xr.grad()) == 0.0);
    }
  }
}

BOOST_AUTO_TEST_CASE(dropout_mask_does_not_depend_on_the_thread_count) {
  auto x = random_tensor<float, cpu>({2, 64, 60, 80}, 3002);
  const int before = num_threads();
  set_num_threads(1);
  auto y1 = dropout(x, 0.3, 5), z1 = dropout2d(x, 0.3, 6);
  set_num_threads(std::max(2, before));
  auto y2 = dropout(x, 0.3, 5), z2 = dropout2d(x, 0.3, 6);
  set_num_threads(before);
  BOOST_TEST(max_rel_diff(y1, y2) == 0.0);
  BOOST_TEST(max_rel_diff(z1, z2) == 0.0);
}
