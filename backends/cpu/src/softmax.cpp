// Dispatch of the softmax kernels to the best compiled arch.
#include "kpt/backends/cpu/softmax.hpp"

#include "arch.hpp"
#include "softmax_simd.hpp"

namespace kpt::kernels {

#define KPT_SOFTMAX(T)                                                                                     \
  void softmax_forward(cpu, const axis_geom& g, bool log, const T* x, T* y) {                              \
    cpu_detail::dispatch([&](auto arch) { cpu_detail::softmax_forward_simd(arch, g, log, x, y); });        \
  }                                                                                                        \
  void softmax_backward(cpu, const axis_geom& g, bool log, const T* y, const T* gy, T* dx) {               \
    cpu_detail::dispatch([&](auto arch) { cpu_detail::softmax_backward_simd(arch, g, log, y, gy, dx); });  \
  }
KPT_SOFTMAX(float)
KPT_SOFTMAX(double)
#undef KPT_SOFTMAX

}  // namespace kpt::kernels
