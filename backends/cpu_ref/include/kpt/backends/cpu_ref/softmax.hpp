#pragma once
// Reference softmax / log_softmax along one axis: per column of [outer, n, inner], in double.
#include <cmath>

#include "kpt/core/backend.hpp"
#include "kpt/kernels/softmax.hpp"

namespace kpt::kernels {

template <class T>
void softmax_forward(cpu_ref, const axis_geom& g, bool log, const T* x, T* y) {
  for (index_t o = 0; o < g.outer; ++o)
    for (index_t i = 0; i < g.inner; ++i) {
      const index_t base = o * g.n * g.inner + i;
      double m = -INFINITY;
      for (index_t r = 0; r < g.n; ++r) m = std::fmax(m, double(x[base + r * g.inner]));
      double s = 0;
      for (index_t r = 0; r < g.n; ++r) s += std::exp(double(x[base + r * g.inner]) - m);
      const double log_s = std::log(s);
      for (index_t r = 0; r < g.n; ++r) {
        const double z = double(x[base + r * g.inner]) - m;
        y[base + r * g.inner] = T(log ? z - log_s : std::exp(z) / s);
      }
    }
}

template <class T>
void softmax_backward(cpu_ref, const axis_geom& g, bool log, const T* y, const T* gy, T* dx) {
  for (index_t o = 0; o < g.outer; ++o)
    for (index_t i = 0; i < g.inner; ++i) {
      const index_t base = o * g.n * g.inner + i;
      double s = 0;
      for (index_t r = 0; r < g.n; ++r) {
        const index_t k = base + r * g.inner;
        s += log ? double(gy[k]) : double(gy[k]) * double(y[k]);
      }
      for (index_t r = 0; r < g.n; ++r) {
        const index_t k = base + r * g.inner;
        dx[k] = T(log ? double(gy[k]) - std::exp(double(y[k])) * s : double(y[k]) * (double(gy[k]) - s));
      }
    }
}

}  // namespace kpt::kernels
