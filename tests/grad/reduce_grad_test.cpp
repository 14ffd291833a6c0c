// gradcheck of sum, mean and max, on cpu_ref and cpu, in double.
// Tolerances: the gradcheck defaults (eps 1e-6, rtol 1e-5, atol 1e-7): sum and mean are linear
// and max is linear near inputs whose maximum is unique (random inputs: ties have probability 0).
#include "support.hpp"

#include "kpt/autograd/gradcheck.hpp"
#include "kpt/ops/reduce.hpp"

using namespace kpt;
using kpt::test::random_tensor;

namespace {

template <class B, class F>
void check(const std::string& what, F f, const tensor<double, B>& x) {
  BOOST_TEST_CONTEXT(what << " on " << B::name << ", shape " << x.shape().str()) {
    auto r = gradcheck<B>([&](const auto& in) { return f(in[0]); }, {x});
    BOOST_TEST(r.ok, r.report);
  }
}

template <class B>
void check_reductions() {
  std::uint64_t seed = 200;
  const std::vector<shape> shapes = {{7}, {3, 5}, {2, 3, 4, 5}, {3, 1, 5, 2, 3}};
  for (const auto& s : shapes) {
    auto x = random_tensor<double, B>(s, seed++);
    check("sum", [](auto t) { return sum(t); }, x);
    check("mean", [](auto t) { return mean(t); }, x);
    for (int a = -s.rank(); a < s.rank(); ++a) {
      const std::string ax = " axis " + std::to_string(a);
      check("sum" + ax, [a](auto t) { return sum(t, {a}); }, x);
      check("mean keepdim" + ax, [a](auto t) { return mean(t, {a}, true); }, x);
      check("max" + ax, [a](auto t) { return max(t, a); }, x);
      check("max keepdim" + ax, [a](auto t) { return max(t, a, true); }, x);
    }
    if (s.rank() >= 3) {
      check("sum {0, 2}", [](auto t) { return sum(t, {0, 2}); }, x);          // not contiguous
      check("mean {0, -1}", [](auto t) { return mean(t, std::vector<int>{0, -1}, true); }, x);
      check("sum {1, 2}", [](auto t) { return sum(t, {1, 2}, true); }, x);
    }
  }
}

}  // namespace

BOOST_AUTO_TEST_CASE(reductions_pass_gradcheck_on_cpu_ref) { check_reductions<cpu_ref>(); }
BOOST_AUTO_TEST_CASE(reductions_pass_gradcheck_on_cpu) { check_reductions<cpu>(); }
