// gradcheck of l2_normalize and pairwise_distance, on cpu_ref and cpu, in double.
// Tolerances: the gradcheck defaults (eps 1e-6, rtol 1e-5, atol 1e-7). Both ops are smooth
// away from zero norms / coincident points; random inputs have norms and distances of order 1.
// The clamped branch of l2_normalize (norm < eps) is checked with a large eps.
#include "support.hpp"

#include "kpt/autograd/gradcheck.hpp"
#include "kpt/ops/distance.hpp"

using namespace kpt;
using kpt::test::random_tensor;

namespace {

template <class B>
void check_l2_normalize() {
  std::uint64_t seed = 400;
  const std::vector<shape> shapes = {{7}, {3, 5}, {2, 5, 3, 4}, {2, 17, 3}};
  for (const auto& s : shapes) {
    auto x = random_tensor<double, B>(s, seed++);
    for (int a = -s.rank(); a < s.rank(); ++a) {
      BOOST_TEST_CONTEXT("axis " << a << " on " << B::name << ", shape " << s.str()) {
        auto r = gradcheck<B>([a](const auto& in) { return l2_normalize(in[0], a); }, {x});
        BOOST_TEST(r.ok, r.report);
        // eps above every norm: y = x / eps everywhere
        auto rc = gradcheck<B>([a](const auto& in) { return l2_normalize(in[0], a, 100.0); }, {x});
        BOOST_TEST(rc.ok, rc.report);
      }
    }
  }
}

template <class B>
void check_pairwise_distance() {
  std::uint64_t seed = 500;
  const std::vector<std::pair<shape, shape>> cases = {{{5, 3}, {4, 3}},       {{6, 2}, {9, 2}},
                                                      {{2, 5, 7}, {2, 6, 7}}, {{1, 4, 20}, {1, 3, 20}},
                                                      {{3, 17}, {1, 17}},     {{9, 1}, {5, 1}}};
  for (const auto& [sa, sb] : cases) {
    BOOST_TEST_CONTEXT("shapes " << sa.str() << " and " << sb.str() << " on " << B::name) {
      auto a = random_tensor<double, B>(sa, seed++), b = random_tensor<double, B>(sb, seed++);
      auto r = gradcheck<B>([](const auto& in) { return pairwise_distance(in[0], in[1]); }, {a, b});
      BOOST_TEST(r.ok, r.report);
    }
  }
}

}  // namespace

BOOST_AUTO_TEST_CASE(l2_normalize_passes_gradcheck_on_cpu_ref) { check_l2_normalize<cpu_ref>(); }
BOOST_AUTO_TEST_CASE(l2_normalize_passes_gradcheck_on_cpu) { check_l2_normalize<cpu>(); }
BOOST_AUTO_TEST_CASE(pairwise_distance_passes_gradcheck_on_cpu_ref) { check_pairwise_distance<cpu_ref>(); }
BOOST_AUTO_TEST_CASE(pairwise_distance_passes_gradcheck_on_cpu) { check_pairwise_distance<cpu>(); }
