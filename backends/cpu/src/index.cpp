// Dispatch of the index kernels to the best compiled arch.
#include "kpt/backends/cpu/index.hpp"

#include "arch.hpp"
#include "index_simd.hpp"

namespace kpt::kernels {

index_t find_out_of_range(cpu, const std::int64_t* idx, index_t count, index_t limit) {
  return cpu_detail::dispatch([&](auto arch) { return cpu_detail::find_out_of_range_simd(arch, idx, count, limit); });
}

#define KPT_INDEX(T)                                                                                           \
  void index_select_forward(cpu, const index_select_geom& g, const T* x, const std::int64_t* idx, T* y) {      \
    cpu_detail::dispatch([&](auto arch) { cpu_detail::index_select_forward_simd(arch, g, x, idx, y); });       \
  }                                                                                                            \
  void index_select_backward(cpu, const index_select_geom& g, const T* gy, const std::int64_t* idx, T* gx) {   \
    cpu_detail::dispatch([&](auto arch) { cpu_detail::index_select_backward_simd(arch, g, gy, idx, gx); });    \
  }                                                                                                            \
  void gather_forward(cpu, const gather_geom& g, const T* x, const std::int64_t* idx, T* y) {                  \
    cpu_detail::dispatch([&](auto arch) { cpu_detail::gather_forward_simd(arch, g, x, idx, y); });             \
  }                                                                                                            \
  void gather_backward(cpu, const gather_geom& g, const T* gy, const std::int64_t* idx, T* gx) {               \
    cpu_detail::dispatch([&](auto arch) { cpu_detail::gather_backward_simd(arch, g, gy, idx, gx); });          \
  }
KPT_INDEX(float)
KPT_INDEX(double)
KPT_INDEX(std::int64_t)
#undef KPT_INDEX

}  // namespace kpt::kernels
