#include "support.hpp"

#include "kpt/ops/pool.hpp"

using namespace kpt;
using kpt::test::max_rel_diff;
using kpt::test::random_tensor;

namespace {
// Forward and the gradient for a random output gradient, cpu vs cpu_ref. The gradient shows
// which tap each backend picked, so with ties it checks "first maximum" on both.
void compare_pool(const tensor<float, cpu_ref>& x, index_t k, index_t s, index_t p, std::uint64_t seed) {
  auto xr = x.clone().requires_grad_();
  auto xc = x.to<cpu>().requires_grad_();
  auto yr = max_pool2d(xr, k, s, p);
  auto yc = max_pool2d(xc, k, s, p);
  BOOST_TEST(max_rel_diff(yc, yr) == 0.0);
  auto g = random_tensor<float>(yr.shape(), seed);
  autograd::backward(yr, g);
  autograd::backward(yc, g.to<cpu>());
  BOOST_TEST(max_rel_diff(xc.grad(), xr.grad()) <= 1e-5);
  // Without recording (no argmax), the cpu kernel takes its value-only path.
  no_grad guard;
  BOOST_TEST(max_rel_diff(max_pool2d(x.to<cpu>(), k, s, p), yr) == 0.0);
}
}  // namespace

BOOST_AUTO_TEST_CASE(max_pool2d_cpu_matches_cpu_ref) {
  struct pool_case {
    shape s;
    index_t k, stride, pad;
  };
  const std::vector<pool_case> cases = {
      {{2, 64, 120, 160}, 2, 2, 0},  // SuperPoint encoder pools
      {{2, 128, 30, 40}, 2, 2, 0},
      {{1, 3, 9, 77}, 2, 2, 0},      // odd width: the stride-2 split by vectors, then the rest
      {{2, 1, 120, 160}, 9, 1, 4},   // NMS with radius 4
      {{3, 5, 17, 23}, 3, 2, 1},
      {{1, 3, 21, 75}, 3, 2, 1},     // stride 2 with padding, rows long enough for SIMD
      {{2, 4, 9, 100}, 3, 3, 0},
      {{1, 2, 12, 90}, 4, 3, 2},
      {{1, 3, 13, 37}, 3, 1, 1},
  };
  std::uint64_t seed = 1000;
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT("x " << c.s.str() << " kernel " << c.k << " stride " << c.stride << " padding " << c.pad) {
      compare_pool(random_tensor<float>(c.s, seed++), c.k, c.stride, c.pad, seed++);
      // Many ties: values in {0, 1, 2}.
      auto t = random_tensor<float>(c.s, seed++, 0.0, 3.0);
      for (auto& v : t.values()) v = std::floor(v);
      compare_pool(t, c.k, c.stride, c.pad, seed++);
    }
  }
}
