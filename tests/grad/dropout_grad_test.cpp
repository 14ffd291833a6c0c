#include "support.hpp"

#include "kpt/autograd/gradcheck.hpp"
#include "kpt/ops/dropout.hpp"

using namespace kpt;
using kpt::test::random_tensor;

namespace {
// The same seed in every evaluation fixes the mask, so dropout is a linear map to check.
template <class B>
void check_dropout(const shape& s, double p, bool planes, std::uint64_t seed) {
  auto x = random_tensor<double, B>(s, seed);
  auto r = gradcheck<B>(
      [&](const auto& in) { return planes ? dropout2d(in[0], p, seed) : dropout(in[0], p, seed); }, {x});
  BOOST_TEST(r.ok, r.report);
}
}  // namespace

BOOST_AUTO_TEST_CASE(dropout_passes_gradcheck_with_a_fixed_seed) {
  const std::vector<shape> shapes = {{7}, {2, 3, 5}, {2, 3, 4, 5}, {3, 2, 1, 11}};
  std::uint64_t seed = 400;
  for (const auto& s : shapes)
    for (double p : {0.2, 0.5}) {
      BOOST_TEST_CONTEXT("x " << s.str() << " p " << p) {
        check_dropout<cpu_ref>(s, p, false, seed++);
        check_dropout<cpu>(s, p, false, seed++);
        check_dropout<cpu_ref>(s.rank() >= 2 ? s : shape{1, 7}, p, true, seed++);
        check_dropout<cpu>(s.rank() >= 2 ? s : shape{1, 7}, p, true, seed++);
      }
    }
}
