// Dispatch of the convolution kernels to the best compiled arch.
#include "kpt/backends/cpu/conv.hpp"

#include "arch.hpp"
#include "conv_simd.hpp"

namespace kpt::kernels {

#define KPT_CONV(T)                                                                                  \
  void conv2d_forward(cpu, const conv_geom& g, const T* x, const T* w, const T* bias, T* y) {        \
    cpu_detail::dispatch([&](auto arch) { cpu_detail::conv2d_forward_simd(arch, g, x, w, bias, y); }); \
  }                                                                                                  \
  void conv2d_backward_input(cpu, const conv_geom& g, const T* gy, const T* w, T* gx) {              \
    cpu_detail::dispatch([&](auto arch) { cpu_detail::conv2d_backward_input_simd(arch, g, gy, w, gx); }); \
  }                                                                                                  \
  void conv2d_backward_weight(cpu, const conv_geom& g, const T* x, const T* gy, T* gw) {             \
    cpu_detail::dispatch([&](auto arch) { cpu_detail::conv2d_backward_weight_simd(arch, g, x, gy, gw); }); \
  }                                                                                                  \
  void conv2d_backward_bias(cpu, const conv_geom& g, const T* gy, T* gb) {                           \
    cpu_detail::dispatch([&](auto arch) { cpu_detail::conv2d_backward_bias_simd(arch, g, gy, gb); }); \
  }
KPT_CONV(float)
KPT_CONV(double)
#undef KPT_CONV

}  // namespace kpt::kernels
