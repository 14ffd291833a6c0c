#pragma once
// cpu backend: softmax cross-entropy (compiled in kpt::cpu).
#include <cstdint>

#include "kpt/core/backend.hpp"
#include "kpt/kernels/loss.hpp"

namespace kpt::kernels {

#define KPT_CPU_LOSS_DECL(T)                                                                                   \
  void cross_entropy_forward(cpu, const cross_entropy_geom& g, const T* logits, const std::int64_t* target,    \
                             T* lse, T* ce);                                                                   \
  weighted_sum cross_entropy_sums(cpu, index_t items, const T* ce, const T* weight);                           \
  void cross_entropy_backward(cpu, const cross_entropy_geom& g, const T* logits, const std::int64_t* target,   \
                              const T* weight, const T* lse, T scale, T* grad_logits);
KPT_CPU_LOSS_DECL(float)
KPT_CPU_LOSS_DECL(double)
#undef KPT_CPU_LOSS_DECL

}  // namespace kpt::kernels
