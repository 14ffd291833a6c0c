// gradcheck of cross_entropy (to the logits and to the item weights), on cpu_ref and cpu.
#include "support.hpp"

#include "kpt/autograd/gradcheck.hpp"
#include "kpt/ops/loss.hpp"

using namespace kpt;
using kpt::test::random_tensor;

namespace {
template <class B>
tensor<std::int64_t, B> random_targets(const shape& s, index_t classes, std::uint64_t seed) {
  rng g(seed);
  auto t = tensor<std::int64_t, cpu_ref>::empty(s);
  for (auto& v : t.values()) v = std::int64_t(g.below(std::uint64_t(classes)));
  return t.template to<B>();
}

template <class B>
void cross_entropy_gradcheck() {
  // [N, C], [N, C, L], [N, C, H, W] with odd sizes; inner sizes above and below the SIMD width.
  const std::vector<shape> shapes = {{3, 5}, {2, 65}, {2, 4, 7}, {2, 5, 3, 7}, {3, 3, 4, 5}, {1, 2, 1, 1}};
  std::uint64_t seed = 200;
  for (const auto& s : shapes) {
    BOOST_TEST_CONTEXT("logits " << s.str()) {
      std::vector<index_t> tdims{s[0]};
      for (int d = 2; d < s.rank(); ++d) tdims.push_back(s[d]);
      const shape ts{std::span<const index_t>(tdims)};
      auto target = random_targets<B>(ts, s[1], seed++);
      auto logits = random_tensor<double, B>(s, seed++, -4, 4);
      auto weight = random_tensor<double, B>(ts, seed++, 0.1, 1.0);
      auto r1 = gradcheck<B>([&](const auto& in) { return cross_entropy(in[0], target); }, {logits});
      BOOST_TEST(r1.ok, r1.report);
      auto r2 = gradcheck<B>([&](const auto& in) { return cross_entropy(in[0], target, in[1]); }, {logits, weight});
      BOOST_TEST(r2.ok, r2.report);
      // A 0/1 mask (as the SuperPoint detector loss uses).
      auto mask = tensor<double, cpu_ref>::empty(ts);
      rng g(seed++);
      for (auto& v : mask.values()) v = g.uniform() < 0.6 ? 1.0 : 0.0;
      mask.values()[0] = 1.0;
      auto m = mask.template to<B>();
      auto r3 = gradcheck<B>([&](const auto& in) { return cross_entropy(in[0], target, m); }, {logits});
      BOOST_TEST(r3.ok, r3.report);
    }
  }
}
}  // namespace

BOOST_AUTO_TEST_CASE(cross_entropy_passes_gradcheck_cpu_ref) { cross_entropy_gradcheck<cpu_ref>(); }
BOOST_AUTO_TEST_CASE(cross_entropy_passes_gradcheck_cpu) { cross_entropy_gradcheck<cpu>(); }

BOOST_AUTO_TEST_CASE(cross_entropy_with_zero_total_weight_has_zero_gradient) {
  auto l = random_tensor<double>({2, 3}, 1).requires_grad_();
  auto w = tensor<double, cpu_ref>::zeros({2}).requires_grad_();
  auto t = tensor<std::int64_t, cpu_ref>::from({2}, {0, 2});
  auto loss = cross_entropy(l, t, w);
  BOOST_TEST(loss.item() == 0.0);
  loss.backward();
  BOOST_TEST(l.grad().to_vector() == std::vector<double>(6, 0.0));
  BOOST_TEST(w.grad().to_vector() == std::vector<double>(2, 0.0));
}
