// Dispatch of the convolution kernels to the best compiled arch.
#include "kpt/backends/cpu/conv.hpp"

#include "arch.hpp"
#include "conv_bf16.hpp"
#include "conv_simd.hpp"

namespace kpt::kernels {

namespace {
template <class T>
void forward(const conv_geom& g, const T* x, const T* w, const T* bias, conv_activation act, weight_reuse reuse, T* y) {
  cpu_detail::dispatch([&](auto arch) { cpu_detail::conv2d_forward_simd(arch, g, x, w, bias, act, reuse, y); });
}
}  // namespace

void conv2d_forward(cpu, const conv_geom& g, const float* x, const float* w, const float* bias, conv_activation act,
                    weight_reuse reuse, float* y) {
  // KPT_CONV_BF16=winograd rounds inside the kernels (conv2d_forward_simd).
  if (cpu_detail::conv_bf16_mode() == cpu_conv_bf16::operands) {
    const auto xb = cpu_detail::bf16_copy<void>(x, g.x_numel()), wb = cpu_detail::bf16_copy<void>(w, g.w_numel());
    forward(g, xb.data(), wb.data(), bias, act, reuse, y);
    return;
  }
  forward(g, x, w, bias, act, reuse, y);
}
void conv2d_forward(cpu, const conv_geom& g, const double* x, const double* w, const double* bias, conv_activation act,
                    weight_reuse reuse, double* y) {
  forward(g, x, w, bias, act, reuse, y);
}

#define KPT_CONV(T)                                                                                  \
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

namespace kpt {

namespace cpu_detail {
std::atomic<int> conv_bf16_override{-1};
}  // namespace cpu_detail

cpu_conv_bf16 cpu_conv_bf16_mode() { return cpu_detail::conv_bf16_mode(); }
void set_cpu_conv_bf16(cpu_conv_bf16 mode) { cpu_detail::conv_bf16_override.store(int(mode)); }
void reset_cpu_conv_bf16() { cpu_detail::conv_bf16_override.store(-1); }

}  // namespace kpt
