// Dispatch of the dropout kernel to the best compiled arch.
#include "kpt/backends/cpu/dropout.hpp"

#include "arch.hpp"
#include "dropout_simd.hpp"

namespace kpt::kernels {

void dropout_apply(cpu, const dropout_geom& g, const float* x, float* y) {
  cpu_detail::dispatch([&](auto arch) { cpu_detail::dropout_apply_simd(arch, g, x, y); });
}
void dropout_apply(cpu, const dropout_geom& g, const double* x, double* y) {
  cpu_detail::dispatch([&](auto arch) { cpu_detail::dropout_apply_simd(arch, g, x, y); });
}

}  // namespace kpt::kernels
