#pragma once
// Reference shape kernels: permuted copy and block copies, plain loops.
#include "kpt/core/backend.hpp"
#include "kpt/kernels/shape.hpp"

namespace kpt::kernels {

template <class T>
void permute_copy(cpu_ref, const permute_geom& g, const T* x, T* y) {
  const auto& d = g.out_dims;
  const auto& s = g.in_stride;
  index_t o = 0;
  for (index_t i0 = 0; i0 < d[0]; ++i0)
    for (index_t i1 = 0; i1 < d[1]; ++i1)
      for (index_t i2 = 0; i2 < d[2]; ++i2)
        for (index_t i3 = 0; i3 < d[3]; ++i3)
          for (index_t i4 = 0; i4 < d[4]; ++i4, ++o)
            y[o] = x[i0 * s[0] + i1 * s[1] + i2 * s[2] + i3 * s[3] + i4 * s[4]];
}

template <class T>
void copy_blocks(cpu_ref, const block_copy& b, const T* src, T* dst) {
  for (index_t o = 0; o < b.outer; ++o)
    for (index_t j = 0; j < b.len; ++j) dst[o * b.dst_stride + j] = src[o * b.src_stride + j];
}

}  // namespace kpt::kernels
