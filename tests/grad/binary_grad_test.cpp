#include "support.hpp"

#include "kpt/autograd/gradcheck.hpp"
#include "kpt/ops/binary.hpp"

using namespace kpt;
using D = tensor<double, cpu_ref>;
using Dc = tensor<double, cpu>;
using kpt::test::random_tensor;

namespace {
template <class B, class F>
void check_binary(F f, const shape& sa, const shape& sb, std::uint64_t seed) {
  // Divisors are kept away from zero.
  auto a = random_tensor<double, B>(sa, seed), b = random_tensor<double, B>(sb, seed + 1, 0.5, 2.0);
  auto r = gradcheck<B>([&](const auto& in) { return f(in[0], in[1]); }, {a, b});
  BOOST_TEST(r.ok, r.report);
}
}  // namespace

BOOST_AUTO_TEST_CASE(binary_ops_pass_gradcheck_with_broadcasting) {
  const std::vector<std::pair<shape, shape>> cases = {
      {{3, 5}, {3, 5}}, {{2, 3, 5}, {5}}, {{2, 1, 4}, {3, 1}}, {{4}, {}}, {{2, 3, 1, 5}, {1, 3, 7, 1}}};
  std::uint64_t seed = 1;
  for (const auto& [sa, sb] : cases) {
    BOOST_TEST_CONTEXT("shapes " << sa.str() << " and " << sb.str()) {
      check_binary<cpu_ref>([](auto x, auto y) { return x + y; }, sa, sb, seed++);
      check_binary<cpu_ref>([](auto x, auto y) { return x - y; }, sa, sb, seed++);
      check_binary<cpu_ref>([](auto x, auto y) { return x * y; }, sa, sb, seed++);
      check_binary<cpu_ref>([](auto x, auto y) { return x / y; }, sa, sb, seed++);
      check_binary<cpu>([](auto x, auto y) { return x / y; }, sa, sb, seed++);
      check_binary<cpu>([](auto x, auto y) { return x * y; }, sa, sb, seed++);
    }
  }
}

BOOST_AUTO_TEST_CASE(gradcheck_catches_a_wrong_gradient) {
  // x * x is right; feeding the same values through a detached copy drops half the gradient.
  auto x = random_tensor<double>({6}, 3);
  auto r = gradcheck<cpu_ref>([](const auto& in) { return in[0] * in[0].detach(); }, {x});
  BOOST_TEST(!r.ok);
  BOOST_TEST(!r.report.empty());
}

BOOST_AUTO_TEST_CASE(gradcheck_on_a_function_returning_nan_throws) {
  auto x = random_tensor<double>({4}, 5);
  BOOST_CHECK_EXCEPTION(
      gradcheck<cpu_ref>([](const auto& in) { return in[0] / D::zeros({4}) * D::zeros({4}); }, {x}), numeric_error,
      [](const numeric_error& e) { return std::string(e.what()).find("non-finite") != std::string::npos; });
}
