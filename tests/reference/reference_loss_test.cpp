// cross_entropy with a per-item weight mask against PyTorch:
//   loss = (F.cross_entropy(logits, target, reduction='none') * w).sum() / w.sum()
// on [N,C] and SuperPoint's [N,65,Hc,Wc] cells; without weights it is torch's mean reduction.
// Fixtures: tests/data/reference/cross_entropy.
#include "fixtures.hpp"

#include "kpt/ops/loss.hpp"

using namespace kpt;
using kpt::reference::fixture;

BOOST_AUTO_TEST_SUITE(reference_loss)

BOOST_AUTO_TEST_CASE(weighted_cross_entropy_matches_torch) {
  const std::set<std::string> cases = {"nc_weighted", "nc_unweighted", "superpoint_weighted", "nchw_unweighted"};
  BOOST_TEST(reference::cases_on_disk("cross_entropy") == cases, boost::test_tools::per_element());
  for (const auto& name : cases) {
    const fixture f("cross_entropy", name);
    reference::on_every_backend([&]<class T, class B>() {
      auto logits = f.input<T, B>("logits");
      logits.requires_grad_();
      const auto target = f.index<B>("target");
      const auto w = f.flag("weighted") ? f.input<T, B>("item_weight") : tensor<T, B>{};
      const auto y = cross_entropy(logits, target, w);
      f.check(y, "y");
      autograd::backward(y, f.input<T, B>("R"));
      f.check(logits.grad(), "dlogits");
    });
  }
}

BOOST_AUTO_TEST_SUITE_END()
