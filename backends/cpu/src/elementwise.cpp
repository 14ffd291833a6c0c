// Dispatch of the element-wise kernels to the best compiled arch.
#include "kpt/backends/cpu/elementwise.hpp"

#include "arch.hpp"
#include "elementwise_simd.hpp"

namespace kpt::kernels {

#define KPT_BINARY(T)                                                                          \
  void binary(cpu, binary_fn f, const broadcast_geom& g, const T* a, const T* b, T* y) {      \
    cpu_detail::dispatch([&](auto arch) { cpu_detail::binary_simd(arch, f, g, a, b, y); });    \
  }                                                                                            \
  void reduce_sum(cpu, const reduce_geom& g, const T* x, T* y) {                               \
    cpu_detail::dispatch([&](auto arch) { cpu_detail::reduce_sum_simd(arch, g, x, y); });      \
  }
KPT_BINARY(float)
KPT_BINARY(double)
#undef KPT_BINARY

}  // namespace kpt::kernels
