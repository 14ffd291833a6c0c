#pragma once
// Kernel interface of the reductions other than the plain sum (which is kernels::reduce_sum in
// kpt/kernels/elementwise.hpp, shared with broadcasting):
//   expand_reduced(B, const reduce_geom& g, T scale, const T* gy, T* dx)
//       dx (g.in.numel()) = scale * gy repeated over the reduced axes: the backward of reduce_sum.
//   max_axis(B, const axis_geom&, const T* x, T* y, std::int64_t* idx)
//       y[o, i] = max over n of x[o, :, i], idx = the first position of that maximum; NaN wins.
//   max_axis_backward(B, const axis_geom&, const std::int64_t* idx, const T* gy, T* dx)
//       dx = 0 except dx[o, idx[o, i], i] = gy[o, i].
// axis_geom views a tensor as [outer, n, inner] around one axis; softmax and the distance kernels
// use it too.
#include <cstdint>

#include "kpt/core/shape.hpp"
#include "kpt/kernels/elementwise.hpp"

namespace kpt::kernels {

struct axis_geom {
  index_t outer = 1, n = 1, inner = 1;
};

// axis must already be in [0, rank); a rank-0 tensor is [1, 1, 1].
inline axis_geom make_axis_geom(const kpt::shape& s, int axis) {
  axis_geom g;
  if (s.rank() == 0) return g;
  for (int i = 0; i < axis; ++i) g.outer *= s[i];
  g.n = s[axis];
  for (int i = axis + 1; i < s.rank(); ++i) g.inner *= s[i];
  return g;
}

}  // namespace kpt::kernels
