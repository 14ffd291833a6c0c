// Dispatch of the select kernels to the best compiled arch.
#include "kpt/backends/cpu/select.hpp"

#include "arch.hpp"
#include "select_simd.hpp"

namespace kpt::kernels {

#define KPT_SELECT(T)                                                                                       \
  void arg_extreme(cpu, const axis_geom& g, bool largest, const T* x, std::int64_t* idx) {                  \
    cpu_detail::dispatch([&](auto arch) { cpu_detail::arg_extreme_simd(arch, g, largest, x, idx); });       \
  }                                                                                                         \
  void topk_rows(cpu, const axis_geom& g, index_t k, bool largest, const T* x, T* values, std::int64_t* idx) { \
    cpu_detail::dispatch([&](auto arch) { cpu_detail::topk_rows_simd(arch, g, k, largest, x, values, idx); }); \
  }
KPT_SELECT(float)
KPT_SELECT(double)
#undef KPT_SELECT

}  // namespace kpt::kernels
