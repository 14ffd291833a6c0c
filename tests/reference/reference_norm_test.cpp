// batch_norm (training and eval, 1d and 2d, with and without affine) and instance_norm against
// PyTorch: outputs, gradients of input, weight and bias, and the updated running statistics.
// Fixtures: tests/data/reference/batch_norm, instance_norm.
#include "fixtures.hpp"

#include "kpt/ops/norm.hpp"

using namespace kpt;
using kpt::reference::fixture;

namespace {

const std::set<std::string> batch_norm_cases = {"bn2d_train", "bn2d_train_noaffine", "bn2d_eval",
                                                "bn1d_train_nc", "bn1d_train_ncl", "bn1d_eval_ncl"};
const std::set<std::string> instance_norm_cases = {"in1d", "in2d"};

template <class T, class B>
void batch_norm_case(const fixture& f) {
  auto x = f.input<T, B>("x");
  x.requires_grad_();
  tensor<T, B> w, b;
  if (f.flag("affine")) {
    w = f.input<T, B>("w");
    b = f.input<T, B>("b");
    w.requires_grad_();
    b.requires_grad_();
  }
  auto running_mean = f.input<T, B>("running_mean"), running_var = f.input<T, B>("running_var");
  const batch_norm_options o{.training = f.flag("training"), .momentum = f.param("momentum"), .eps = f.param("eps")};
  const auto y = batch_norm(x, w, b, running_mean, running_var, o);
  f.check(y, "y");
  // Updated in place in training (unbiased variance, as PyTorch); unchanged in eval.
  f.check(running_mean, "running_mean_out");
  f.check(running_var, "running_var_out");
  autograd::backward(y, f.input<T, B>("R"));
  f.check(x.grad(), "dx");
  if (w.defined()) {
    f.check(w.grad(), "dw");
    f.check(b.grad(), "db");
  }
}

template <class T, class B>
void instance_norm_case(const fixture& f) {
  auto x = f.input<T, B>("x");
  x.requires_grad_();
  const auto y = instance_norm(x, f.param("eps"));
  f.check(y, "y");
  autograd::backward(y, f.input<T, B>("R"));
  f.check(x.grad(), "dx");
}

}  // namespace

BOOST_AUTO_TEST_SUITE(reference_norm)

BOOST_AUTO_TEST_CASE(batch_norm_matches_torch) {
  BOOST_TEST(reference::cases_on_disk("batch_norm") == batch_norm_cases, boost::test_tools::per_element());
  for (const auto& name : batch_norm_cases) {
    const fixture f("batch_norm", name);
    reference::on_every_backend([&]<class T, class B>() { batch_norm_case<T, B>(f); });
  }
}

BOOST_AUTO_TEST_CASE(instance_norm_matches_torch) {
  BOOST_TEST(reference::cases_on_disk("instance_norm") == instance_norm_cases, boost::test_tools::per_element());
  for (const auto& name : instance_norm_cases) {
    const fixture f("instance_norm", name);
    reference::on_every_backend([&]<class T, class B>() { instance_norm_case<T, B>(f); });
  }
}

BOOST_AUTO_TEST_SUITE_END()
