#pragma once
// cpu backend: permuted copies and block copies (compiled in kpt::cpu). Also for int64 tensors.
#include <cstdint>

#include "kpt/core/backend.hpp"
#include "kpt/kernels/shape.hpp"

namespace kpt::kernels {

void permute_copy(cpu, const permute_geom& g, const float* x, float* y);
void permute_copy(cpu, const permute_geom& g, const double* x, double* y);
void permute_copy(cpu, const permute_geom& g, const std::int64_t* x, std::int64_t* y);
void copy_blocks(cpu, const block_copy& b, const float* src, float* dst);
void copy_blocks(cpu, const block_copy& b, const double* src, double* dst);
void copy_blocks(cpu, const block_copy& b, const std::int64_t* src, std::int64_t* dst);

}  // namespace kpt::kernels
