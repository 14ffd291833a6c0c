#include "support.hpp"

#include "kpt/autograd/gradcheck.hpp"
#include "kpt/ops/norm.hpp"

using namespace kpt;
using kpt::test::random_tensor;

namespace {
template <class B>
void check_batch_norm(const shape& s, bool training, bool affine, std::uint64_t seed) {
  using Tn = tensor<double, B>;
  const index_t C = s[1];
  auto x = random_tensor<double, B>(s, seed, -2.0, 3.0);
  std::vector<Tn> inputs{x};
  if (affine) {
    inputs.push_back(random_tensor<double, B>({C}, seed + 1, 0.5, 1.5));
    inputs.push_back(random_tensor<double, B>({C}, seed + 2));
  }
  // Running stats away from the batch ones, so that eval mode is a different function.
  auto rm = random_tensor<double, B>({C}, seed + 3), rv = random_tensor<double, B>({C}, seed + 4, 0.5, 2.0);
  auto r = gradcheck<B>(
      [&](const auto& in) {
        const Tn w = affine ? in[1] : Tn{}, b = affine ? in[2] : Tn{};
        return batch_norm(in[0], w, b, rm, rv, {.training = training, .momentum = 0.1, .eps = 1e-5});
      },
      inputs);
  BOOST_TEST(r.ok, r.report);
}

template <class B>
void check_instance_norm(const shape& s, std::uint64_t seed) {
  auto x = random_tensor<double, B>(s, seed, -1.0, 2.0);
  auto r = gradcheck<B>([](const auto& in) { return instance_norm(in[0], 1e-5); }, {x});
  BOOST_TEST(r.ok, r.report);
}
}  // namespace

BOOST_AUTO_TEST_CASE(batch_norm_passes_gradcheck_in_training_and_eval) {
  // [N, C], [N, C, L], [N, C, H, W]; the last one has rows long enough for the SIMD path.
  const std::vector<shape> shapes = {{5, 3}, {2, 3, 7}, {2, 4, 5, 6}, {3, 2, 3, 17}, {1, 2, 3, 3}};
  std::uint64_t seed = 200;
  for (const auto& s : shapes)
    for (bool training : {true, false})
      for (bool affine : {true, false}) {
        BOOST_TEST_CONTEXT("x " << s.str() << (training ? " training" : " eval") << (affine ? " affine" : "")) {
          check_batch_norm<cpu_ref>(s, training, affine, seed += 5);
          check_batch_norm<cpu>(s, training, affine, seed += 5);
        }
      }
}

BOOST_AUTO_TEST_CASE(batch_norm_gradient_of_one_input_at_a_time) {
  // Only weight (or only x) requiring grad exercises the kernels' null gradient outputs.
  using Tn = tensor<double, cpu>;
  auto x = random_tensor<double, cpu>({2, 3, 4, 9}, 250);
  auto w = random_tensor<double, cpu>({3}, 251), b = random_tensor<double, cpu>({3}, 252);
  Tn rm, rv;
  auto r1 = gradcheck<cpu>([&](const auto& in) { return batch_norm(x, in[0], b, rm, rv); }, {w});
  BOOST_TEST(r1.ok, r1.report);
  auto r2 = gradcheck<cpu>([&](const auto& in) { return batch_norm(in[0], w, b, rm, rv); }, {x});
  BOOST_TEST(r2.ok, r2.report);
}

BOOST_AUTO_TEST_CASE(instance_norm_passes_gradcheck) {
  const std::vector<shape> shapes = {{2, 3, 7}, {2, 2, 5, 6}, {1, 3, 3, 19}, {3, 1, 2}};
  std::uint64_t seed = 300;
  for (const auto& s : shapes) {
    BOOST_TEST_CONTEXT("x " << s.str()) {
      check_instance_norm<cpu_ref>(s, seed++);
      check_instance_norm<cpu>(s, seed++);
    }
  }
}
