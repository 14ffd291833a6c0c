#pragma once
// Which instruction set the cpu backend's kernels run with.
namespace kpt {

// "avx512", "avx2" or "sse2": the best this CPU supports, unless the environment variable
// KPT_CPU_ARCH names a lower one (read once, at the first kernel call; a value other than those
// three throws kpt::value_error). Tests use it to run every compiled path on one machine.
const char* cpu_arch();

// Whether KPT_CONV_BF16=winograd runs Winograd's GEMMs on AVX512-BF16's vdpbf16ps (the CPU has it
// and cpu_arch() is "avx512"), faster than float; otherwise it emulates their rounding in float,
// slower (docs/performance.md, "bf16 inference").
bool cpu_bf16_dot();

}  // namespace kpt
