// Dispatch of the element-wise maps of one tensor to the best compiled arch.
#include "kpt/backends/cpu/pointwise.hpp"

#include "arch.hpp"
#include "pointwise_simd.hpp"

namespace kpt::kernels {

#define KPT_UNARY(T)                                                                                     \
  void unary(cpu, const unary_params& p, index_t n, const T* x, T* y) {                                  \
    cpu_detail::dispatch([&](auto arch) { cpu_detail::unary_simd(arch, p, n, x, y); });                  \
  }                                                                                                      \
  void unary_backward(cpu, const unary_params& p, index_t n, const T* x, const T* y, const T* g, T* dx) { \
    cpu_detail::dispatch([&](auto arch) { cpu_detail::unary_backward_simd(arch, p, n, x, y, g, dx); });  \
  }
KPT_UNARY(float)
KPT_UNARY(double)
#undef KPT_UNARY

}  // namespace kpt::kernels
