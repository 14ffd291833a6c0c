#pragma once
// cpu backend: index_select and gather with their scatter-add gradients (compiled in kpt::cpu).
// Also for int64 tensors (index bookkeeping).
#include <cstdint>

#include "kpt/core/backend.hpp"
#include "kpt/kernels/index.hpp"

namespace kpt::kernels {

index_t find_out_of_range(cpu, const std::int64_t* idx, index_t count, index_t limit);

#define KPT_CPU_INDEX_DECL(T)                                                                               \
  void index_select_forward(cpu, const index_select_geom& g, const T* x, const std::int64_t* idx, T* y);    \
  void index_select_backward(cpu, const index_select_geom& g, const T* gy, const std::int64_t* idx, T* gx); \
  void gather_forward(cpu, const gather_geom& g, const T* x, const std::int64_t* idx, T* y);                \
  void gather_backward(cpu, const gather_geom& g, const T* gy, const std::int64_t* idx, T* gx);
KPT_CPU_INDEX_DECL(float)
KPT_CPU_INDEX_DECL(double)
KPT_CPU_INDEX_DECL(std::int64_t)
#undef KPT_CPU_INDEX_DECL

}  // namespace kpt::kernels
