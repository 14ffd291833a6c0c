#pragma once
// Reference pixel_shuffle / space_to_depth: the index formula, element by element.
#include "kpt/core/backend.hpp"
#include "kpt/kernels/shuffle.hpp"

namespace kpt::kernels {

namespace ref_detail {
// Calls f(lo_index, hi_index) for every element.
template <class F>
void for_each_shuffle_pair(const shuffle_geom& g, F f) {
  const index_t r = g.r, H = g.h * r, W = g.w * r;
  for (index_t n = 0; n < g.n; ++n)
    for (index_t c = 0; c < g.c; ++c)
      for (index_t y = 0; y < H; ++y)
        for (index_t x = 0; x < W; ++x) {
          const index_t lc = c * r * r + (y % r) * r + x % r;
          const index_t lo = ((n * g.c * r * r + lc) * g.h + y / r) * g.w + x / r;
          const index_t hi = ((n * g.c + c) * H + y) * W + x;
          f(lo, hi);
        }
}
}  // namespace ref_detail

template <class T>
void pixel_shuffle(cpu_ref, const shuffle_geom& g, const T* lo, T* hi) {
  ref_detail::for_each_shuffle_pair(g, [&](index_t l, index_t h) { hi[h] = lo[l]; });
}

template <class T>
void space_to_depth(cpu_ref, const shuffle_geom& g, const T* hi, T* lo) {
  ref_detail::for_each_shuffle_pair(g, [&](index_t l, index_t h) { lo[l] = hi[h]; });
}

}  // namespace kpt::kernels
