#include "support.hpp"

#include "kpt/autograd/gradcheck.hpp"
#include "kpt/ops/matmul.hpp"

using namespace kpt;
using kpt::test::random_tensor;

namespace {
template <class B>
void check_matmul(const shape& sa, const shape& sb, std::uint64_t seed) {
  auto a = random_tensor<double, B>(sa, seed), b = random_tensor<double, B>(sb, seed + 1);
  auto r = gradcheck<B>([](const auto& v) { return matmul(v[0], v[1]); }, {a, b});
  BOOST_TEST(r.ok, "matmul " << sa.str() << " x " << sb.str() << " on " << B::name << ":\n" << r.report);
}
}  // namespace

BOOST_AUTO_TEST_CASE(matmul_passes_gradcheck) {
  // Plain, batched, shared right and left operands, rank 4, and sizes past one register tile.
  const std::vector<std::pair<shape, shape>> cases = {
      {{3, 4}, {4, 5}},          {{2, 3, 4}, {2, 4, 5}},    {{2, 3, 7}, {7, 5}},     {{3, 7}, {2, 7, 5}},
      {{2, 2, 3, 4}, {2, 2, 4, 5}}, {{1, 1}, {1, 1}},       {{13, 9}, {9, 53}},      {{2, 11, 17}, {17, 50}},
      {{1, 3, 5}, {1, 5, 2}}};
  std::uint64_t seed = 300;
  for (const auto& [sa, sb] : cases) {
    check_matmul<cpu_ref>(sa, sb, seed);
    check_matmul<cpu>(sa, sb, seed);
    seed += 2;
  }
}
