#pragma once
// Kernel interface of pixel_shuffle / space_to_depth, shared by ops/shuffle.hpp and the backends.
#include "kpt/core/shape.hpp"

namespace kpt::kernels {

// The low-resolution side is [n, c * r * r, h, w], the high-resolution side [n, c, h * r, w * r]:
//   hi[n, c, y * r + i, x * r + j] = lo[n, c * r * r + i * r + j, y, x].
struct shuffle_geom {
  index_t n = 0, c = 0, h = 0, w = 0, r = 1;
};

// Signatures every backend implements (T = float, double):
//   pixel_shuffle(B, const shuffle_geom&, const T* lo, T* hi)   (lo -> hi)
//   space_to_depth(B, const shuffle_geom&, const T* hi, T* lo)  (hi -> lo, the inverse)

}  // namespace kpt::kernels
