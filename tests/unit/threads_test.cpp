#include "support.hpp"

#include "kpt/ops/binary.hpp"

using namespace kpt;

BOOST_AUTO_TEST_CASE(set_num_threads_limits_and_validates) {
  const int before = num_threads();
  set_num_threads(1);
  BOOST_TEST(num_threads() == 1);
  // Results do not depend on the thread count.
  auto a = kpt::test::random_tensor<float, cpu>({2, 64, 60, 80}, 1), b = kpt::test::random_tensor<float, cpu>({64, 1, 1}, 2);
  const auto one = (a * b).to_vector();
  set_num_threads(2);
  BOOST_TEST(num_threads() == 2);
  BOOST_TEST((a * b).to_vector() == one);
  BOOST_CHECK_THROW(set_num_threads(0), value_error);
  set_num_threads(before);
}
