// Dispatch of the batched GEMM to the best compiled arch.
#include "kpt/backends/cpu/matmul.hpp"

#include "arch.hpp"
#include "matmul_simd.hpp"

namespace kpt::kernels {

void gemm(cpu, const gemm_geom& g, const float* a, const float* b, float* c) {
  cpu_detail::dispatch([&](auto arch) { cpu_detail::gemm_simd(arch, g, a, b, c); });
}
void gemm(cpu, const gemm_geom& g, const double* a, const double* b, double* c) {
  cpu_detail::dispatch([&](auto arch) { cpu_detail::gemm_simd(arch, g, a, b, c); });
}
double fma_probe(cpu, std::int64_t iterations) {
  return cpu_detail::dispatch([&](auto arch) { return cpu_detail::fma_probe_simd(arch, iterations); });
}

}  // namespace kpt::kernels
