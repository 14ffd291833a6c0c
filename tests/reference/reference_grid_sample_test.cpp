// grid_sample (bilinear, zeros padding) against PyTorch with align_corners true and false, some
// grid points outside the image: output and the gradients to the input AND to the grid.
// Fixtures: tests/data/reference/grid_sample.
#include "fixtures.hpp"

#include "kpt/ops/grid_sample.hpp"

using namespace kpt;
using kpt::reference::fixture;

BOOST_AUTO_TEST_SUITE(reference_grid_sample)

BOOST_AUTO_TEST_CASE(grid_sample_matches_torch) {
  const std::set<std::string> cases = {"align_corners_true", "align_corners_false"};
  BOOST_TEST(reference::cases_on_disk("grid_sample") == cases, boost::test_tools::per_element());
  for (const auto& name : cases) {
    const fixture f("grid_sample", name);
    reference::on_every_backend([&]<class T, class B>() {
      auto x = f.input<T, B>("x"), grid = f.input<T, B>("grid");
      x.requires_grad_();
      grid.requires_grad_();
      const auto y = grid_sample(x, grid, f.flag("align_corners"));
      f.check(y, "y");
      autograd::backward(y, f.input<T, B>("R"));
      f.check(x.grad(), "dx");
      f.check(grid.grad(), "dgrid");
    });
  }
}

BOOST_AUTO_TEST_SUITE_END()
