#pragma once
// cpu backend: softmax and log_softmax along an axis (compiled in kpt::cpu).
#include "kpt/core/backend.hpp"
#include "kpt/kernels/softmax.hpp"

namespace kpt::kernels {

void softmax_forward(cpu, const axis_geom& g, bool log, const float* x, float* y);
void softmax_forward(cpu, const axis_geom& g, bool log, const double* x, double* y);
void softmax_backward(cpu, const axis_geom& g, bool log, const float* y, const float* gy, float* dx);
void softmax_backward(cpu, const axis_geom& g, bool log, const double* y, const double* gy, double* dx);

}  // namespace kpt::kernels
