#pragma once
// cpu backend: l2_normalize and pairwise Euclidean distances (compiled in kpt::cpu).
#include "kpt/core/backend.hpp"
#include "kpt/kernels/distance.hpp"

namespace kpt::kernels {

void l2_normalize_forward(cpu, const axis_geom& g, double eps, const float* x, float* y, float* norm);
void l2_normalize_forward(cpu, const axis_geom& g, double eps, const double* x, double* y, double* norm);
void l2_normalize_backward(cpu, const axis_geom& g, double eps, const float* y, const float* norm,
                           const float* gy, float* dx);
void l2_normalize_backward(cpu, const axis_geom& g, double eps, const double* y, const double* norm,
                           const double* gy, double* dx);
void pairwise_distance_forward(cpu, const cdist_geom& g, const float* a, const float* b, float* dist);
void pairwise_distance_forward(cpu, const cdist_geom& g, const double* a, const double* b, double* dist);
void pairwise_distance_backward(cpu, const cdist_geom& g, const float* a, const float* b, const float* dist,
                                const float* gy, float* da, float* db);
void pairwise_distance_backward(cpu, const cdist_geom& g, const double* a, const double* b, const double* dist,
                                const double* gy, double* da, double* db);

}  // namespace kpt::kernels
