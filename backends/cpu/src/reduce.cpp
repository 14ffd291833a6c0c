// Dispatch of the reduction kernels (sum backward, max along an axis) to the best compiled arch.
#include "kpt/backends/cpu/reduce.hpp"

#include "arch.hpp"
#include "reduce_simd.hpp"

namespace kpt::kernels {

#define KPT_REDUCE(T)                                                                                 \
  void expand_reduced(cpu, const reduce_geom& g, T scale, const T* gy, T* dx) {                       \
    cpu_detail::dispatch([&](auto arch) { cpu_detail::expand_reduced_simd(arch, g, scale, gy, dx); }); \
  }                                                                                                   \
  void max_axis(cpu, const axis_geom& g, const T* x, T* y, std::int64_t* idx) {                       \
    cpu_detail::dispatch([&](auto arch) { cpu_detail::max_axis_simd(arch, g, x, y, idx); });          \
  }                                                                                                   \
  void max_axis_backward(cpu, const axis_geom& g, const std::int64_t* idx, const T* gy, T* dx) {      \
    cpu_detail::dispatch([&](auto arch) { cpu_detail::max_axis_backward_simd(arch, g, idx, gy, dx); }); \
  }
KPT_REDUCE(float)
KPT_REDUCE(double)
#undef KPT_REDUCE

}  // namespace kpt::kernels
