// Dispatch of the pixel_shuffle / space_to_depth kernels to the best compiled arch.
#include "kpt/backends/cpu/shuffle.hpp"

#include "arch.hpp"
#include "shuffle_simd.hpp"

namespace kpt::kernels {

#define KPT_SHUFFLE(T)                                                                                 \
  void pixel_shuffle(cpu, const shuffle_geom& g, const T* lo, T* hi) {                                 \
    cpu_detail::dispatch([&](auto arch) { cpu_detail::pixel_shuffle_simd(arch, g, lo, hi); });         \
  }                                                                                                    \
  void space_to_depth(cpu, const shuffle_geom& g, const T* hi, T* lo) {                                \
    cpu_detail::dispatch([&](auto arch) { cpu_detail::space_to_depth_simd(arch, g, hi, lo); });        \
  }
KPT_SHUFFLE(float)
KPT_SHUFFLE(double)
#undef KPT_SHUFFLE

}  // namespace kpt::kernels
