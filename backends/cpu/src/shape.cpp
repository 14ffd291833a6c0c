// Dispatch of the shape kernels to the best compiled arch.
#include "kpt/backends/cpu/shape.hpp"

#include "arch.hpp"
#include "shape_simd.hpp"

namespace kpt::kernels {

#define KPT_SHAPE(T)                                                                                  \
  void permute_copy(cpu, const permute_geom& g, const T* x, T* y) {                                   \
    cpu_detail::dispatch([&](auto arch) { cpu_detail::permute_copy_simd(arch, g, x, y); });           \
  }                                                                                                   \
  void copy_blocks(cpu, const block_copy& b, const T* src, T* dst) {                                  \
    cpu_detail::dispatch([&](auto arch) { cpu_detail::copy_blocks_simd(arch, b, src, dst); });        \
  }
KPT_SHAPE(float)
KPT_SHAPE(double)
KPT_SHAPE(std::int64_t)
#undef KPT_SHAPE

}  // namespace kpt::kernels
