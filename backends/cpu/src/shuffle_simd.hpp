#pragma once
// pixel_shuffle / space_to_depth on the cpu backend: a permutation, so the loops are arranged
// for sequential access on the high-resolution side and r sequential streams on the other.
// Parallel over the N * C high-resolution planes. Compiled only with KPT_CPU_ARCH set.
#include "kpt/kernels/shuffle.hpp"

namespace kpt::cpu_detail {

template <class Arch, class T>
void pixel_shuffle_simd(Arch, const kernels::shuffle_geom& g, const T* lo, T* hi);
template <class Arch, class T>
void space_to_depth_simd(Arch, const kernels::shuffle_geom& g, const T* hi, T* lo);

}  // namespace kpt::cpu_detail

#ifdef KPT_CPU_ARCH
#include <xsimd/xsimd.hpp>  // the arch types

#include <algorithm>
#include <cstring>

#include "parallel.hpp"

namespace kpt::cpu_detail {

namespace shuffle_detail {

// For every high-resolution plane p = n * c + c' and row y * r + i: f(hi_row, lo_row, plane),
// where hi_row is the offset of that row and lo_row the offset of row y of low-resolution plane
// p * r * r + i * r (the j-th source is plane further).
template <class F>
void for_each_row(const kernels::shuffle_geom& g, F f) {
  const index_t r = g.r, H = g.h * r, W = g.w * r, plane = g.h * g.w;
  const index_t grain = std::max<index_t>(1, elementwise_grain / std::max<index_t>(1, H * W));
  parallel_for(0, g.n * g.c, grain, [&](index_t p0, index_t p1) {
    for (index_t p = p0; p < p1; ++p)
      for (index_t y = 0; y < g.h; ++y)
        for (index_t i = 0; i < r; ++i) f(p * H * W + (y * r + i) * W, (p * r * r + i * r) * plane + y * g.w, plane);
  });
}

// out[x * r + j] = src[j * plane + x]. With r a compile-time constant (2, 4, 8: the factors
// the models use) the compiler turns the inner loop into SIMD interleaves. (xsimd 8.1's
// zip_lo / zip_hi interleave within 128-bit lanes only, so they do not fit.)
template <index_t R, class T>
inline void interleave(const T* src, index_t plane, index_t w, index_t r, T* out) {
  const index_t rr = R ? R : r;
  for (index_t x = 0; x < w; ++x)
    for (index_t j = 0; j < rr; ++j) out[x * rr + j] = src[j * plane + x];
}
// The inverse: dst[j * plane + x] = in[x * r + j].
template <index_t R, class T>
inline void deinterleave(const T* in, index_t plane, index_t w, index_t r, T* dst) {
  const index_t rr = R ? R : r;
  for (index_t x = 0; x < w; ++x)
    for (index_t j = 0; j < rr; ++j) dst[j * plane + x] = in[x * rr + j];
}

}  // namespace shuffle_detail

template <class Arch, class T>
void pixel_shuffle_simd(Arch, const kernels::shuffle_geom& g, const T* lo, T* hi) {
  namespace sd = shuffle_detail;
  const index_t r = g.r, w = g.w;
  if (r == 1) return (void)std::memcpy(hi, lo, sizeof(T) * std::size_t(g.n * g.c * g.h * g.w));
  sd::for_each_row(g, [&](index_t hrow, index_t lrow, index_t plane) {
    switch (r) {
      case 2: return sd::interleave<2>(lo + lrow, plane, w, r, hi + hrow);
      case 4: return sd::interleave<4>(lo + lrow, plane, w, r, hi + hrow);
      case 8: return sd::interleave<8>(lo + lrow, plane, w, r, hi + hrow);
      default: return sd::interleave<0>(lo + lrow, plane, w, r, hi + hrow);
    }
  });
}

template <class Arch, class T>
void space_to_depth_simd(Arch, const kernels::shuffle_geom& g, const T* hi, T* lo) {
  namespace sd = shuffle_detail;
  const index_t r = g.r, w = g.w;
  if (r == 1) return (void)std::memcpy(lo, hi, sizeof(T) * std::size_t(g.n * g.c * g.h * g.w));
  sd::for_each_row(g, [&](index_t hrow, index_t lrow, index_t plane) {
    switch (r) {
      case 2: return sd::deinterleave<2>(hi + hrow, plane, w, r, lo + lrow);
      case 4: return sd::deinterleave<4>(hi + hrow, plane, w, r, lo + lrow);
      case 8: return sd::deinterleave<8>(hi + hrow, plane, w, r, lo + lrow);
      default: return sd::deinterleave<0>(hi + hrow, plane, w, r, lo + lrow);
    }
  });
}

#define KPT_SHUFFLE_INSTANTIATE(T)                                                                             \
  template void pixel_shuffle_simd<KPT_CPU_ARCH, T>(KPT_CPU_ARCH, const kernels::shuffle_geom&, const T*, T*); \
  template void space_to_depth_simd<KPT_CPU_ARCH, T>(KPT_CPU_ARCH, const kernels::shuffle_geom&, const T*, T*);
KPT_SHUFFLE_INSTANTIATE(float)
KPT_SHUFFLE_INSTANTIATE(double)
#undef KPT_SHUFFLE_INSTANTIATE

}  // namespace kpt::cpu_detail
#endif
