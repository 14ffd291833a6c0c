#include "support.hpp"

#include "kpt/autograd/gradcheck.hpp"
#include "kpt/ops/shuffle.hpp"

using namespace kpt;
using kpt::test::random_tensor;

namespace {
template <class B>
void check_shuffle(const shape& s, index_t r, bool to_hi, std::uint64_t seed) {
  auto x = random_tensor<double, B>(s, seed);
  auto res = gradcheck<B>(
      [&](const auto& in) { return to_hi ? pixel_shuffle(in[0], r) : space_to_depth(in[0], r); }, {x},
      {.max_samples = 96});
  BOOST_TEST(res.ok, res.report);
}
}  // namespace

BOOST_AUTO_TEST_CASE(pixel_shuffle_and_space_to_depth_pass_gradcheck) {
  std::uint64_t seed = 500;
  for (auto B : {0, 1}) {
    auto check = [&](const shape& s, index_t r, bool to_hi) {
      BOOST_TEST_CONTEXT((to_hi ? "pixel_shuffle " : "space_to_depth ") << s.str() << " r " << r) {
        if (B == 0) check_shuffle<cpu_ref>(s, r, to_hi, seed++);
        else check_shuffle<cpu>(s, r, to_hi, seed++);
      }
    };
    check({2, 8, 3, 5}, 2, true);
    check({1, 18, 2, 3}, 3, true);
    check({1, 64, 2, 3}, 8, true);
    check({2, 3, 1, 1}, 1, true);
    check({2, 3, 6, 10}, 2, false);
    check({1, 2, 9, 6}, 3, false);
    check({1, 1, 16, 24}, 8, false);
    check({2, 2, 8, 12}, 4, false);
  }
}
