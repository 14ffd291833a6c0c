#pragma once
// Index kernels of kpt::cpu: index_select, gather and their scatter-add gradients. Memory-bound
// oneTBB loops; the gradients split the work so that no two tasks add into the same element
// (tasks differ in the coordinates that the index does not choose), so no atomics and the
// summation order is the reference's.
#include <cstdint>

#include "kpt/kernels/index.hpp"

namespace kpt::cpu_detail {

template <class Arch>
index_t find_out_of_range_simd(Arch, const std::int64_t* idx, index_t count, index_t limit);
template <class Arch, class T>
void index_select_forward_simd(Arch, const kernels::index_select_geom& g, const T* x, const std::int64_t* idx, T* y);
template <class Arch, class T>
void index_select_backward_simd(Arch, const kernels::index_select_geom& g, const T* gy, const std::int64_t* idx,
                                T* gx);
template <class Arch, class T>
void gather_forward_simd(Arch, const kernels::gather_geom& g, const T* x, const std::int64_t* idx, T* y);
template <class Arch, class T>
void gather_backward_simd(Arch, const kernels::gather_geom& g, const T* gy, const std::int64_t* idx, T* gx);

}  // namespace kpt::cpu_detail

#ifdef KPT_CPU_ARCH
#include <xsimd/xsimd.hpp>  // the arch types named by KPT_CPU_ARCH

#include <algorithm>
#include <cstring>

#include "parallel.hpp"

namespace kpt::cpu_detail {

template <class Arch>
index_t find_out_of_range_simd(Arch, const std::int64_t* idx, index_t count, index_t limit) {
  // A branch-free test per block (vectorised), then the exact position only in a bad block.
  constexpr index_t block = 4096;
  for (index_t b0 = 0; b0 < count; b0 += block) {
    const index_t b1 = std::min(count, b0 + block);
    bool bad = false;
    for (index_t i = b0; i < b1; ++i) bad |= std::uint64_t(idx[i]) >= std::uint64_t(limit);
    if (bad)
      for (index_t i = b0; i < b1; ++i)
        if (std::uint64_t(idx[i]) >= std::uint64_t(limit)) return i;
  }
  return -1;
}

template <class Arch, class T>
void index_select_forward_simd(Arch, const kernels::index_select_geom& g, const T* x, const std::int64_t* idx, T* y) {
  const auto& a = g.x;
  const index_t rows = a.outer * g.k, row = a.inner;
  if (rows == 0 || row == 0) return;
  parallel_for(0, rows, std::max<index_t>(1, elementwise_grain / row), [&](index_t lo, index_t hi) {
    for (index_t r = lo; r < hi; ++r) {
      const index_t o = r / g.k, j = r % g.k;
      std::memcpy(y + r * row, x + (o * a.n + idx[j]) * row, std::size_t(row) * sizeof(T));
    }
  });
}

template <class Arch, class T>
void index_select_backward_simd(Arch, const kernels::index_select_geom& g, const T* gy, const std::int64_t* idx,
                                T* gx) {
  const auto& a = g.x;
  if (a.outer * a.n * a.inner == 0) return;
  // Tasks are (outer, piece of the inner axis); each zeroes its part of gx and adds every j into it.
  const index_t per_elem = std::max<index_t>(1, a.n + g.k);
  const index_t plen = std::min(a.inner, std::max<index_t>(64, elementwise_grain / per_elem));
  const index_t pieces = (a.inner + plen - 1) / plen;
  const index_t grain = std::max<index_t>(1, elementwise_grain / (per_elem * plen));
  parallel_for(0, a.outer * pieces, grain, [&](index_t lo, index_t hi) {
    for (index_t t = lo; t < hi; ++t) {
      const index_t o = t / pieces, i0 = (t % pieces) * plen, i1 = std::min(a.inner, i0 + plen);
      for (index_t r = 0; r < a.n; ++r) {
        T* dst = gx + (o * a.n + r) * a.inner;
        for (index_t i = i0; i < i1; ++i) dst[i] = T(0);
      }
      for (index_t j = 0; j < g.k; ++j) {
        T* dst = gx + (o * a.n + idx[j]) * a.inner;
        const T* src = gy + (o * g.k + j) * a.inner;
        for (index_t i = i0; i < i1; ++i) dst[i] += src[i];
      }
    }
  });
}

template <class Arch, class T>
void gather_forward_simd(Arch, const kernels::gather_geom& g, const T* x, const std::int64_t* idx, T* y) {
  if (g.numel == 0) return;
  const auto& d = g.out_dims;
  const index_t sa = g.x_stride[g.axis];
  auto s = g.x_stride;
  s[g.axis] = 0;  // the gathered coordinate comes from idx
  const index_t row = d[4], rows = g.numel / row, s4 = s[4];
  parallel_for(0, rows, std::max<index_t>(1, elementwise_grain / row), [&](index_t lo, index_t hi) {
    for (index_t r = lo; r < hi; ++r) {
      index_t rest = r, base = 0;
      for (int ax = 3; ax >= 0; --ax) {
        base += (rest % d[ax]) * s[ax];
        rest /= d[ax];
      }
      const std::int64_t* ir = idx + r * row;
      T* yr = y + r * row;
      for (index_t i = 0; i < row; ++i) yr[i] = x[base + i * s4 + ir[i] * sa];
    }
  });
}

template <class Arch, class T>
void gather_backward_simd(Arch, const kernels::gather_geom& g, const T* gy, const std::int64_t* idx, T* gx) {
  if (g.x_numel == 0) return;
  parallel_for(0, g.x_numel, elementwise_grain, [&](index_t lo, index_t hi) {
    for (index_t e = lo; e < hi; ++e) gx[e] = T(0);
  });
  if (g.numel == 0) return;
  // idx/gy seen as [outer, m, inner] around the gathered axis. Tasks are (outer, piece of inner);
  // each walks its inner coordinates with an odometer and adds all m entries for each of them,
  // in increasing order of the axis coordinate, like the reference.
  const auto& d = g.out_dims;
  const int a = g.axis;
  index_t outer = 1, inner = 1;
  for (int ax = 0; ax < a; ++ax) outer *= d[ax];
  for (int ax = a + 1; ax < max_rank; ++ax) inner *= d[ax];
  const index_t m = d[a], sa = g.x_stride[a];
  const index_t plen = std::min(inner, std::max<index_t>(64, elementwise_grain / m));
  const index_t pieces = (inner + plen - 1) / plen;
  const index_t grain = std::max<index_t>(1, elementwise_grain / (m * plen));
  parallel_for(0, outer * pieces, grain, [&](index_t lo, index_t hi) {
    for (index_t t = lo; t < hi; ++t) {
      const index_t o = t / pieces, i0 = (t % pieces) * plen, i1 = std::min(inner, i0 + plen);
      index_t xo = 0, rest = o;
      for (int ax = a - 1; ax >= 0; --ax) {
        xo += (rest % d[ax]) * g.x_stride[ax];
        rest /= d[ax];
      }
      index_t c[max_rank] = {};
      rest = i0;
      for (int ax = max_rank - 1; ax > a; --ax) {
        c[ax] = rest % d[ax];
        rest /= d[ax];
      }
      for (index_t i = i0; i < i1; ++i) {
        index_t xi = xo;
        for (int ax = a + 1; ax < max_rank; ++ax) xi += c[ax] * g.x_stride[ax];
        const index_t p0 = o * m * inner + i;
        for (index_t j = 0; j < m; ++j) {
          const index_t p = p0 + j * inner;
          gx[xi + idx[p] * sa] += gy[p];
        }
        for (int ax = max_rank - 1; ax > a; --ax) {
          if (++c[ax] < d[ax]) break;
          c[ax] = 0;
        }
      }
    }
  });
}

template index_t find_out_of_range_simd<KPT_CPU_ARCH>(KPT_CPU_ARCH, const std::int64_t*, index_t, index_t);
#define KPT_INDEX_INST(T)                                                                                   \
  template void index_select_forward_simd<KPT_CPU_ARCH, T>(KPT_CPU_ARCH, const kernels::index_select_geom&,  \
                                                           const T*, const std::int64_t*, T*);              \
  template void index_select_backward_simd<KPT_CPU_ARCH, T>(KPT_CPU_ARCH, const kernels::index_select_geom&, \
                                                            const T*, const std::int64_t*, T*);             \
  template void gather_forward_simd<KPT_CPU_ARCH, T>(KPT_CPU_ARCH, const kernels::gather_geom&, const T*,    \
                                                     const std::int64_t*, T*);                              \
  template void gather_backward_simd<KPT_CPU_ARCH, T>(KPT_CPU_ARCH, const kernels::gather_geom&, const T*,   \
                                                      const std::int64_t*, T*);
KPT_INDEX_INST(float)
KPT_INDEX_INST(double)
KPT_INDEX_INST(std::int64_t)
#undef KPT_INDEX_INST

}  // namespace kpt::cpu_detail
#endif
