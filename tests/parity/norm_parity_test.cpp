#include "support.hpp"

#include "kpt/ops/norm.hpp"

using namespace kpt;
using kpt::test::max_rel_diff;
using kpt::test::random_tensor;

namespace {
using Tr = tensor<float, cpu_ref>;
using Tc = tensor<float, cpu>;

void compare_batch_norm(const shape& s, bool training, bool affine, double offset, std::uint64_t seed) {
  const index_t C = s[1];
  auto x = random_tensor<float>(s, seed, offset - 1.0, offset + 2.0);
  Tr w = affine ? random_tensor<float>({C}, seed + 1, 0.5, 1.5) : Tr{};
  Tr b = affine ? random_tensor<float>({C}, seed + 2) : Tr{};
  Tr rm = random_tensor<float>({C}, seed + 3), rv = random_tensor<float>({C}, seed + 4, 0.5, 2.0);
  auto xr = x.clone().requires_grad_();
  Tc xc = x.to<cpu>().requires_grad_();
  Tr wr = affine ? w.clone().requires_grad_() : Tr{}, br = affine ? b.clone().requires_grad_() : Tr{};
  Tc wc = affine ? w.to<cpu>().requires_grad_() : Tc{}, bc = affine ? b.to<cpu>().requires_grad_() : Tc{};
  Tc rmc = rm.to<cpu>(), rvc = rv.to<cpu>();
  const batch_norm_options opt{.training = training, .momentum = 0.1, .eps = 1e-5};
  auto yr = batch_norm(xr, wr, br, rm, rv, opt);
  auto yc = batch_norm(xc, wc, bc, rmc, rvc, opt);
  BOOST_TEST(max_rel_diff(yc, yr) <= 1e-5);
  BOOST_TEST(max_rel_diff(rmc, rm) <= 1e-5);
  BOOST_TEST(max_rel_diff(rvc, rv) <= 1e-5);
  auto g = random_tensor<float>(s, seed + 5);
  autograd::backward(yr, g);
  autograd::backward(yc, g.to<cpu>());
  BOOST_TEST(max_rel_diff(xc.grad(), xr.grad()) <= 1e-5);
  if (affine) {
    // Sums over N * H * W terms: judged relative to their size.
    BOOST_TEST(max_rel_diff(wc.grad(), wr.grad(), 10.0) <= 1e-5);
    BOOST_TEST(max_rel_diff(bc.grad(), br.grad(), 10.0) <= 1e-5);
  }
}
}  // namespace

BOOST_AUTO_TEST_CASE(batch_norm_cpu_matches_cpu_ref) {
  const std::vector<shape> shapes = {{2, 64, 60, 80}, {2, 128, 30, 40}, {64, 256}, {8, 128, 50}, {3, 5, 7, 11}};
  std::uint64_t seed = 2000;
  for (const auto& s : shapes)
    for (bool training : {true, false}) {
      BOOST_TEST_CONTEXT("x " << s.str() << (training ? " training" : " eval")) {
        compare_batch_norm(s, training, true, 0.0, seed += 10);
        compare_batch_norm(s, training, false, 0.0, seed += 10);
      }
    }
  // Post-ReLU-like activations: positive with a mean above the spread.
  compare_batch_norm({2, 64, 60, 80}, true, true, 4.0, seed += 10);
}

BOOST_AUTO_TEST_CASE(instance_norm_cpu_matches_cpu_ref) {
  for (const shape& s : {shape{2, 64, 60, 80}, shape{4, 16, 100}, shape{3, 5, 7, 11}}) {
    BOOST_TEST_CONTEXT("x " << s.str()) {
      auto x = random_tensor<float>(s, 2100, -1.0, 3.0);
      auto xr = x.clone().requires_grad_();
      auto xc = x.to<cpu>().requires_grad_();
      auto yr = instance_norm(xr);
      auto yc = instance_norm(xc);
      BOOST_TEST(max_rel_diff(yc, yr) <= 1e-5);
      auto g = random_tensor<float>(s, 2101);
      autograd::backward(yr, g);
      autograd::backward(yc, g.to<cpu>());
      BOOST_TEST(max_rel_diff(xc.grad(), xr.grad()) <= 1e-5);
    }
  }
}
