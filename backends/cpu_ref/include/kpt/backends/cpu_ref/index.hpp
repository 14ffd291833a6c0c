#pragma once
// Reference index kernels: index_select, gather and their scatter-add gradients.
#include <cstdint>

#include "kpt/core/backend.hpp"
#include "kpt/kernels/index.hpp"

namespace kpt::kernels {

inline index_t find_out_of_range(cpu_ref, const std::int64_t* idx, index_t count, index_t limit) {
  for (index_t i = 0; i < count; ++i)
    if (idx[i] < 0 || idx[i] >= limit) return i;
  return -1;
}

template <class T>
void index_select_forward(cpu_ref, const index_select_geom& g, const T* x, const std::int64_t* idx, T* y) {
  const auto& a = g.x;
  for (index_t o = 0; o < a.outer; ++o)
    for (index_t j = 0; j < g.k; ++j)
      for (index_t i = 0; i < a.inner; ++i) y[(o * g.k + j) * a.inner + i] = x[(o * a.n + idx[j]) * a.inner + i];
}

// gx = 0, then gx[o, idx[j], i] += gy[o, j, i] (repeated indices add up).
template <class T>
void index_select_backward(cpu_ref, const index_select_geom& g, const T* gy, const std::int64_t* idx, T* gx) {
  const auto& a = g.x;
  for (index_t e = 0; e < a.outer * a.n * a.inner; ++e) gx[e] = T(0);
  for (index_t o = 0; o < a.outer; ++o)
    for (index_t j = 0; j < g.k; ++j)
      for (index_t i = 0; i < a.inner; ++i) gx[(o * a.n + idx[j]) * a.inner + i] += gy[(o * g.k + j) * a.inner + i];
}

namespace ref_detail {
// Calls f(flat position in idx/y, offset in x without the gathered axis) over idx's shape.
template <class F>
void for_each_gather(const gather_geom& g, F&& f) {
  const auto& d = g.out_dims;
  std::array<index_t, max_rank> s = g.x_stride;
  s[g.axis] = 0;  // the gathered coordinate comes from idx instead
  index_t p = 0;
  for (index_t i0 = 0; i0 < d[0]; ++i0)
    for (index_t i1 = 0; i1 < d[1]; ++i1)
      for (index_t i2 = 0; i2 < d[2]; ++i2)
        for (index_t i3 = 0; i3 < d[3]; ++i3)
          for (index_t i4 = 0; i4 < d[4]; ++i4, ++p) f(p, i0 * s[0] + i1 * s[1] + i2 * s[2] + i3 * s[3] + i4 * s[4]);
}
}  // namespace ref_detail

template <class T>
void gather_forward(cpu_ref, const gather_geom& g, const T* x, const std::int64_t* idx, T* y) {
  const index_t sa = g.x_stride[g.axis];
  ref_detail::for_each_gather(g, [&](index_t p, index_t base) { y[p] = x[base + idx[p] * sa]; });
}

// gx (x's shape) = 0, then gx[position gathered by p] += gy[p].
template <class T>
void gather_backward(cpu_ref, const gather_geom& g, const T* gy, const std::int64_t* idx, T* gx) {
  const index_t sa = g.x_stride[g.axis];
  for (index_t e = 0; e < g.x_numel; ++e) gx[e] = T(0);
  ref_detail::for_each_gather(g, [&](index_t p, index_t base) { gx[base + idx[p] * sa] += gy[p]; });
}

}  // namespace kpt::kernels
