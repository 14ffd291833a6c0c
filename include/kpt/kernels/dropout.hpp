#pragma once
// Kernel interface of dropout, shared by ops/dropout.hpp and the backends.
#include <cmath>
#include <cstdint>

#include "kpt/core/random.hpp"
#include "kpt/core/shape.hpp"

namespace kpt::kernels {

// x viewed as [groups, group_size]: group k is kept when counter_uniform(seed, k) >= p, i.e. with
// probability 1 - p, and then scaled by 1 / (1 - p). Element-wise dropout has group_size 1,
// dropout2d has one group per (sample, channel) plane. The mask is a pure function of
// (seed, k), so it does not depend on the thread count, and backward is the same map applied to
// the output gradient.
struct dropout_geom {
  index_t groups = 0, group_size = 1;
  double p = 0;
  std::uint64_t seed = 0;
};

inline bool dropout_keep(const dropout_geom& g, index_t k) {
  return double(counter_uniform(g.seed, std::uint64_t(k))) >= g.p;
}

// The same test as a float comparison without branches: counter_uniform returns m * 2^-24 for an
// integer m, so u >= p exactly when u >= ceil(p * 2^24) * 2^-24, which a float holds exactly.
inline float dropout_threshold(double p) { return float(std::ceil(p * 0x1.0p24) * 0x1.0p-24); }

// Signature every backend implements (T = float, double):
//   dropout_apply(B, const dropout_geom&, const T* x, T* y)

}  // namespace kpt::kernels
