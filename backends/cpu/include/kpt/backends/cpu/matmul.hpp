#pragma once
// cpu backend: batched GEMM (compiled in kpt::cpu). See kpt/kernels/matmul.hpp for the contract.
#include <cstdint>

#include "kpt/core/backend.hpp"
#include "kpt/kernels/matmul.hpp"

namespace kpt::kernels {

void gemm(cpu, const gemm_geom& g, const float* a, const float* b, float* c);
void gemm(cpu, const gemm_geom& g, const double* a, const double* b, double* c);

// For benchmarks: `iterations` rounds of independent float FMA chains on the calling thread, with
// the same instruction set the kernels use. Returns the floating-point operations done
// (2 per lane per FMA), so flops / seconds is this thread's measured FMA peak.
double fma_probe(cpu, std::int64_t iterations);

}  // namespace kpt::kernels
