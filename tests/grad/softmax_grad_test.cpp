// gradcheck of softmax and log_softmax along every axis, on cpu_ref and cpu, in double.
// Tolerances: the gradcheck defaults (eps 1e-6, rtol 1e-5, atol 1e-7); both maps are smooth.
// Inputs are scaled to [-4, 4] so that the outputs are far from uniform.
#include "support.hpp"

#include "kpt/autograd/gradcheck.hpp"
#include "kpt/ops/softmax.hpp"

using namespace kpt;
using kpt::test::random_tensor;

namespace {

template <class B>
void check_softmax() {
  std::uint64_t seed = 300;
  const std::vector<shape> shapes = {{7}, {3, 5}, {2, 3, 4, 5}, {2, 17, 3}, {1, 33}};
  for (const auto& s : shapes) {
    auto x = random_tensor<double, B>(s, seed++, -4.0, 4.0);
    for (int a = -s.rank(); a < s.rank(); ++a) {
      BOOST_TEST_CONTEXT("axis " << a << " on " << B::name << ", shape " << s.str()) {
        auto r = gradcheck<B>([a](const auto& in) { return softmax(in[0], a); }, {x});
        BOOST_TEST(r.ok, r.report);
        auto rl = gradcheck<B>([a](const auto& in) { return log_softmax(in[0], a); }, {x});
        BOOST_TEST(rl.ok, rl.report);
      }
    }
  }
}

}  // namespace

BOOST_AUTO_TEST_CASE(softmax_passes_gradcheck_on_cpu_ref) { check_softmax<cpu_ref>(); }
BOOST_AUTO_TEST_CASE(softmax_passes_gradcheck_on_cpu) { check_softmax<cpu>(); }
