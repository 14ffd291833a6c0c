#pragma once
// cpu backend: pixel_shuffle / space_to_depth (compiled in kpt::cpu).
#include "kpt/core/backend.hpp"
#include "kpt/kernels/shuffle.hpp"

namespace kpt::kernels {

void pixel_shuffle(cpu, const shuffle_geom& g, const float* lo, float* hi);
void pixel_shuffle(cpu, const shuffle_geom& g, const double* lo, double* hi);
void space_to_depth(cpu, const shuffle_geom& g, const float* hi, float* lo);
void space_to_depth(cpu, const shuffle_geom& g, const double* hi, double* lo);

}  // namespace kpt::kernels
