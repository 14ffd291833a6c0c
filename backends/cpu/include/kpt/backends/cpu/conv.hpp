#pragma once
// cpu backend: convolution kernels (compiled in kpt::cpu). See kpt/kernels/conv.hpp for the contract.
#include "kpt/core/backend.hpp"
#include "kpt/kernels/conv.hpp"

namespace kpt::kernels {

void conv2d_forward(cpu, const conv_geom& g, const float* x, const float* w, const float* bias, conv_activation act,
                    weight_reuse reuse, float* y);
void conv2d_forward(cpu, const conv_geom& g, const double* x, const double* w, const double* bias, conv_activation act,
                    weight_reuse reuse, double* y);
void conv2d_backward_input(cpu, const conv_geom& g, const float* gy, const float* w, float* gx);
void conv2d_backward_input(cpu, const conv_geom& g, const double* gy, const double* w, double* gx);
void conv2d_backward_weight(cpu, const conv_geom& g, const float* x, const float* gy, float* gw);
void conv2d_backward_weight(cpu, const conv_geom& g, const double* x, const double* gy, double* gw);
void conv2d_backward_bias(cpu, const conv_geom& g, const float* gy, float* gb);
void conv2d_backward_bias(cpu, const conv_geom& g, const double* gy, double* gb);

}  // namespace kpt::kernels
