#include "support.hpp"

#include "kpt/autograd/gradcheck.hpp"
#include "kpt/ops/pool.hpp"

using namespace kpt;
using kpt::test::random_tensor;

namespace {
struct pool_case {
  shape s;
  index_t kernel, stride, padding;
};

template <class B>
void check_pool(const pool_case& c, std::uint64_t seed) {
  // Random doubles: no ties, so the maximum is unique and finite differences see one tap.
  auto x = random_tensor<double, B>(c.s, seed);
  auto r = gradcheck<B>([&](const auto& in) { return max_pool2d(in[0], c.kernel, c.stride, c.padding); }, {x});
  BOOST_TEST(r.ok, r.report);
}
}  // namespace

BOOST_AUTO_TEST_CASE(max_pool2d_passes_gradcheck) {
  const std::vector<pool_case> cases = {
      {{2, 3, 7, 9}, 2, 0, 0},    // SuperPoint's 2x2/2 with odd sizes (last row/column dropped)
      {{1, 2, 8, 8}, 3, 2, 1},    // overlapping windows with padding
      {{2, 2, 9, 10}, 5, 1, 2},   // NMS-style stride 1, "same" padding
      {{1, 2, 5, 21}, 3, 1, 1},   // stride 1 wide enough for the SIMD path (8 doubles on AVX-512)
      {{1, 2, 5, 40}, 3, 2, 1},   // stride 2, SIMD over phase-split rows
      {{2, 1, 4, 37}, 2, 2, 0},
      {{3, 1, 7, 7}, 3, 3, 0},    // non-overlapping 3x3
      {{1, 1, 6, 5}, 4, 2, 2},    // windows that are mostly padding
      {{2, 1, 4, 4}, 1, 1, 0},    // kernel 1: identity
  };
  std::uint64_t seed = 100;
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT("x " << c.s.str() << " kernel " << c.kernel << " stride " << c.stride << " padding "
                            << c.padding) {
      check_pool<cpu_ref>(c, seed++);
      check_pool<cpu>(c, seed++);
    }
  }
}
