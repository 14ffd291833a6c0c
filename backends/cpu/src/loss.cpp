// Dispatch of the cross-entropy kernels to the best compiled arch.
#include "kpt/backends/cpu/loss.hpp"

#include "arch.hpp"
#include "loss_simd.hpp"

namespace kpt::kernels {

#define KPT_LOSS(T)                                                                                            \
  void cross_entropy_forward(cpu, const cross_entropy_geom& g, const T* logits, const std::int64_t* target,    \
                             T* lse, T* ce) {                                                                  \
    cpu_detail::dispatch(                                                                                      \
        [&](auto arch) { cpu_detail::cross_entropy_forward_simd(arch, g, logits, target, lse, ce); });         \
  }                                                                                                            \
  weighted_sum cross_entropy_sums(cpu, index_t items, const T* ce, const T* weight) {                          \
    return cpu_detail::dispatch([&](auto arch) { return cpu_detail::cross_entropy_sums_simd(arch, items, ce, weight); }); \
  }                                                                                                            \
  void cross_entropy_backward(cpu, const cross_entropy_geom& g, const T* logits, const std::int64_t* target,   \
                              const T* weight, const T* lse, T scale, T* grad_logits) {                        \
    cpu_detail::dispatch([&](auto arch) {                                                                      \
      cpu_detail::cross_entropy_backward_simd(arch, g, logits, target, weight, lse, scale, grad_logits);       \
    });                                                                                                        \
  }
KPT_LOSS(float)
KPT_LOSS(double)
#undef KPT_LOSS

}  // namespace kpt::kernels
