#pragma once
// cpu backend: the backward of sums and the maximum along an axis (compiled in kpt::cpu).
#include <cstdint>

#include "kpt/core/backend.hpp"
#include "kpt/kernels/reduce.hpp"

namespace kpt::kernels {

void expand_reduced(cpu, const reduce_geom& g, float scale, const float* gy, float* dx);
void expand_reduced(cpu, const reduce_geom& g, double scale, const double* gy, double* dx);
void max_axis(cpu, const axis_geom& g, const float* x, float* y, std::int64_t* idx);
void max_axis(cpu, const axis_geom& g, const double* x, double* y, std::int64_t* idx);
void max_axis_backward(cpu, const axis_geom& g, const std::int64_t* idx, const float* gy, float* dx);
void max_axis_backward(cpu, const axis_geom& g, const std::int64_t* idx, const double* gy, double* dx);

}  // namespace kpt::kernels
