// cpu vs cpu_ref for the shape ops on SuperPoint-shaped tensors (forward and backward).
#include "support.hpp"

#include "kpt/ops/shape.hpp"

using namespace kpt;
using kpt::test::max_rel_diff;
using kpt::test::random_tensor;

namespace {
// Runs f on both backends with gradients and compares outputs and input gradients.
template <class F>
void compare(F f, std::vector<shape> shapes, std::uint64_t seed) {
  std::vector<tensor<float, cpu_ref>> r;
  std::vector<tensor<float, cpu>> c;
  for (const auto& s : shapes) {
    auto t = random_tensor<float>(s, seed++);
    c.push_back(t.to<cpu>().requires_grad_());
    r.push_back(t.requires_grad_());
  }
  auto yr = f(r);
  auto yc = f(c);
  BOOST_TEST(max_rel_diff(yc, yr) <= 1e-5);
  auto g = random_tensor<float>(yr.shape(), seed++);
  autograd::backward(yr, g);
  autograd::backward(yc, g.template to<cpu>());
  for (std::size_t i = 0; i < r.size(); ++i) BOOST_TEST(max_rel_diff(c[i].grad(), r[i].grad()) <= 1e-5);
}
}  // namespace

BOOST_AUTO_TEST_CASE(shape_ops_cpu_matches_cpu_ref) {
  // Dense descriptors [N, 256, Hc, Wc] -> [N, Hc*Wc, 256], the usual permute + reshape.
  compare([](const auto& in) { return reshape(permute(in[0], {0, 2, 3, 1}), {2, -1, 256}); }, {{2, 256, 30, 40}}, 1);
  compare([](const auto& in) { return permute(in[0], {0, 2, 3, 1}); }, {{2, 64, 60, 80}}, 3);
  compare([](const auto& in) { return permute(in[0], {3, 1, 0, 2}); }, {{2, 7, 13, 5}}, 5);
  compare([](const auto& in) { return transpose(in[0], 1, 2); }, {{2, 4800, 65}}, 7);
  compare([](const auto& in) { return concat({in[0], in[1]}, 1); }, {{2, 64, 60, 80}, {2, 1, 60, 80}}, 9);
  compare([](const auto& in) { return concat({in[0], in[1], in[0]}, 0); }, {{2, 64, 60, 80}, {1, 64, 60, 80}}, 12);
  // Dropping the dustbin channel of the 65-channel detector head.
  compare([](const auto& in) { return slice(in[0], 1, 0, 64); }, {{2, 65, 30, 40}}, 15);
  compare([](const auto& in) { return slice(in[0], -1, 3, 77); }, {{2, 64, 60, 80}}, 17);
}
