// Dispatch of the grid_sample kernels to the best compiled arch.
#include "kpt/backends/cpu/grid_sample.hpp"

#include "arch.hpp"
#include "grid_sample_simd.hpp"

namespace kpt::kernels {

#define KPT_GRID_SAMPLE(T)                                                                                     \
  void grid_sample_forward(cpu, const grid_sample_geom& g, const T* x, const T* grid, T* y) {                 \
    cpu_detail::dispatch([&](auto arch) { cpu_detail::grid_sample_forward_simd(arch, g, x, grid, y); });      \
  }                                                                                                            \
  void grid_sample_backward(cpu, const grid_sample_geom& g, const T* x, const T* grid, const T* gy, T* grad_x, \
                            T* grad_grid) {                                                                    \
    cpu_detail::dispatch(                                                                                      \
        [&](auto arch) { cpu_detail::grid_sample_backward_simd(arch, g, x, grid, gy, grad_x, grad_grid); });   \
  }
KPT_GRID_SAMPLE(float)
KPT_GRID_SAMPLE(double)
#undef KPT_GRID_SAMPLE

}  // namespace kpt::kernels
