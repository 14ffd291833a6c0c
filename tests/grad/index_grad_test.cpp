// gradcheck of index_select, gather and topk's values, on cpu_ref and cpu.
#include "support.hpp"

#include "kpt/autograd/gradcheck.hpp"
#include "kpt/ops/index.hpp"
#include "kpt/ops/select.hpp"

using namespace kpt;
using kpt::test::random_tensor;

namespace {
template <class B>
tensor<std::int64_t, B> random_indices(const shape& s, index_t limit, std::uint64_t seed) {
  rng g(seed);
  auto t = tensor<std::int64_t, cpu_ref>::empty(s);
  for (auto& v : t.values()) v = std::int64_t(g.below(std::uint64_t(limit)));
  return t.template to<B>();
}

template <class B>
void index_ops_gradcheck() {
  // Repeated indices (k > n) so the scatter-add has collisions.
  struct sel_case {
    shape x;
    int axis;
    index_t k;
  };
  std::uint64_t seed = 100;
  for (const auto& c : {sel_case{{5, 3}, 0, 7}, sel_case{{2, 5, 3}, 1, 4}, sel_case{{2, 3, 7}, -1, 9},
                        sel_case{{3, 4, 1, 2}, 2, 2}}) {
    BOOST_TEST_CONTEXT("index_select " << c.x.str() << " axis " << c.axis) {
      const int ax = c.x.axis(c.axis, "test");
      auto idx = random_indices<B>({c.k}, c.x[ax], seed++);
      auto r = gradcheck<B>([&](const auto& in) { return index_select(in[0], c.axis, idx); },
                            {random_tensor<double, B>(c.x, seed++)});
      BOOST_TEST(r.ok, r.report);
    }
  }
  struct gather_case {
    shape x, idx;
    int axis;
  };
  for (const auto& c : {gather_case{{3, 5}, {3, 8}, 1}, gather_case{{4, 3}, {6, 2}, 0},
                        gather_case{{2, 5, 3}, {2, 9, 3}, 1}, gather_case{{2, 3, 4, 5}, {1, 2, 6, 3}, 2},
                        gather_case{{2, 3, 7}, {2, 2, 4}, -1}}) {
    BOOST_TEST_CONTEXT("gather " << c.x.str() << " idx " << c.idx.str() << " axis " << c.axis) {
      const int ax = c.x.axis(c.axis, "test");
      auto idx = random_indices<B>(c.idx, c.x[ax], seed++);
      auto r = gradcheck<B>([&](const auto& in) { return gather(in[0], c.axis, idx); },
                            {random_tensor<double, B>(c.x, seed++)});
      BOOST_TEST(r.ok, r.report);
    }
  }
  // topk's values are a gather of the chosen entries (distinct random values: no ties to flip).
  for (bool largest : {true, false}) {
    auto r = gradcheck<B>([&](const auto& in) { return topk(in[0], 3, 1, largest).first; },
                          {random_tensor<double, B>({2, 7, 3}, seed++)});
    BOOST_TEST(r.ok, r.report);
  }
}
}  // namespace

BOOST_AUTO_TEST_CASE(index_ops_pass_gradcheck_cpu_ref) { index_ops_gradcheck<cpu_ref>(); }
BOOST_AUTO_TEST_CASE(index_ops_pass_gradcheck_cpu) { index_ops_gradcheck<cpu>(); }
