// gradcheck of reshape, permute, transpose, concat and slice, on cpu_ref and cpu.
#include "support.hpp"

#include "kpt/autograd/gradcheck.hpp"
#include "kpt/ops/binary.hpp"
#include "kpt/ops/shape.hpp"

using namespace kpt;
using kpt::test::random_tensor;

namespace {
template <class B, class F>
void check(F f, std::vector<shape> shapes, std::uint64_t seed) {
  std::vector<tensor<double, B>> in;
  for (const auto& s : shapes) in.push_back(random_tensor<double, B>(s, seed++));
  auto r = gradcheck<B>(f, in);
  BOOST_TEST(r.ok, r.report);
}
template <class B>
void shape_ops_gradcheck() {
  // A product with a second input makes the gradient depend on where each element went.
  check<B>([](const auto& in) { return reshape(in[0], {5, -1}) * in[1]; }, {{3, 5}, {5, 3}}, 1);
  check<B>([](const auto& in) { return reshape(in[0], {-1}) * in[1]; }, {{2, 3, 1, 5}, {30}}, 3);
  check<B>([](const auto& in) { return permute(in[0], {0, 2, 3, 1}) * in[1]; }, {{2, 3, 5, 7}, {2, 5, 7, 3}}, 5);
  check<B>([](const auto& in) { return permute(in[0], {2, 0, 1}); }, {{3, 1, 4}}, 7);
  check<B>([](const auto& in) { return permute(in[0], {4, 1, 3, 0, 2}); }, {{2, 3, 1, 4, 3}}, 8);
  check<B>([](const auto& in) { return transpose(in[0], -1, -2) * in[1]; }, {{2, 3, 5}, {2, 5, 3}}, 9);
  check<B>([](const auto& in) { return concat({in[0], in[1], in[0]}, 1) * in[2]; }, {{2, 3, 5}, {2, 1, 5}, {2, 7, 5}},
           11);
  check<B>([](const auto& in) { return concat({in[0], in[1]}, 0); }, {{3, 4}, {1, 4}}, 14);
  check<B>([](const auto& in) { return concat({in[0], in[1]}, -1); }, {{2, 3, 3}, {2, 3, 4}}, 16);
  check<B>([](const auto& in) { return slice(in[0], 1, 1, 4) * in[1]; }, {{2, 5, 3}, {2, 3, 3}}, 18);
  check<B>([](const auto& in) { return slice(in[0], -1, 2, -1); }, {{3, 7}}, 20);
  check<B>([](const auto& in) { return slice(in[0], 0, 0, 1); }, {{3, 2, 2}}, 21);
  // Chains: the usual descriptor reshuffle [N, C, H, W] -> [N, H*W, C] and back.
  check<B>(
      [](const auto& in) {
        auto d = reshape(permute(in[0], {0, 2, 3, 1}), {2, -1, 3});
        return permute(reshape(d * in[1], {2, 4, 5, 3}), {0, 3, 1, 2});
      },
      {{2, 3, 4, 5}, {2, 20, 3}}, 22);
}
}  // namespace

BOOST_AUTO_TEST_CASE(shape_ops_pass_gradcheck_cpu_ref) { shape_ops_gradcheck<cpu_ref>(); }
BOOST_AUTO_TEST_CASE(shape_ops_pass_gradcheck_cpu) { shape_ops_gradcheck<cpu>(); }

BOOST_AUTO_TEST_CASE(concat_graph_is_freed_after_backward) {
  auto a = tensor<double, cpu_ref>::ones({2}).requires_grad_();
  auto y = concat({a, a}, 0) * tensor<double, cpu_ref>::ones({4});
  auto s = tensor<double, cpu_ref>::ones({4});
  autograd::backward(y, s);
  BOOST_TEST(a.grad().to_vector() == (std::vector<double>{2, 2}));
  BOOST_CHECK_THROW(autograd::backward(y, s), autograd_error);
}
