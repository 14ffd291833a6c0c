#pragma once
// Per-sample random streams: every dataset sample is a pure function of (seed, index), so it is
// the same whatever thread makes it and in whatever order. `stream` separates independent uses
// inside one sample (drawing, augmentation, homography, ...).
#include <cstdint>

#include "kpt/core/random.hpp"
#include "kpt/core/shape.hpp"

namespace kpt::data {

inline rng sample_rng(std::uint64_t seed, index_t index, std::uint64_t stream = 0) {
  return rng(splitmix64(splitmix64(splitmix64(seed) ^ std::uint64_t(index)) + 0x632be59bd9b4e019ull * (stream + 1)));
}

// numpy.random.randint(lo, hi): uniform integer in [lo, hi); lo when the range is empty.
inline index_t randint(rng& g, index_t lo, index_t hi) {
  return hi > lo ? lo + index_t(g.below(std::uint64_t(hi - lo))) : lo;
}
// numpy's randint with float bounds truncates them first.
inline index_t randint_f(rng& g, double lo, double hi) { return randint(g, index_t(lo), index_t(hi)); }

}  // namespace kpt::data
