#pragma once
// SIMD kernels of the reductions besides the sum: its backward (a broadcast back over the reduced
// axes) and the maximum along one axis. Compiled only in the per-arch translation units.
#include <cstdint>

#include "kpt/kernels/reduce.hpp"

namespace kpt::cpu_detail {

template <class Arch, class T>
void expand_reduced_simd(Arch, const kernels::reduce_geom& g, T scale, const T* gy, T* dx);
template <class Arch, class T>
void max_axis_simd(Arch, const kernels::axis_geom& g, const T* x, T* y, std::int64_t* idx);
template <class Arch, class T>
void max_axis_backward_simd(Arch, const kernels::axis_geom& g, const std::int64_t* idx, const T* gy, T* dx);

}  // namespace kpt::cpu_detail

#ifdef KPT_CPU_ARCH
#include <xsimd/xsimd.hpp>

#include <algorithm>
#include <cmath>
#include <limits>

#include "parallel.hpp"

namespace kpt::cpu_detail {

// dst[0, n) = v * s
template <class Arch, class T>
void scaled_copy(index_t n, T s, const T* v, T* dst) {
  using V = xsimd::batch<T, Arch>;
  constexpr index_t w = V::size;
  index_t i = 0;
  for (; i + w <= n; i += w) (V::load_unaligned(v + i) * V(s)).store_unaligned(dst + i);
  for (; i < n; ++i) dst[i] = v[i] * s;
}

template <class Arch, class T>
void expand_reduced_simd(Arch, const kernels::reduce_geom& g, T scale, const T* gy, T* dx) {
  const auto& s = g.in;
  if (g.contiguous) {
    // [outer, reduced, inner]: every row r of slice o is gy[o, :] * scale.
    const index_t R = g.reduced, I = g.inner, rows = g.outer * R;
    if (rows == 0 || I == 0) return;
    const index_t grain = std::max<index_t>(1, elementwise_grain / I);
    parallel_for(0, rows, grain, [&](index_t lo, index_t hi) {
      // runs of rows that share one output slice o
      for (index_t r = lo; r < hi;) {
        const index_t o = r / R, end = std::min(hi, (o + 1) * R);
        if (I == 1) std::fill(dx + r, dx + end, gy[o] * scale);
        else
          for (index_t k = r; k < end; ++k) scaled_copy<Arch>(I, scale, gy + o * I, dx + k * I);
        r = end;
      }
    });
    return;
  }
  // General axis sets: rows of the last axis, each finding its output offset.
  const index_t last = s[s.rank() - 1];
  const index_t rows = last ? s.numel() / last : 0;
  const bool last_reduced = g.axes_mask >> (s.rank() - 1) & 1u;
  const index_t grain = std::max<index_t>(1, elementwise_grain / std::max<index_t>(last, 1));
  parallel_for(0, rows, grain, [&](index_t lo, index_t hi) {
    for (index_t r = lo; r < hi; ++r) {
      index_t rest = r, out = 0, stride = last_reduced ? 1 : last;
      for (int ax = s.rank() - 2; ax >= 0; --ax) {
        const index_t c = rest % s[ax];
        rest /= s[ax];
        if (!(g.axes_mask >> ax & 1u)) {
          out += c * stride;
          stride *= s[ax];
        }
      }
      if (last_reduced) std::fill_n(dx + r * last, last, gy[out] * scale);
      else scaled_copy<Arch>(last, scale, gy + out, dx + r * last);
    }
  });
}

// Column slices of [outer, n, inner] are processed in chunks of this many columns: the running
// maxima and their positions stay in L1 while the rows stream past.
inline constexpr index_t max_chunk = 512;

template <class Arch, class T>
void max_axis_simd(Arch, const kernels::axis_geom& g, const T* x, T* y, std::int64_t* idx) {
  using V = xsimd::batch<T, Arch>;
  constexpr index_t w = V::size;
  const index_t N = g.n, I = g.inner;
  if (N == 0 || g.outer * I == 0) return;  // (the op rejects an empty axis)
  if (I == 1) {
    // Contiguous rows: a SIMD maximum, then the first position holding it (or the first NaN).
    const index_t grain = std::max<index_t>(1, elementwise_grain / std::max<index_t>(N, 1));
    parallel_for(0, g.outer, grain, [&](index_t lo, index_t hi) {
      for (index_t o = lo; o < hi; ++o) {
        const T* row = x + o * N;
        index_t r = 0;
        T m = row[0];
        bool nan = false;
        if (N >= w) {
          V vm = V::load_unaligned(row);
          auto vnan = xsimd::isnan(vm);
          for (r = w; r + w <= N; r += w) {
            const V v = V::load_unaligned(row + r);
            vnan = vnan || xsimd::isnan(v);
            vm = xsimd::max(vm, v);
          }
          nan = xsimd::any(vnan);
          alignas(64) T buf[w];
          vm.store_aligned(buf);
          m = *std::max_element(buf, buf + w);
        }
        for (; r < N; ++r) {
          nan = nan || std::isnan(row[r]);
          m = std::max(m, row[r]);
        }
        index_t best = 0;
        if (nan) {
          while (!std::isnan(row[best])) ++best;
        } else {
          while (row[best] != m) ++best;
        }
        y[o] = row[best];
        idx[o] = best;
      }
    });
    return;
  }
  // Columns: positions are tracked as T in SIMD registers, exact while N < 2^digits.
  const bool exact_index = double(N) < std::ldexp(1.0, std::numeric_limits<T>::digits);
  const index_t chunks = (I + max_chunk - 1) / max_chunk;
  const index_t grain = std::max<index_t>(1, elementwise_grain / std::max<index_t>(N * std::min(I, max_chunk), 1));
  parallel_for(0, g.outer * chunks, grain, [&](index_t lo, index_t hi) {
    alignas(64) T best[max_chunk], pos[max_chunk];
    for (index_t t = lo; t < hi; ++t) {
      const index_t o = t / chunks, i0 = (t % chunks) * max_chunk, i1 = std::min(I, i0 + max_chunk), C = i1 - i0;
      const T* src = x + o * N * I + i0;
      std::copy(src, src + C, best);
      std::fill_n(pos, C, T(0));
      for (index_t r = 1; r < N && exact_index; ++r) {
        const T* row = src + r * I;
        const V vr = V(T(r));
        index_t i = 0;
        for (; i + w <= C; i += w) {
          const V v = V::load_unaligned(row + i), b = V::load_aligned(best + i);
          // strictly greater keeps the first maximum; a NaN replaces a number, never another NaN
          const auto take = v > b || (xsimd::isnan(v) && !xsimd::isnan(b));
          xsimd::select(take, v, b).store_aligned(best + i);
          xsimd::select(take, vr, V::load_aligned(pos + i)).store_aligned(pos + i);
        }
        for (; i < C; ++i)
          if (row[i] > best[i] || (std::isnan(row[i]) && !std::isnan(best[i]))) {
            best[i] = row[i];
            pos[i] = T(r);
          }
      }
      if (!exact_index) {  // a column longer than T counts exactly: plain loops
        for (index_t i = 0; i < C; ++i) {
          index_t b = 0;
          for (index_t r = 1; r < N; ++r) {
            const T v = src[r * I + i], cur = src[b * I + i];
            if (v > cur || (std::isnan(v) && !std::isnan(cur))) b = r;
          }
          best[i] = src[b * I + i];
          idx[o * I + i0 + i] = b;
        }
      } else {
        for (index_t i = 0; i < C; ++i) idx[o * I + i0 + i] = std::int64_t(pos[i]);
      }
      std::copy(best, best + C, y + o * I + i0);
    }
  });
}

template <class Arch, class T>
void max_axis_backward_simd(Arch, const kernels::axis_geom& g, const std::int64_t* idx, const T* gy, T* dx) {
  const index_t N = g.n, I = g.inner;
  const index_t grain = std::max<index_t>(1, elementwise_grain / std::max<index_t>(N * I, 1));
  parallel_for(0, g.outer, grain, [&](index_t lo, index_t hi) {
    std::fill(dx + lo * N * I, dx + hi * N * I, T(0));
    for (index_t o = lo; o < hi; ++o)
      for (index_t i = 0; i < I; ++i) dx[(o * N + idx[o * I + i]) * I + i] = gy[o * I + i];
  });
}

template void expand_reduced_simd<KPT_CPU_ARCH, float>(KPT_CPU_ARCH, const kernels::reduce_geom&, float, const float*,
                                                       float*);
template void expand_reduced_simd<KPT_CPU_ARCH, double>(KPT_CPU_ARCH, const kernels::reduce_geom&, double,
                                                        const double*, double*);
template void max_axis_simd<KPT_CPU_ARCH, float>(KPT_CPU_ARCH, const kernels::axis_geom&, const float*, float*,
                                                 std::int64_t*);
template void max_axis_simd<KPT_CPU_ARCH, double>(KPT_CPU_ARCH, const kernels::axis_geom&, const double*, double*,
                                                  std::int64_t*);
template void max_axis_backward_simd<KPT_CPU_ARCH, float>(KPT_CPU_ARCH, const kernels::axis_geom&,
                                                          const std::int64_t*, const float*, float*);
template void max_axis_backward_simd<KPT_CPU_ARCH, double>(KPT_CPU_ARCH, const kernels::axis_geom&,
                                                           const std::int64_t*, const double*, double*);

}  // namespace kpt::cpu_detail
#endif
