#pragma once
// cpu backend: argmax / argmin and topk (compiled in kpt::cpu).
#include <cstdint>

#include "kpt/core/backend.hpp"
#include "kpt/kernels/select.hpp"

namespace kpt::kernels {

void arg_extreme(cpu, const axis_geom& g, bool largest, const float* x, std::int64_t* idx);
void arg_extreme(cpu, const axis_geom& g, bool largest, const double* x, std::int64_t* idx);
void topk_rows(cpu, const axis_geom& g, index_t k, bool largest, const float* x, float* values, std::int64_t* idx);
void topk_rows(cpu, const axis_geom& g, index_t k, bool largest, const double* x, double* values,
               std::int64_t* idx);

}  // namespace kpt::kernels
