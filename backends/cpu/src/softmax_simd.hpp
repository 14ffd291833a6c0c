#pragma once
// SIMD softmax / log_softmax along one axis of x viewed as [outer, n, inner], forward and
// backward. Compiled only in the per-arch translation units.
#include "kpt/kernels/softmax.hpp"

namespace kpt::cpu_detail {

template <class Arch, class T>
void softmax_forward_simd(Arch, const kernels::axis_geom& g, bool log, const T* x, T* y);
template <class Arch, class T>
void softmax_backward_simd(Arch, const kernels::axis_geom& g, bool log, const T* y, const T* gy, T* dx);

}  // namespace kpt::cpu_detail

#ifdef KPT_CPU_ARCH
#include <xsimd/xsimd.hpp>

#include <algorithm>
#include <cmath>
#include <limits>

#include "parallel.hpp"

namespace kpt::cpu_detail {

// Strided case (inner > 1): each task owns `softmax_chunk` columns of one outer slice, whose
// running max and sums stay in L1 while the n rows stream past.
inline constexpr index_t softmax_chunk = 256;
// Sums run in T over blocks of this many terms (per lane) and in double across blocks.
inline constexpr index_t softmax_block = 256;

// The first `count` (< width) values of p in a batch, the other lanes set to `fill`.
template <class V, class T>
V load_partial(const T* p, index_t count, T fill) {
  alignas(64) T buf[V::size];
  std::fill_n(buf, V::size, fill);
  std::copy(p, p + count, buf);
  return V::load_aligned(buf);
}
template <class V, class T>
void store_partial(const V& v, T* p, index_t count) {
  alignas(64) T buf[V::size];
  v.store_aligned(buf);
  std::copy(buf, buf + count, p);
}

// The work of one outer slice over the n rows, as a task count and grain for parallel_for.
inline index_t softmax_grain(index_t per_task) {
  return std::max<index_t>(1, elementwise_grain / std::max<index_t>(per_task, 1));
}

template <class Arch, class T>
void softmax_rows_forward(const kernels::axis_geom& g, bool log, const T* x, T* y) {
  using V = xsimd::batch<T, Arch>;
  constexpr index_t w = V::size;
  const index_t N = g.n;
  const T ninf = -std::numeric_limits<T>::infinity();
  parallel_for(0, g.outer, softmax_grain(N), [&](index_t lo, index_t hi) {
    for (index_t o = lo; o < hi; ++o) {
      const T* src = x + o * N;
      T* dst = y + o * N;
      // maximum (a NaN makes the whole row NaN below, whatever max returns here)
      V vm(ninf);
      index_t r = 0;
      for (; r + w <= N; r += w) vm = xsimd::max(vm, V::load_unaligned(src + r));
      if (r < N) vm = xsimd::max(vm, load_partial<V>(src + r, N - r, ninf));
      alignas(64) T lanes[w];
      vm.store_aligned(lanes);
      const T m = *std::max_element(lanes, lanes + w);
      const V vmax(m);
      // sum of exp(x - m); softmax keeps the exponentials in y
      double s = 0;
      for (index_t r0 = 0; r0 < N; r0 += softmax_block * w) {
        const index_t r1 = std::min(N, r0 + softmax_block * w);
        V acc(T(0));
        for (r = r0; r + w <= r1; r += w) {
          const V e = xsimd::exp(V::load_unaligned(src + r) - vmax);
          if (!log) e.store_unaligned(dst + r);
          acc += e;
        }
        if (r < r1) {  // padding with -inf adds exp(-inf) = 0
          const V e = xsimd::exp(load_partial<V>(src + r, r1 - r, ninf) - vmax);
          if (!log) store_partial(e, dst + r, r1 - r);
          acc += e;
        }
        s += double(xsimd::hadd(acc));
      }
      if (log) {
        const V shift(T(std::log(s)));
        for (r = 0; r + w <= N; r += w) ((V::load_unaligned(src + r) - vmax) - shift).store_unaligned(dst + r);
        for (; r < N; ++r) dst[r] = (src[r] - m) - T(std::log(s));
      } else {
        const V inv(T(1.0 / s));
        for (r = 0; r + w <= N; r += w) (V::load_unaligned(dst + r) * inv).store_unaligned(dst + r);
        for (; r < N; ++r) dst[r] *= T(1.0 / s);
      }
    }
  });
}

template <class Arch, class T>
void softmax_cols_forward(const kernels::axis_geom& g, bool log, const T* x, T* y) {
  using V = xsimd::batch<T, Arch>;
  constexpr index_t w = V::size;
  const index_t N = g.n, I = g.inner, chunks = (I + softmax_chunk - 1) / softmax_chunk;
  parallel_for(0, g.outer * chunks, softmax_grain(N * std::min(I, softmax_chunk)), [&](index_t lo, index_t hi) {
    alignas(64) T m[softmax_chunk], part[softmax_chunk];
    double total[softmax_chunk];
    for (index_t t = lo; t < hi; ++t) {
      const index_t o = t / chunks, i0 = (t % chunks) * softmax_chunk, C = std::min(I, i0 + softmax_chunk) - i0;
      const index_t cw = C - C % w;  // columns done in full batches
      const T* src = x + o * N * I + i0;
      T* dst = y + o * N * I + i0;
      std::copy(src, src + C, m);
      for (index_t r = 1; r < N; ++r) {
        const T* row = src + r * I;
        for (index_t i = 0; i < cw; i += w)
          xsimd::max(V::load_aligned(m + i), V::load_unaligned(row + i)).store_aligned(m + i);
        for (index_t i = cw; i < C; ++i) m[i] = std::max(m[i], row[i]);
      }
      std::fill_n(total, C, 0.0);
      for (index_t r0 = 0; r0 < N; r0 += softmax_block) {
        std::fill_n(part, C, T(0));
        for (index_t r = r0; r < std::min(N, r0 + softmax_block); ++r) {
          const T* row = src + r * I;
          T* out = dst + r * I;
          for (index_t i = 0; i < cw; i += w) {
            const V e = xsimd::exp(V::load_unaligned(row + i) - V::load_aligned(m + i));
            if (!log) e.store_unaligned(out + i);
            (V::load_aligned(part + i) + e).store_aligned(part + i);
          }
          for (index_t i = cw; i < C; ++i) {
            const T e = std::exp(row[i] - m[i]);
            if (!log) out[i] = e;
            part[i] += e;
          }
        }
        for (index_t i = 0; i < C; ++i) total[i] += double(part[i]);
      }
      // reuse part for the per-column factor: 1/s, or log s
      for (index_t i = 0; i < C; ++i) part[i] = log ? T(std::log(total[i])) : T(1.0 / total[i]);
      for (index_t r = 0; r < N; ++r) {
        const T* row = src + r * I;
        T* out = dst + r * I;
        if (log) {
          for (index_t i = 0; i < cw; i += w)
            ((V::load_unaligned(row + i) - V::load_aligned(m + i)) - V::load_aligned(part + i)).store_unaligned(out + i);
          for (index_t i = cw; i < C; ++i) out[i] = (row[i] - m[i]) - part[i];
        } else {
          for (index_t i = 0; i < cw; i += w)
            (V::load_unaligned(out + i) * V::load_aligned(part + i)).store_unaligned(out + i);
          for (index_t i = cw; i < C; ++i) out[i] *= part[i];
        }
      }
    }
  });
}

template <class Arch, class T>
void softmax_forward_simd(Arch, const kernels::axis_geom& g, bool log, const T* x, T* y) {
  if (g.n == 0 || g.outer * g.inner == 0) return;
  if (g.inner == 1) softmax_rows_forward<Arch>(g, log, x, y);
  else softmax_cols_forward<Arch>(g, log, x, y);
}

// softmax: dx = y * (gy - sum gy*y);  log_softmax: dx = gy - exp(y) * sum gy.
template <class Arch, class T>
void softmax_rows_backward(const kernels::axis_geom& g, bool log, const T* y, const T* gy, T* dx) {
  using V = xsimd::batch<T, Arch>;
  constexpr index_t w = V::size;
  const index_t N = g.n;
  parallel_for(0, g.outer, softmax_grain(N), [&](index_t lo, index_t hi) {
    for (index_t o = lo; o < hi; ++o) {
      const T* yr = y + o * N;
      const T* gr = gy + o * N;
      T* out = dx + o * N;
      double s = 0;
      index_t r = 0;
      for (index_t r0 = 0; r0 < N; r0 += softmax_block * w) {
        const index_t r1 = std::min(N, r0 + softmax_block * w);
        V acc(T(0));
        for (r = r0; r + w <= r1; r += w) {
          const V gv = V::load_unaligned(gr + r);
          acc = log ? acc + gv : xsimd::fma(gv, V::load_unaligned(yr + r), acc);
        }
        T tail = 0;
        for (; r < r1; ++r) tail += log ? gr[r] : gr[r] * yr[r];
        s += double(xsimd::hadd(acc)) + double(tail);
      }
      const V vs = V(T(s));
      for (r = 0; r + w <= N; r += w) {
        const V yv = V::load_unaligned(yr + r), gv = V::load_unaligned(gr + r);
        (log ? gv - xsimd::exp(yv) * vs : yv * (gv - vs)).store_unaligned(out + r);
      }
      for (; r < N; ++r) out[r] = log ? gr[r] - std::exp(yr[r]) * T(s) : yr[r] * (gr[r] - T(s));
    }
  });
}

template <class Arch, class T>
void softmax_cols_backward(const kernels::axis_geom& g, bool log, const T* y, const T* gy, T* dx) {
  using V = xsimd::batch<T, Arch>;
  constexpr index_t w = V::size;
  const index_t N = g.n, I = g.inner, chunks = (I + softmax_chunk - 1) / softmax_chunk;
  parallel_for(0, g.outer * chunks, softmax_grain(N * std::min(I, softmax_chunk)), [&](index_t lo, index_t hi) {
    alignas(64) T part[softmax_chunk];
    double total[softmax_chunk];
    for (index_t t = lo; t < hi; ++t) {
      const index_t o = t / chunks, i0 = (t % chunks) * softmax_chunk, C = std::min(I, i0 + softmax_chunk) - i0;
      const index_t cw = C - C % w;
      const index_t base = o * N * I + i0;
      std::fill_n(total, C, 0.0);
      for (index_t r0 = 0; r0 < N; r0 += softmax_block) {
        std::fill_n(part, C, T(0));
        for (index_t r = r0; r < std::min(N, r0 + softmax_block); ++r) {
          const T* yr = y + base + r * I;
          const T* gr = gy + base + r * I;
          for (index_t i = 0; i < cw; i += w) {
            const V gv = V::load_unaligned(gr + i), acc = V::load_aligned(part + i);
            (log ? acc + gv : xsimd::fma(gv, V::load_unaligned(yr + i), acc)).store_aligned(part + i);
          }
          for (index_t i = cw; i < C; ++i) part[i] += log ? gr[i] : gr[i] * yr[i];
        }
        for (index_t i = 0; i < C; ++i) total[i] += double(part[i]);
      }
      for (index_t i = 0; i < C; ++i) part[i] = T(total[i]);
      for (index_t r = 0; r < N; ++r) {
        const T* yr = y + base + r * I;
        const T* gr = gy + base + r * I;
        T* out = dx + base + r * I;
        for (index_t i = 0; i < cw; i += w) {
          const V yv = V::load_unaligned(yr + i), gv = V::load_unaligned(gr + i), vs = V::load_aligned(part + i);
          (log ? gv - xsimd::exp(yv) * vs : yv * (gv - vs)).store_unaligned(out + i);
        }
        for (index_t i = cw; i < C; ++i) out[i] = log ? gr[i] - std::exp(yr[i]) * part[i] : yr[i] * (gr[i] - part[i]);
      }
    }
  });
}

template <class Arch, class T>
void softmax_backward_simd(Arch, const kernels::axis_geom& g, bool log, const T* y, const T* gy, T* dx) {
  if (g.n == 0 || g.outer * g.inner == 0) return;
  if (g.inner == 1) softmax_rows_backward<Arch>(g, log, y, gy, dx);
  else softmax_cols_backward<Arch>(g, log, y, gy, dx);
}

template void softmax_forward_simd<KPT_CPU_ARCH, float>(KPT_CPU_ARCH, const kernels::axis_geom&, bool, const float*,
                                                        float*);
template void softmax_forward_simd<KPT_CPU_ARCH, double>(KPT_CPU_ARCH, const kernels::axis_geom&, bool,
                                                         const double*, double*);
template void softmax_backward_simd<KPT_CPU_ARCH, float>(KPT_CPU_ARCH, const kernels::axis_geom&, bool, const float*,
                                                         const float*, float*);
template void softmax_backward_simd<KPT_CPU_ARCH, double>(KPT_CPU_ARCH, const kernels::axis_geom&, bool,
                                                          const double*, const double*, double*);

}  // namespace kpt::cpu_detail
#endif
