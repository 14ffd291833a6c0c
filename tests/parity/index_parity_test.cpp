// cpu vs cpu_ref for index_select and gather on SuperPoint-shaped tensors (forward and backward).
#include "support.hpp"

#include "kpt/ops/index.hpp"

using namespace kpt;
using kpt::test::max_rel_diff;
using kpt::test::random_tensor;

namespace {
tensor<std::int64_t, cpu_ref> random_indices(const shape& s, index_t limit, std::uint64_t seed) {
  rng g(seed);
  auto t = tensor<std::int64_t, cpu_ref>::empty(s);
  for (auto& v : t.values()) v = std::int64_t(g.below(std::uint64_t(limit)));
  return t;
}

template <class F>
void compare(F f, const shape& xs, std::uint64_t seed) {
  auto x = random_tensor<float>(xs, seed);
  auto xr = x.clone().requires_grad_();
  auto xc = x.to<cpu>().requires_grad_();
  auto yr = f(xr);
  auto yc = f(xc);
  BOOST_TEST(max_rel_diff(yc, yr) <= 1e-5);
  auto g = random_tensor<float>(yr.shape(), seed + 1);
  autograd::backward(yr, g);
  autograd::backward(yc, g.template to<cpu>());
  BOOST_TEST(max_rel_diff(xc.grad(), xr.grad()) <= 1e-5);
}
}  // namespace

BOOST_AUTO_TEST_CASE(index_ops_cpu_matches_cpu_ref) {
  // 300 descriptor rows (with repeats) out of 2 x 30 x 40 cells of 256 values.
  auto rows = random_indices({300}, 2400, 1);
  compare([&](const auto& x) { return index_select(x, 0, rows.to<typename std::decay_t<decltype(x)>::backend_type>()); },
          {2400, 256}, 2);
  // Channels picked from a map.
  auto ch = random_indices({100}, 64, 3);
  compare([&](const auto& x) { return index_select(x, 1, ch.to<typename std::decay_t<decltype(x)>::backend_type>()); },
          {2, 64, 60, 80}, 4);
  // Scores gathered at 300 cells per image, and along the channel axis per pixel.
  auto cells = random_indices({2, 65, 300}, 1200, 5);
  compare([&](const auto& x) { return gather(x, 2, cells.to<typename std::decay_t<decltype(x)>::backend_type>()); },
          {2, 65, 1200}, 6);
  auto chan = random_indices({2, 65, 30, 40}, 65, 7);
  compare([&](const auto& x) { return gather(x, 1, chan.to<typename std::decay_t<decltype(x)>::backend_type>()); },
          {2, 65, 30, 40}, 8);
  auto first = random_indices({500, 256}, 2400, 9);
  compare([&](const auto& x) { return gather(x, 0, first.to<typename std::decay_t<decltype(x)>::backend_type>()); },
          {2400, 256}, 10);
}
