#pragma once
// cpu backend: 2-D max pooling (compiled in kpt::cpu).
#include "kpt/core/backend.hpp"
#include "kpt/kernels/pool.hpp"

namespace kpt::kernels {

void max_pool2d_forward(cpu, const pool2d_geom& g, const float* x, float* y, index_t* argmax);
void max_pool2d_forward(cpu, const pool2d_geom& g, const double* x, double* y, index_t* argmax);
void max_pool2d_backward(cpu, const pool2d_geom& g, const float* gy, const index_t* argmax, float* gx);
void max_pool2d_backward(cpu, const pool2d_geom& g, const double* gy, const index_t* argmax, double* gx);

}  // namespace kpt::kernels
