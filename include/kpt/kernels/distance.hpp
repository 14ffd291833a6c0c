#pragma once
// Kernel interface of l2_normalize and pairwise_distance.
//
//   l2_normalize_forward(B, const axis_geom&, double eps, const T* x, T* y, T* norm)
//       norm[o, i] = ||x[o, :, i]||, y = x / max(norm, eps)   (norm has outer * inner elements)
//   l2_normalize_backward(B, const axis_geom&, double eps, const T* y, const T* norm, const T* gy, T* dx)
//       norm >= eps: dx = (gy - y * sum_n gy * y) / norm;   else (the clamp is active): dx = gy / eps
//
//   pairwise_distance_forward(B, const cdist_geom&, const T* a, const T* b, T* dist)
//       dist[t, i, j] = ||a[t, i, :] - b[t, j, :]||   (a: [batch, n, d], b: [batch, m, d])
//   pairwise_distance_backward(B, const cdist_geom&, const T* a, const T* b, const T* dist, const T* gy,
//                              T* da, T* db)
//       w = gy / dist (0 where dist == 0, as torch.cdist), da[i] = sum_j w_ij (a_i - b_j),
//       db[j] = sum_i w_ij (b_j - a_i). da or db may be null (not needed).
#include "kpt/kernels/reduce.hpp"

namespace kpt::kernels {

struct cdist_geom {
  index_t batch = 1, n = 0, m = 0, d = 0;
};

}  // namespace kpt::kernels
