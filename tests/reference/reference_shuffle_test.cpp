// pixel_shuffle and space_to_depth (torch pixel_unshuffle) against PyTorch, incl. SuperPoint's
// r = 8 detector head (64 cell channels -> one full-resolution map). Fixtures:
// tests/data/reference/pixel_shuffle, space_to_depth.
#include "fixtures.hpp"

#include "kpt/ops/shuffle.hpp"

using namespace kpt;
using kpt::reference::fixture;

namespace {
template <class Op>
void shuffle_family(const std::string& family, const std::set<std::string>& cases, Op op) {
  BOOST_TEST(reference::cases_on_disk(family) == cases, boost::test_tools::per_element());
  for (const auto& name : cases) {
    const fixture f(family, name);
    reference::on_every_backend([&]<class T, class B>() {
      auto x = f.input<T, B>("x");
      x.requires_grad_();
      const auto y = op(x, f.integer("r"));
      // A permutation: exact, whatever the precision.
      f.check(y, "y", 0.0);
      autograd::backward(y, f.input<T, B>("R"));
      f.check(x.grad(), "dx", 0.0);
    });
  }
}
}  // namespace

BOOST_AUTO_TEST_SUITE(reference_shuffle)

BOOST_AUTO_TEST_CASE(pixel_shuffle_matches_torch) {
  shuffle_family("pixel_shuffle", {"r2", "r8_superpoint"}, [](const auto& x, index_t r) { return pixel_shuffle(x, r); });
}

BOOST_AUTO_TEST_CASE(space_to_depth_matches_torch_pixel_unshuffle) {
  shuffle_family("space_to_depth", {"r2", "r8"}, [](const auto& x, index_t r) { return space_to_depth(x, r); });
}

BOOST_AUTO_TEST_SUITE_END()
