// conv2d and conv1d against PyTorch (F.conv2d / F.conv1d): outputs and the gradients of input,
// weight and bias. Fixtures: tests/data/reference/conv2d, conv1d.
#include "fixtures.hpp"

#include "kpt/ops/conv.hpp"

using namespace kpt;
using kpt::reference::fixture;

namespace {

template <class T, class B, class Op>
void conv_case(const fixture& f, Op conv) {
  auto x = f.input<T, B>("x"), w = f.input<T, B>("w");
  tensor<T, B> b;
  x.requires_grad_();
  w.requires_grad_();
  if (f.flag("bias")) {
    b = f.input<T, B>("b");
    b.requires_grad_();
  }
  const auto y = conv(x, w, b, f.integer("stride"), f.integer("padding"));
  f.check(y, "y");
  autograd::backward(y, f.input<T, B>("R"));
  f.check(x.grad(), "dx");
  f.check(w.grad(), "dw");
  if (b.defined()) f.check(b.grad(), "db");
}

const std::set<std::string> conv2d_cases = {"k3_s1_p1_bias", "k3_s1_p1_nobias", "k3_s2_p0_bias", "k3_s2_p1_nobias",
                                            "k1_s1_p0_bias"};
const std::set<std::string> conv1d_cases = {"k3_s1_p1_bias", "k1_s1_p0_nobias", "k3_s2_p0_bias"};

}  // namespace

BOOST_AUTO_TEST_SUITE(reference_conv)

BOOST_AUTO_TEST_CASE(conv2d_matches_torch) {
  BOOST_TEST(reference::cases_on_disk("conv2d") == conv2d_cases, boost::test_tools::per_element());
  for (const auto& name : conv2d_cases) {
    const fixture f("conv2d", name);
    reference::on_every_backend([&]<class T, class B>() {
      conv_case<T, B>(f, [](const auto& x, const auto& w, const auto& b, index_t s, index_t p) {
        return conv2d(x, w, b, conv2d_options{.stride = s, .padding = p});
      });
    });
  }
}

BOOST_AUTO_TEST_CASE(conv1d_matches_torch) {
  BOOST_TEST(reference::cases_on_disk("conv1d") == conv1d_cases, boost::test_tools::per_element());
  for (const auto& name : conv1d_cases) {
    const fixture f("conv1d", name);
    reference::on_every_backend([&]<class T, class B>() {
      conv_case<T, B>(f, [](const auto& x, const auto& w, const auto& b, index_t s, index_t p) {
        return conv1d(x, w, b, conv1d_options{.stride = s, .padding = p});
      });
    });
  }
}

BOOST_AUTO_TEST_SUITE_END()
