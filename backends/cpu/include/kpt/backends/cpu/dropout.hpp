#pragma once
// cpu backend: dropout masks (compiled in kpt::cpu).
#include "kpt/core/backend.hpp"
#include "kpt/kernels/dropout.hpp"

namespace kpt::kernels {

void dropout_apply(cpu, const dropout_geom& g, const float* x, float* y);
void dropout_apply(cpu, const dropout_geom& g, const double* x, double* y);

}  // namespace kpt::kernels
