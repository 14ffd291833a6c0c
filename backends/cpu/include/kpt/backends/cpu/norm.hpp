#pragma once
// cpu backend: batch / instance normalisation (compiled in kpt::cpu).
#include "kpt/core/backend.hpp"
#include "kpt/kernels/norm.hpp"

namespace kpt::kernels {

#define KPT_CPU_NORM_DECL(T)                                                                                  \
  void norm_stats(cpu, const norm_geom& g, const T* x, T* mean, T* var);                                      \
  void norm_forward(cpu, const norm_geom& g, const T* x, const T* mean, const T* var, const T* weight,         \
                    const T* bias, double eps, T* y);                                                          \
  void norm_update_running(cpu, index_t c, const T* mean, const T* var, index_t count, double momentum,       \
                           T* running_mean, T* running_var);                                                   \
  void norm_backward(cpu, const norm_geom& g, const T* gy, const T* x, const T* mean, const T* var,           \
                     const T* weight, double eps, bool batch_stats, T* gx, T* gweight, T* gbias);
KPT_CPU_NORM_DECL(float)
KPT_CPU_NORM_DECL(double)
#undef KPT_CPU_NORM_DECL

}  // namespace kpt::kernels
