#pragma once
// cpu backend: bilinear grid_sample and its gradients (compiled in kpt::cpu).
#include "kpt/core/backend.hpp"
#include "kpt/kernels/grid_sample.hpp"

namespace kpt::kernels {

void grid_sample_forward(cpu, const grid_sample_geom& g, const float* x, const float* grid, float* y);
void grid_sample_forward(cpu, const grid_sample_geom& g, const double* x, const double* grid, double* y);
void grid_sample_backward(cpu, const grid_sample_geom& g, const float* x, const float* grid, const float* gy,
                          float* grad_x, float* grad_grid);
void grid_sample_backward(cpu, const grid_sample_geom& g, const double* x, const double* grid, const double* gy,
                          double* grad_x, double* grad_grid);

}  // namespace kpt::kernels
