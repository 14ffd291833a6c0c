// Dispatch of the max-pooling kernels to the best compiled arch.
#include "kpt/backends/cpu/pool.hpp"

#include "arch.hpp"
#include "pool_simd.hpp"

namespace kpt::kernels {

#define KPT_POOL(T)                                                                                       \
  void max_pool2d_forward(cpu, const pool2d_geom& g, const T* x, T* y, index_t* argmax) {                 \
    cpu_detail::dispatch([&](auto arch) { cpu_detail::max_pool2d_forward_simd(arch, g, x, y, argmax); }); \
  }                                                                                                       \
  void max_pool2d_backward(cpu, const pool2d_geom& g, const T* gy, const index_t* argmax, T* gx) {       \
    cpu_detail::dispatch([&](auto arch) { cpu_detail::max_pool2d_backward_simd(arch, g, gy, argmax, gx); }); \
  }
KPT_POOL(float)
KPT_POOL(double)
#undef KPT_POOL

}  // namespace kpt::kernels
