#pragma once
// cpu backend: element-wise maps of one tensor, forward and backward (compiled in kpt::cpu).
#include "kpt/core/backend.hpp"
#include "kpt/kernels/pointwise.hpp"

namespace kpt::kernels {

void unary(cpu, const unary_params& p, index_t n, const float* x, float* y);
void unary(cpu, const unary_params& p, index_t n, const double* x, double* y);
void unary_backward(cpu, const unary_params& p, index_t n, const float* x, const float* y, const float* g,
                    float* dx);
void unary_backward(cpu, const unary_params& p, index_t n, const double* x, const double* y, const double* g,
                    double* dx);

}  // namespace kpt::kernels
