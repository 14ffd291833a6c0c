#pragma once
// Reference reductions: the backward of a sum (a broadcast back) and the maximum along an axis.
// (The sum itself is kernels::reduce_sum in cpu_ref/elementwise.hpp.)
#include <cmath>
#include <cstdint>

#include "kpt/core/backend.hpp"
#include "kpt/kernels/reduce.hpp"

namespace kpt::kernels {

template <class T>
void expand_reduced(cpu_ref, const reduce_geom& g, T scale, const T* gy, T* dx) {
  const auto& s = g.in;
  const index_t n = s.numel();
  for (index_t flat = 0; flat < n; ++flat) {
    // The same output offset as reduce_sum: flat's coordinates with the reduced ones dropped.
    index_t rest = flat, out = 0, stride = 1;
    for (int ax = s.rank() - 1; ax >= 0; --ax) {
      const index_t c = rest % s[ax];
      rest /= s[ax];
      if (!(g.axes_mask >> ax & 1u)) {
        out += c * stride;
        stride *= s[ax];
      }
    }
    dx[flat] = T(double(scale) * double(gy[out]));
  }
}

template <class T>
void max_axis(cpu_ref, const axis_geom& g, const T* x, T* y, std::int64_t* idx) {
  for (index_t o = 0; o < g.outer; ++o)
    for (index_t i = 0; i < g.inner; ++i) {
      const T* col = x + o * g.n * g.inner + i;
      index_t best = 0;
      for (index_t r = 1; r < g.n; ++r) {
        if (std::isnan(col[best * g.inner])) break;  // the first NaN is the maximum
        if (col[r * g.inner] > col[best * g.inner] || std::isnan(col[r * g.inner])) best = r;
      }
      y[o * g.inner + i] = col[best * g.inner];
      idx[o * g.inner + i] = best;
    }
}

template <class T>
void max_axis_backward(cpu_ref, const axis_geom& g, const std::int64_t* idx, const T* gy, T* dx) {
  for (index_t k = 0; k < g.outer * g.n * g.inner; ++k) dx[k] = T(0);
  for (index_t o = 0; o < g.outer; ++o)
    for (index_t i = 0; i < g.inner; ++i)
      dx[(o * g.n + idx[o * g.inner + i]) * g.inner + i] = gy[o * g.inner + i];
}

}  // namespace kpt::kernels
