#pragma once
// Reference element-wise and reduction kernels: plain loops over the broadcast index space.
#include <vector>

#include "kpt/core/backend.hpp"
#include "kpt/kernels/elementwise.hpp"

namespace kpt::kernels {

template <class T>
T apply_binary(binary_fn f, T a, T b) {
  switch (f) {
    case binary_fn::add: return a + b;
    case binary_fn::sub: return a - b;
    case binary_fn::mul: return a * b;
    case binary_fn::div: return a / b;
  }
  return T(0);
}

template <class T>
void binary(cpu_ref, binary_fn f, const broadcast_geom& g, const T* a, const T* b, T* y) {
  const auto& d = g.out_dims;
  index_t o = 0;
  for (index_t i0 = 0; i0 < d[0]; ++i0)
    for (index_t i1 = 0; i1 < d[1]; ++i1)
      for (index_t i2 = 0; i2 < d[2]; ++i2)
        for (index_t i3 = 0; i3 < d[3]; ++i3)
          for (index_t i4 = 0; i4 < d[4]; ++i4, ++o) {
            const index_t ia = i0 * g.a_stride[0] + i1 * g.a_stride[1] + i2 * g.a_stride[2] +
                               i3 * g.a_stride[3] + i4 * g.a_stride[4];
            const index_t ib = i0 * g.b_stride[0] + i1 * g.b_stride[1] + i2 * g.b_stride[2] +
                               i3 * g.b_stride[3] + i4 * g.b_stride[4];
            y[o] = apply_binary(f, a[ia], b[ib]);
          }
}

// y (out_numel elements) = sum of x over the reduced axes, accumulated in double.
template <class T>
void reduce_sum(cpu_ref, const reduce_geom& g, const T* x, T* y) {
  const auto& s = g.in;
  std::vector<double> acc(static_cast<std::size_t>(g.out_numel), 0.0);
  const index_t n = s.numel();
  for (index_t flat = 0; flat < n; ++flat) {
    // Output offset: the row-major index of flat with reduced coordinates dropped.
    index_t rest = flat, out = 0, scale = 1;
    for (int ax = s.rank() - 1; ax >= 0; --ax) {
      const index_t c = rest % s[ax];
      rest /= s[ax];
      if (!(g.axes_mask >> ax & 1u)) {
        out += c * scale;
        scale *= s[ax];
      }
    }
    acc[out] += x[flat];
  }
  for (index_t i = 0; i < g.out_numel; ++i) y[i] = T(acc[i]);
}

}  // namespace kpt::kernels
