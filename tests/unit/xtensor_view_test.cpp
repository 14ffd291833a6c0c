#include "support.hpp"

#include <xtensor/xmath.hpp>

#include "kpt/core/xtensor_view.hpp"

using namespace kpt;

BOOST_AUTO_TEST_CASE(xtensor_view_aliases_the_buffer) {
  auto t = tensor<float, cpu>::from({2, 3}, {1, 2, 3, 4, 5, 6});
  auto v = as_xtensor(t);
  BOOST_TEST(v.dimension() == 2u);
  BOOST_TEST(v.shape()[0] == 2u);
  BOOST_TEST(v(1, 2) == 6.f);
  v(0, 1) = 20.f;  // writes through to the tensor
  BOOST_TEST(t.at({0, 1}) == 20.f);
  BOOST_TEST(xt::sum(v)() == 1.f + 20 + 3 + 4 + 5 + 6);
  const auto& ct = t;
  auto cv = as_xtensor(ct);
  BOOST_TEST(cv(1, 0) == 4.f);
  BOOST_TEST(static_cast<const void*>(&cv(0, 0)) == static_cast<const void*>(t.data()));
}
