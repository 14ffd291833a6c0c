#pragma once
// SIMD 2-D max pooling, templated on the xsimd arch. The definitions are compiled only in the
// per-arch translation units (KPT_CPU_ARCH set, arch flags on).
#include "kpt/kernels/pool.hpp"

namespace kpt::cpu_detail {

template <class Arch, class T>
void max_pool2d_forward_simd(Arch, const kernels::pool2d_geom& g, const T* x, T* y, index_t* argmax);
template <class Arch, class T>
void max_pool2d_backward_simd(Arch, const kernels::pool2d_geom& g, const T* gy, const index_t* argmax, T* gx);

}  // namespace kpt::cpu_detail

#ifdef KPT_CPU_ARCH
#include <xsimd/xsimd.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "lanes.hpp"
#include "parallel.hpp"

namespace kpt::cpu_detail {

namespace pool_detail {

// One window by scalar taps, in the reference order: the first in-bounds tap starts, then a
// strictly greater value (or a NaN) takes over.
template <class T>
inline void window_max(const kernels::pool2d_geom& g, const T* xp, index_t oy, index_t ox, T& best, index_t& at) {
  best = -std::numeric_limits<T>::infinity();
  at = -1;
  const index_t y0 = oy * g.stride - g.padding, x0 = ox * g.stride - g.padding;
  const index_t i0 = std::max<index_t>(0, -y0), i1 = std::min(g.kernel, g.h - y0);
  const index_t j0 = std::max<index_t>(0, -x0), j1 = std::min(g.kernel, g.w - x0);
  for (index_t i = i0; i < i1; ++i) {
    const T* row = xp + (y0 + i) * g.w + x0;
    for (index_t j = j0; j < j1; ++j) {
      const T v = row[j];
      if (at < 0 || v > best || std::isnan(v)) {
        best = v;
        at = (y0 + i) * g.w + x0 + j;
      }
    }
  }
}

// AVX2, stride 2: the even and odd values of row[0, span) to dst and dst + per_phase, 8 of each per
// two loads and four shuffles (element by element, the split took most of a 2x2 pool's time).
// Returns how many of each it wrote; the caller does the rest.
template <class Arch>
index_t split_phases2(const float* row, index_t span, float* dst, index_t per_phase) {
  static_assert(is_avx2<Arch>);
  // (a0 a2 b0 b2 | a4 a6 b4 b6) -> (a0 a2 a4 a6 b0 b2 b4 b6): 64-bit pairs 0, 2, 1, 3.
  auto pairs_0213 = [](__m256 v) { return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(v), 0xd8)); };
  index_t q = 0;
  for (; 2 * q + 16 <= span; q += 8) {
    const __m256 a = _mm256_loadu_ps(row + 2 * q), b = _mm256_loadu_ps(row + 2 * q + 8);
    _mm256_storeu_ps(dst + q, pairs_0213(_mm256_shuffle_ps(a, b, 0x88)));              // even values
    _mm256_storeu_ps(dst + per_phase + q, pairs_0213(_mm256_shuffle_ps(a, b, 0xdd)));  // odd values
  }
  return q;
}

// Scratch elements row_simd needs for a stride > 1 (0 for stride 1).
inline index_t row_scratch_size(const kernels::pool2d_geom& g) {
  return g.stride == 1 ? 0 : g.kernel * g.stride * (g.ow + g.kernel);
}

// Output columns [ox0, ox1) of row oy, whose windows need no column padding: one SIMD lane per
// output, taps in the reference order. For a stride s > 1 the k input rows are first split into
// s phases (columns x = q * s + phase) in `scratch`, so that tap (i, j) of consecutive outputs
// is a contiguous load from phase j % s at q = ox + j / s. (Gathers would do too, but xsimd 8.1
// falls back to a slow scalar gather for float.) The winning tap is tracked as its offset
// i * w + j from the window's corner, held in T (exact: an integer far below 2^24).
template <class Arch, class T>
void row_simd(const kernels::pool2d_geom& g, const T* xp, index_t oy, index_t ox0, index_t ox1, T* yrow,
              index_t* arow, T* scratch) {
  using V = xsimd::batch<T, Arch>;
  constexpr index_t w = V::size;
  const index_t n = ox1 - ox0;
  // Too short for a vector, or tap offsets beyond what T holds exactly: scalar windows.
  if (n < w || g.kernel * g.w >= (index_t(1) << std::numeric_limits<T>::digits)) {
    for (index_t ox = ox0; ox < ox1; ++ox) {
      index_t at;
      window_max(g, xp, oy, ox, yrow[ox], at);
      if (arow) arow[ox] = at;
    }
    return;
  }
  const index_t k = g.kernel, s = g.stride, y0 = oy * s - g.padding, x0 = ox0 * s - g.padding;
  const index_t i0 = std::max<index_t>(0, -y0), i1 = std::min(k, g.h - y0);
  // tap(i, j) points at the input of output ox0 for tap (i, j); outputs follow contiguously.
  const index_t span = (n - 1) * s + k, per_phase = n + (k - 1) / s;
  if (s > 1)
    for (index_t i = i0; i < i1; ++i) {
      const T* row = xp + (y0 + i) * g.w + x0;
      index_t q0 = 0;  // phase values [0, q0) done
      if constexpr (is_avx2<Arch> && std::is_same_v<T, float>)
        if (s == 2) q0 = split_phases2<Arch>(row, span, scratch + (i - i0) * 2 * per_phase, per_phase);
      for (index_t ph = 0; ph < s; ++ph) {
        T* dst = scratch + ((i - i0) * s + ph) * per_phase;
        for (index_t q = q0; q * s + ph < span; ++q) dst[q] = row[q * s + ph];
      }
    }
  auto tap = [&](index_t i, index_t j) -> const T* {
    if (s == 1) return xp + (y0 + i) * g.w + x0 + j;
    return scratch + ((i - i0) * s + j % s) * per_phase + j / s;
  };
  index_t o = 0;  // output ox0 + o
  for (; o + w <= n; o += w) {
    V best = V::load_unaligned(tap(i0, 0) + o);
    if (arow) {
      V pos(T(i0 * g.w));
      for (index_t i = i0; i < i1; ++i)
        for (index_t j = (i == i0 ? 1 : 0); j < k; ++j) {
          const V v = V::load_unaligned(tap(i, j) + o);
          const auto take = (v > best) | xsimd::isnan(v);
          best = xsimd::select(take, v, best);
          pos = xsimd::select(take, V(T(i * g.w + j)), pos);
        }
      best.store_unaligned(yrow + ox0 + o);
      alignas(64) T p[w];
      pos.store_aligned(p);
      for (index_t l = 0; l < w; ++l) arow[ox0 + o + l] = y0 * g.w + x0 + (o + l) * s + index_t(p[l]);
    } else {
      for (index_t i = i0; i < i1; ++i)
        for (index_t j = (i == i0 ? 1 : 0); j < k; ++j) {
          const V v = V::load_unaligned(tap(i, j) + o);
          best = xsimd::select((v > best) | xsimd::isnan(v), v, best);
        }
      best.store_unaligned(yrow + ox0 + o);
    }
  }
  for (index_t ox = ox0 + o; ox < ox1; ++ox) {
    index_t at;
    window_max(g, xp, oy, ox, yrow[ox], at);
    if (arow) arow[ox] = at;
  }
}

}  // namespace pool_detail

template <class Arch, class T>
void max_pool2d_forward_simd(Arch, const kernels::pool2d_geom& g, const T* x, T* y, index_t* argmax) {
  // Output columns whose windows need no column padding: [lo, hi).
  const index_t lo = std::min(g.ow, (g.padding + g.stride - 1) / g.stride);
  const index_t last = g.w - g.kernel + g.padding;  // largest window start (minus padding) that fits
  const index_t hi = last < 0 ? lo : std::max(lo, std::min(g.ow, last / g.stride + 1));
  const index_t rows = g.planes() * g.oh;
  const index_t grain = std::max<index_t>(1, elementwise_grain / std::max<index_t>(1, g.ow * g.kernel * g.kernel));
  // Rows of outputs are independent: parallel over (plane, output row), so a single plane
  // (the NMS of one score map) still uses every thread.
  parallel_for(0, rows, grain, [&](index_t r0, index_t r1) {
    std::vector<T> scratch(static_cast<std::size_t>(pool_detail::row_scratch_size(g)));
    for (index_t r = r0; r < r1; ++r) {
      const index_t p = r / g.oh, oy = r % g.oh;
      const T* xp = x + p * g.h * g.w;
      T* yrow = y + r * g.ow;
      index_t* arow = argmax ? argmax + r * g.ow : nullptr;
      auto scalar = [&](index_t a, index_t b) {
        for (index_t ox = a; ox < b; ++ox) {
          index_t at;
          pool_detail::window_max(g, xp, oy, ox, yrow[ox], at);
          if (arow) arow[ox] = at;
        }
      };
      scalar(0, lo);
      pool_detail::row_simd<Arch>(g, xp, oy, lo, hi, yrow, arow, scratch.data());
      scalar(hi, g.ow);
    }
  });
}

template <class Arch, class T>
void max_pool2d_backward_simd(Arch, const kernels::pool2d_geom& g, const T* gy, const index_t* argmax, T* gx) {
  // Windows may overlap: one task per plane, so no two tasks write the same gx element.
  const index_t in_plane = g.h * g.w, out_plane = g.oh * g.ow;
  const index_t grain = std::max<index_t>(1, elementwise_grain / std::max<index_t>(1, in_plane + out_plane));
  parallel_for(0, g.planes(), grain, [&](index_t p0, index_t p1) {
    for (index_t p = p0; p < p1; ++p) {
      T* gp = gx + p * in_plane;
      std::fill(gp, gp + in_plane, T(0));
      const T* gyp = gy + p * out_plane;
      const index_t* ap = argmax + p * out_plane;
      for (index_t o = 0; o < out_plane; ++o) gp[ap[o]] += gyp[o];
    }
  });
}

#define KPT_POOL_INSTANTIATE(T)                                                                                \
  template void max_pool2d_forward_simd<KPT_CPU_ARCH, T>(KPT_CPU_ARCH, const kernels::pool2d_geom&, const T*, \
                                                         T*, index_t*);                                        \
  template void max_pool2d_backward_simd<KPT_CPU_ARCH, T>(KPT_CPU_ARCH, const kernels::pool2d_geom&, const T*, \
                                                          const index_t*, T*);
KPT_POOL_INSTANTIATE(float)
KPT_POOL_INSTANTIATE(double)
#undef KPT_POOL_INSTANTIATE

}  // namespace kpt::cpu_detail
#endif
