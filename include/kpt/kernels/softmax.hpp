#pragma once
// Kernel interface of softmax and log_softmax along one axis of x viewed as [outer, n, inner]:
//   softmax_forward(B, const axis_geom&, bool log, const T* x, T* y)
//       y = exp(x - m) / s (log: x - m - log s), m the maximum and s = sum exp(x - m) over n
//   softmax_backward(B, const axis_geom&, bool log, const T* y, const T* gy, T* dx)
//       softmax:     dx = y * (gy - sum_n gy * y)
//       log_softmax: dx = gy - exp(y) * sum_n gy
#include "kpt/kernels/reduce.hpp"
