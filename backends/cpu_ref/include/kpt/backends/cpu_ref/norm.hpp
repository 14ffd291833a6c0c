#pragma once
// Reference batch/instance normalisation: per channel loops, statistics in double.
#include <cmath>

#include "kpt/core/backend.hpp"
#include "kpt/kernels/norm.hpp"

namespace kpt::kernels {

template <class T>
void norm_stats(cpu_ref, const norm_geom& g, const T* x, T* mean, T* var) {
  for (index_t c = 0; c < g.c; ++c) {
    double sum = 0;
    for (index_t n = 0; n < g.n; ++n)
      for (index_t s = 0; s < g.s; ++s) sum += x[(n * g.c + c) * g.s + s];
    const double m = sum / double(g.count());
    double sq = 0;
    for (index_t n = 0; n < g.n; ++n)
      for (index_t s = 0; s < g.s; ++s) {
        const double d = x[(n * g.c + c) * g.s + s] - m;
        sq += d * d;
      }
    mean[c] = T(m);
    var[c] = T(sq / double(g.count()));
  }
}

template <class T>
void norm_forward(cpu_ref, const norm_geom& g, const T* x, const T* mean, const T* var, const T* weight,
                  const T* bias, double eps, T* y) {
  for (index_t c = 0; c < g.c; ++c) {
    const double inv = 1.0 / std::sqrt(double(var[c]) + eps);
    const double w = weight ? double(weight[c]) : 1.0, b = bias ? double(bias[c]) : 0.0;
    for (index_t n = 0; n < g.n; ++n)
      for (index_t s = 0; s < g.s; ++s) {
        const index_t i = (n * g.c + c) * g.s + s;
        y[i] = T((double(x[i]) - double(mean[c])) * inv * w + b);
      }
  }
}

template <class T>
void norm_update_running(cpu_ref, index_t c, const T* mean, const T* var, index_t count, double momentum,
                         T* running_mean, T* running_var) {
  const double unbias = double(count) / double(count - 1);
  for (index_t i = 0; i < c; ++i) {
    running_mean[i] = T((1 - momentum) * double(running_mean[i]) + momentum * double(mean[i]));
    running_var[i] = T((1 - momentum) * double(running_var[i]) + momentum * double(var[i]) * unbias);
  }
}

// With xhat = (x - mean) * inv and y = w * xhat + b:
//   gbias = sum gy, gweight = sum gy * xhat,
//   gx = w * inv * (gy - [gbias + xhat * gweight] / count)   (the bracket only with batch stats).
template <class T>
void norm_backward(cpu_ref, const norm_geom& g, const T* gy, const T* x, const T* mean, const T* var,
                   const T* weight, double eps, bool batch_stats, T* gx, T* gweight, T* gbias) {
  for (index_t c = 0; c < g.c; ++c) {
    const double inv = 1.0 / std::sqrt(double(var[c]) + eps), m = double(mean[c]);
    const double w = weight ? double(weight[c]) : 1.0;
    double sg = 0, sgx = 0;
    for (index_t n = 0; n < g.n; ++n)
      for (index_t s = 0; s < g.s; ++s) {
        const index_t i = (n * g.c + c) * g.s + s;
        sg += double(gy[i]);
        sgx += double(gy[i]) * (double(x[i]) - m) * inv;
      }
    if (gbias) gbias[c] = T(sg);
    if (gweight) gweight[c] = T(sgx);
    if (!gx) continue;
    const double cnt = double(g.count());
    for (index_t n = 0; n < g.n; ++n)
      for (index_t s = 0; s < g.s; ++s) {
        const index_t i = (n * g.c + c) * g.s + s;
        double d = double(gy[i]);
        if (batch_stats) d -= (sg + (double(x[i]) - m) * inv * sgx) / cnt;
        gx[i] = T(w * inv * d);
      }
  }
}

}  // namespace kpt::kernels
