// max_pool2d against PyTorch (F.max_pool2d, padding counts as -inf): output and input gradient.
// Fixtures: tests/data/reference/max_pool2d.
#include "fixtures.hpp"

#include "kpt/ops/pool.hpp"

using namespace kpt;
using kpt::reference::fixture;

BOOST_AUTO_TEST_SUITE(reference_pool)

BOOST_AUTO_TEST_CASE(max_pool2d_matches_torch) {
  const std::set<std::string> cases = {"k2_s2_p0", "k3_s2_p1", "k2_s2_p0_even"};
  BOOST_TEST(reference::cases_on_disk("max_pool2d") == cases, boost::test_tools::per_element());
  for (const auto& name : cases) {
    const fixture f("max_pool2d", name);
    reference::on_every_backend([&]<class T, class B>() {
      auto x = f.input<T, B>("x");
      x.requires_grad_();
      const auto y = max_pool2d(x, f.integer("kernel"), f.integer("stride"), f.integer("padding"));
      f.check(y, "y");
      autograd::backward(y, f.input<T, B>("R"));
      f.check(x.grad(), "dx");
    });
  }
}

BOOST_AUTO_TEST_SUITE_END()
