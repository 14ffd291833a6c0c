#pragma once
// bf16 inference in the cpu backend (docs/performance.md, "bf16 inference").
namespace kpt {

// How float forward convolutions use bfloat16 (backward passes always run in float).
enum class cpu_conv_bf16 {
  off,
  // kpt's bf16 inference path: the Winograd layers (3x3, stride 1, 64+ channels) multiply their
  // transformed tiles and weights in bf16, on vdpbf16ps when the CPU has AVX512-BF16
  // (kpt::cpu_bf16_dot(): faster than float), emulated in float elsewhere (slower); the other
  // layers round their input and weights to bf16.
  winograd,
  // The same numerics, always emulated (the parity tests' reference).
  winograd_emulated,
  // Every convolution rounds its input and weights to bf16 before the float kernels (emulated).
  operands,
};

// The mode of the next convolution: set_cpu_conv_bf16's, else the environment variable
// KPT_CONV_BF16 (0, winograd, winograd-emulated or 1; read per call, a malformed value throws
// kpt::value_error), else off.
cpu_conv_bf16 cpu_conv_bf16_mode();
// Sets the mode for the whole process, over KPT_CONV_BF16.
void set_cpu_conv_bf16(cpu_conv_bf16 mode);
// Goes back to KPT_CONV_BF16.
void reset_cpu_conv_bf16();

}  // namespace kpt
