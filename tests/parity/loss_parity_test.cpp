// cpu vs cpu_ref for cross_entropy on SuperPoint detector logits [2, 65, 30, 40] (loss and gradients).
#include "support.hpp"

#include "kpt/ops/loss.hpp"

using namespace kpt;
using kpt::test::max_rel_diff;
using kpt::test::random_tensor;

namespace {
tensor<std::int64_t, cpu_ref> random_targets(const shape& s, index_t classes, std::uint64_t seed) {
  rng g(seed);
  auto t = tensor<std::int64_t, cpu_ref>::empty(s);
  for (auto& v : t.values()) v = std::int64_t(g.below(std::uint64_t(classes)));
  return t;
}

void compare(const shape& ls, bool weighted, std::uint64_t seed) {
  std::vector<index_t> tdims{ls[0]};
  for (int d = 2; d < ls.rank(); ++d) tdims.push_back(ls[d]);
  const shape ts{std::span<const index_t>(tdims)};
  auto logits = random_tensor<float>(ls, seed, -8, 8);
  auto target = random_targets(ts, ls[1], seed + 1);
  auto weight = tensor<float, cpu_ref>::empty(ts);  // a 0/1 mask, as the border mask of SuperPoint
  rng g(seed + 2);
  for (auto& v : weight.values()) v = g.uniform() < 0.8 ? 1.f : 0.f;
  auto lr = logits.clone().requires_grad_();
  auto lc = logits.to<cpu>().requires_grad_();
  auto wr = weight.clone().requires_grad_();
  auto wc = weight.to<cpu>().requires_grad_();
  auto yr = weighted ? cross_entropy(lr, target, wr) : cross_entropy(lr, target);
  auto yc = weighted ? cross_entropy(lc, target.to<cpu>(), wc) : cross_entropy(lc, target.to<cpu>());
  BOOST_TEST(max_rel_diff(yc, yr) <= 1e-5);
  yr.backward();
  yc.backward();
  BOOST_TEST(max_rel_diff(lc.grad(), lr.grad()) <= 1e-5);
  if (weighted) BOOST_TEST(max_rel_diff(wc.grad(), wr.grad()) <= 1e-5);
}
}  // namespace

BOOST_AUTO_TEST_CASE(cross_entropy_cpu_matches_cpu_ref) {
  compare({2, 65, 30, 40}, true, 1);
  compare({2, 65, 30, 40}, false, 5);
  compare({3, 65, 7, 13}, true, 9);  // odd pixel counts: SIMD tails
  compare({300, 65}, true, 13);      // [N, C] layout
  compare({2, 65, 60, 80}, true, 17);
}
