// Dispatch of the l2_normalize and pairwise distance kernels to the best compiled arch.
#include "kpt/backends/cpu/distance.hpp"

#include "arch.hpp"
#include "distance_simd.hpp"

namespace kpt::kernels {

#define KPT_DISTANCE(T)                                                                                   \
  void l2_normalize_forward(cpu, const axis_geom& g, double eps, const T* x, T* y, T* norm) {             \
    cpu_detail::dispatch([&](auto arch) { cpu_detail::l2_normalize_forward_simd(arch, g, eps, x, y, norm); }); \
  }                                                                                                       \
  void l2_normalize_backward(cpu, const axis_geom& g, double eps, const T* y, const T* norm, const T* gy,  \
                             T* dx) {                                                                     \
    cpu_detail::dispatch(                                                                                 \
        [&](auto arch) { cpu_detail::l2_normalize_backward_simd(arch, g, eps, y, norm, gy, dx); });       \
  }                                                                                                       \
  void pairwise_distance_forward(cpu, const cdist_geom& g, const T* a, const T* b, T* dist) {             \
    cpu_detail::dispatch([&](auto arch) { cpu_detail::pairwise_distance_forward_simd(arch, g, a, b, dist); }); \
  }                                                                                                       \
  void pairwise_distance_backward(cpu, const cdist_geom& g, const T* a, const T* b, const T* dist,        \
                                  const T* gy, T* da, T* db) {                                            \
    cpu_detail::dispatch(                                                                                 \
        [&](auto arch) { cpu_detail::pairwise_distance_backward_simd(arch, g, a, b, dist, gy, da, db); }); \
  }
KPT_DISTANCE(float)
KPT_DISTANCE(double)
#undef KPT_DISTANCE

}  // namespace kpt::kernels
