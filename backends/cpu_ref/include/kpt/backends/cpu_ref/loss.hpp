#pragma once
// Reference cross-entropy kernels: per-item log-sum-exp in double.
#include <cmath>
#include <cstdint>

#include "kpt/core/backend.hpp"
#include "kpt/kernels/loss.hpp"

namespace kpt::kernels {

template <class T>
void cross_entropy_forward(cpu_ref, const cross_entropy_geom& g, const T* logits, const std::int64_t* target, T* lse,
                           T* ce) {
  const index_t C = g.classes, S = g.inner;
  for (index_t b = 0; b < g.n; ++b)
    for (index_t s = 0; s < S; ++s) {
      const T* x = logits + b * C * S + s;
      double m = x[0];
      for (index_t c = 1; c < C; ++c) m = std::max(m, double(x[c * S]));
      double sum = 0;
      for (index_t c = 0; c < C; ++c) sum += std::exp(double(x[c * S]) - m);
      const double l = m + std::log(sum);
      const index_t item = b * S + s;
      lse[item] = T(l);
      ce[item] = T(l - double(x[target[item] * S]));
    }
}

template <class T>
weighted_sum cross_entropy_sums(cpu_ref, index_t items, const T* ce, const T* weight) {
  weighted_sum r;
  for (index_t i = 0; i < items; ++i) {
    const double w = weight ? double(weight[i]) : 1.0;
    r.weighted += w * double(ce[i]);
    r.weight += w;
  }
  return r;
}

template <class T>
void cross_entropy_backward(cpu_ref, const cross_entropy_geom& g, const T* logits, const std::int64_t* target,
                            const T* weight, const T* lse, T scale, T* grad) {
  const index_t C = g.classes, S = g.inner;
  for (index_t b = 0; b < g.n; ++b)
    for (index_t s = 0; s < S; ++s) {
      const index_t item = b * S + s;
      const double sw = double(scale) * (weight ? double(weight[item]) : 1.0);
      for (index_t c = 0; c < C; ++c) {
        const index_t e = (b * C + c) * S + s;
        const double p = std::exp(double(logits[e]) - double(lse[item]));
        grad[e] = T(sw * (p - (c == target[item] ? 1.0 : 0.0)));
      }
    }
}

}  // namespace kpt::kernels
