#pragma once
// cpu backend: element-wise maps with broadcasting and axis sums (compiled in kpt::cpu).
#include "kpt/core/backend.hpp"
#include "kpt/kernels/elementwise.hpp"

namespace kpt::kernels {

void binary(cpu, binary_fn f, const broadcast_geom& g, const float* a, const float* b, float* y);
void binary(cpu, binary_fn f, const broadcast_geom& g, const double* a, const double* b, double* y);
void reduce_sum(cpu, const reduce_geom& g, const float* x, float* y);
void reduce_sum(cpu, const reduce_geom& g, const double* x, double* y);

}  // namespace kpt::kernels
