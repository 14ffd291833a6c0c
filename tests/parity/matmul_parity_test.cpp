#include "support.hpp"

#include <cmath>

#include "kpt/ops/matmul.hpp"

using namespace kpt;
using kpt::test::max_rel_diff;
using kpt::test::random_tensor;

namespace {
template <class T, class B>
double rms(const tensor<T, B>& t) {
  double s = 0;
  for (T v : t.values()) s += double(v) * double(v);
  return std::sqrt(s / double(std::max<index_t>(t.numel(), 1)));
}
}  // namespace

BOOST_AUTO_TEST_CASE(matmul_cpu_matches_cpu_ref) {
  // Descriptor similarity ([N, 256] x [256, M]), batched, shared operands, odd sizes.
  const std::vector<std::pair<shape, shape>> cases = {{{300, 256}, {256, 280}},
                                                      {{2, 150, 256}, {2, 256, 170}},
                                                      {{4, 65, 130}, {130, 77}},
                                                      {{33, 47}, {3, 47, 29}},
                                                      {{2, 3, 5, 1000}, {2, 3, 1000, 7}}};
  std::uint64_t seed = 3000;
  for (const auto& [sa, sb] : cases) {
    auto a = random_tensor<float>(sa, seed++), b = random_tensor<float>(sb, seed++);
    auto ar = a.clone().requires_grad_(), br = b.clone().requires_grad_();
    auto ac = a.to<cpu>().requires_grad_(), bc = b.to<cpu>().requires_grad_();
    auto cr = matmul(ar, br);
    auto cc = matmul(ac, bc);
    auto g = random_tensor<float>(cr.shape(), seed++);
    autograd::backward(cr, g);
    autograd::backward(cc, g.to<cpu>());
    BOOST_TEST_CONTEXT("shapes " << sa.str() << " and " << sb.str()) {
      BOOST_TEST(max_rel_diff(cc, cr, rms(cr)) <= 1e-5);
      BOOST_TEST(max_rel_diff(ac.grad(), ar.grad(), rms(ar.grad())) <= 1e-5);
      BOOST_TEST(max_rel_diff(bc.grad(), br.grad(), rms(br.grad())) <= 1e-5);
    }
  }
}
