#pragma once
// Helpers shared by the test folders: random tensors and element-wise comparisons.
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <string>

#include "kpt/backends/cpu.hpp"
#include "kpt/backends/cpu_ref.hpp"
#include "kpt/core/random.hpp"
#include "kpt/core/tensor.hpp"

namespace kpt::test {

// Uniform values in [lo, hi), reproducible from the seed.
template <class T, class B = cpu_ref>
tensor<T, B> random_tensor(const shape& s, std::uint64_t seed, double lo = -1.0, double hi = 1.0) {
  rng g(seed);
  auto t = tensor<T, cpu_ref>::empty(s);
  for (auto& v : t.values()) v = T(g.uniform(lo, hi));
  if constexpr (std::is_same_v<B, cpu_ref>) return t;
  else return t.template to<B>();
}

// Largest |a - b| / max(|b|, floor): relative error with a floor so that values near zero are
// judged absolutely.
template <class T, class B1, class B2>
double max_rel_diff(const tensor<T, B1>& a, const tensor<T, B2>& b, double floor = 1.0) {
  BOOST_REQUIRE_MESSAGE(a.shape() == b.shape(), "shapes differ: " + a.shape().str() + " vs " + b.shape().str());
  const auto va = a.to_vector(), vb = b.to_vector();
  double worst = 0;
  for (std::size_t i = 0; i < va.size(); ++i) {
    const double d = std::abs(double(va[i]) - double(vb[i])) / std::max(std::abs(double(vb[i])), floor);
    if (!(d <= worst)) worst = d;  // NaN propagates as the worst
  }
  return worst;
}

}  // namespace kpt::test
