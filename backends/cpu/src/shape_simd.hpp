#pragma once
// Shape kernels of kpt::cpu: permuted copies and block copies. Memory-bound; parallel loops over
// rows with the element-wise grain. Templated on the xsimd arch like every cpu family (the
// compiler vectorises the plain loops with that arch's flags).
#include <cstdint>

#include "kpt/kernels/shape.hpp"

namespace kpt::cpu_detail {

template <class Arch, class T>
void permute_copy_simd(Arch, const kernels::permute_geom& g, const T* x, T* y);
template <class Arch, class T>
void copy_blocks_simd(Arch, const kernels::block_copy& b, const T* src, T* dst);

}  // namespace kpt::cpu_detail

#ifdef KPT_CPU_ARCH
#include <xsimd/xsimd.hpp>  // the arch types named by KPT_CPU_ARCH

#include <algorithm>
#include <cstring>

#include "parallel.hpp"

namespace kpt::cpu_detail {

template <class Arch, class T>
void permute_copy_simd(Arch, const kernels::permute_geom& g, const T* x, T* y) {
  if (g.numel == 0) return;
  // Output rows along the last (merged) axis; the four outer coordinates are an odometer.
  const auto& d = g.out_dims;
  const auto& s = g.in_stride;
  const index_t row = d[4], rows = g.numel / row, s4 = s[4];
  const index_t grain = std::max<index_t>(1, elementwise_grain / row);
  parallel_for(0, rows, grain, [&](index_t lo, index_t hi) {
    index_t c[4], rest = lo;
    for (int ax = 3; ax >= 0; --ax) {
      c[ax] = rest % d[ax];
      rest /= d[ax];
    }
    for (index_t r = lo; r < hi; ++r) {
      const T* src = x + c[0] * s[0] + c[1] * s[1] + c[2] * s[2] + c[3] * s[3];
      T* dst = y + r * row;
      if (s4 == 1) std::memcpy(dst, src, std::size_t(row) * sizeof(T));
      else
        for (index_t i = 0; i < row; ++i) dst[i] = src[i * s4];
      for (int ax = 3; ax >= 0; --ax) {
        if (++c[ax] < d[ax]) break;
        c[ax] = 0;
      }
    }
  });
}

template <class Arch, class T>
void copy_blocks_simd(Arch, const kernels::block_copy& b, const T* src, T* dst) {
  if (b.outer == 0 || b.len == 0) return;
  // Long runs are cut into pieces so that a single run (concat on axis 0) is shared out too.
  const index_t pieces = (b.len + elementwise_grain - 1) / elementwise_grain;
  const index_t plen = (b.len + pieces - 1) / pieces;
  const index_t grain = std::max<index_t>(1, elementwise_grain / plen);
  parallel_for(0, b.outer * pieces, grain, [&](index_t lo, index_t hi) {
    for (index_t t = lo; t < hi; ++t) {
      const index_t o = t / pieces, j0 = (t % pieces) * plen, j1 = std::min(b.len, j0 + plen);
      std::memcpy(dst + o * b.dst_stride + j0, src + o * b.src_stride + j0, std::size_t(j1 - j0) * sizeof(T));
    }
  });
}

#define KPT_SHAPE_INST(T)                                                                                      \
  template void permute_copy_simd<KPT_CPU_ARCH, T>(KPT_CPU_ARCH, const kernels::permute_geom&, const T*, T*); \
  template void copy_blocks_simd<KPT_CPU_ARCH, T>(KPT_CPU_ARCH, const kernels::block_copy&, const T*, T*);
KPT_SHAPE_INST(float)
KPT_SHAPE_INST(double)
KPT_SHAPE_INST(std::int64_t)
#undef KPT_SHAPE_INST

}  // namespace kpt::cpu_detail
#endif
