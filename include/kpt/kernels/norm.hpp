#pragma once
// Kernel interface of batch and instance normalisation, shared by ops/norm.hpp and the backends.
#include "kpt/core/shape.hpp"

namespace kpt::kernels {

// x viewed as [n, c, s]: statistics are per channel c over its n * s values. batch_norm of
// [N, C, ...] is {N, C, prod(...)}; instance_norm of [N, C, ...] is {1, N * C, prod(...)}.
struct norm_geom {
  index_t n = 1, c = 1, s = 1;
  index_t count() const { return n * s; }  // values per channel
};

// Signatures every backend implements (T = float, double; statistics accumulate in double):
//   norm_stats(B, const norm_geom&, const T* x, T* mean, T* var)
//     per channel mean and biased variance.
//   norm_forward(B, const norm_geom&, const T* x, const T* mean, const T* var, const T* weight,
//                const T* bias, double eps, T* y)
//     y = (x - mean) / sqrt(var + eps) * weight + bias; weight, bias may be null (1 and 0).
//   norm_update_running(B, index_t c, const T* mean, const T* var, index_t count, double momentum,
//                       T* running_mean, T* running_var)
//     running = (1 - momentum) * running + momentum * batch, with var * count / (count - 1).
//   norm_backward(B, const norm_geom&, const T* gy, const T* x, const T* mean, const T* var,
//                 const T* weight, double eps, bool batch_stats, T* gx, T* gweight, T* gbias)
//     the gradients of norm_forward; with batch_stats, mean and var are functions of x (training)
//     and gx has their terms; gx, gweight, gbias may each be null (not needed).

}  // namespace kpt::kernels
