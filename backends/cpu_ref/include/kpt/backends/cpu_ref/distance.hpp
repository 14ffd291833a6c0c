#pragma once
// Reference l2_normalize and pairwise (Euclidean) distances: plain loops in double. Distances sum
// squared differences directly (never |a|^2 + |b|^2 - 2ab, which cancels for close points).
#include <algorithm>
#include <cmath>
#include <vector>

#include "kpt/core/backend.hpp"
#include "kpt/kernels/distance.hpp"

namespace kpt::kernels {

template <class T>
void l2_normalize_forward(cpu_ref, const axis_geom& g, double eps, const T* x, T* y, T* norm) {
  for (index_t o = 0; o < g.outer; ++o)
    for (index_t i = 0; i < g.inner; ++i) {
      const index_t base = o * g.n * g.inner + i;
      double ss = 0;
      for (index_t r = 0; r < g.n; ++r) ss += double(x[base + r * g.inner]) * double(x[base + r * g.inner]);
      const double nrm = std::sqrt(ss), denom = std::max(nrm, eps);
      norm[o * g.inner + i] = T(nrm);
      for (index_t r = 0; r < g.n; ++r) y[base + r * g.inner] = T(double(x[base + r * g.inner]) / denom);
    }
}

template <class T>
void l2_normalize_backward(cpu_ref, const axis_geom& g, double eps, const T* y, const T* norm, const T* gy,
                           T* dx) {
  for (index_t o = 0; o < g.outer; ++o)
    for (index_t i = 0; i < g.inner; ++i) {
      const index_t base = o * g.n * g.inner + i;
      const double nrm = double(norm[o * g.inner + i]);
      const bool clamped = nrm < eps;  // as torch: clamp_min passes the gradient at norm == eps
      double dot = 0;
      if (!clamped)
        for (index_t r = 0; r < g.n; ++r) dot += double(gy[base + r * g.inner]) * double(y[base + r * g.inner]);
      const double denom = clamped ? eps : nrm;
      for (index_t r = 0; r < g.n; ++r) {
        const index_t k = base + r * g.inner;
        dx[k] = T((double(gy[k]) - double(y[k]) * dot) / denom);
      }
    }
}

template <class T>
void pairwise_distance_forward(cpu_ref, const cdist_geom& g, const T* a, const T* b, T* dist) {
  for (index_t t = 0; t < g.batch; ++t)
    for (index_t i = 0; i < g.n; ++i)
      for (index_t j = 0; j < g.m; ++j) {
        const T* ai = a + (t * g.n + i) * g.d;
        const T* bj = b + (t * g.m + j) * g.d;
        double ss = 0;
        for (index_t k = 0; k < g.d; ++k) {
          const double diff = double(ai[k]) - double(bj[k]);
          ss += diff * diff;
        }
        dist[(t * g.n + i) * g.m + j] = T(std::sqrt(ss));
      }
}

template <class T>
void pairwise_distance_backward(cpu_ref, const cdist_geom& g, const T* a, const T* b, const T* dist, const T* gy,
                                T* da, T* db) {
  std::vector<double> acc_a(static_cast<std::size_t>(g.batch * g.n * g.d), 0.0);
  std::vector<double> acc_b(static_cast<std::size_t>(g.batch * g.m * g.d), 0.0);
  for (index_t t = 0; t < g.batch; ++t)
    for (index_t i = 0; i < g.n; ++i)
      for (index_t j = 0; j < g.m; ++j) {
        const index_t ij = (t * g.n + i) * g.m + j;
        if (dist[ij] == T(0)) continue;  // the subgradient 0 at coincident points, as torch.cdist
        const double w = double(gy[ij]) / double(dist[ij]);
        const T* ai = a + (t * g.n + i) * g.d;
        const T* bj = b + (t * g.m + j) * g.d;
        double* gai = acc_a.data() + (t * g.n + i) * g.d;
        double* gbj = acc_b.data() + (t * g.m + j) * g.d;
        for (index_t k = 0; k < g.d; ++k) {
          const double diff = w * (double(ai[k]) - double(bj[k]));
          gai[k] += diff;
          gbj[k] -= diff;
        }
      }
  if (da)
    for (std::size_t k = 0; k < acc_a.size(); ++k) da[k] = T(acc_a[k]);
  if (db)
    for (std::size_t k = 0; k < acc_b.size(); ++k) db[k] = T(acc_b[k]);
}

}  // namespace kpt::kernels
