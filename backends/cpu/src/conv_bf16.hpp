#pragma once
// The bf16 modes of float forward convolutions (kpt/backends/cpu/bf16.hpp): the mode, and the
// rounding that the emulated ones apply.
#include <atomic>
#include <bit>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "kpt/backends/cpu/bf16.hpp"
#include "kpt/core/error.hpp"
#include "kpt/core/shape.hpp"
#include "parallel.hpp"

namespace kpt::cpu_detail {

// set_cpu_conv_bf16's mode as an int, -1 when unset (conv.cpp).
extern std::atomic<int> conv_bf16_override;

inline cpu_conv_bf16 conv_bf16_mode() {
  const int set = conv_bf16_override.load(std::memory_order_relaxed);
  if (set >= 0) return cpu_conv_bf16(set);
  const char* v = std::getenv("KPT_CONV_BF16");
  if (v == nullptr || *v == '\0' || std::strcmp(v, "0") == 0) return cpu_conv_bf16::off;
  if (std::strcmp(v, "1") == 0) return cpu_conv_bf16::operands;
  if (std::strcmp(v, "winograd") == 0) return cpu_conv_bf16::winograd;
  if (std::strcmp(v, "winograd-emulated") == 0) return cpu_conv_bf16::winograd_emulated;
  require<value_error>(false, "KPT_CONV_BF16=", v,
                       ": expected winograd (bf16 Winograd products), winograd-emulated (the same, never on "
                       "AVX512-BF16), 1 (convolution inputs and weights rounded to bf16) or 0 (off)");
  return cpu_conv_bf16::off;
}

// The bfloat16 nearest to f (ties to even), widened back to float; NaN stays NaN. The same
// rounding as the safetensors codec's io::to_bf16_bits, which goes through double one value at a
// time; the parity test checks this one against it.
inline float round_to_bf16(float f) {
  std::uint32_t b = std::bit_cast<std::uint32_t>(f);
  if ((b & 0x7fffffffu) > 0x7f800000u) return f;
  b += 0x7fffu + ((b >> 16) & 1u);
  return std::bit_cast<float>(b & 0xffff0000u);
}

// Callers name the instruction set of their translation unit (void in the generic ones): every
// arch's kernels are compiled with their own flags, and one instantiation shared by name between
// them would be merged by the linker, which may keep the AVX-512 body for an AVX2 caller.

// A copy of p[0, n) rounded to bfloat16.
template <class Arch>
std::vector<float> bf16_copy(const float* p, index_t n) {
  std::vector<float> out(static_cast<std::size_t>(n));
  parallel_for(0, n, elementwise_grain, [&](index_t lo, index_t hi) {
    for (index_t i = lo; i < hi; ++i) out[std::size_t(i)] = round_to_bf16(p[i]);
  });
  return out;
}

// p[0, n) rounded to bfloat16 in place.
template <class Arch>
void round_to_bf16_in_place(float* p, index_t n) {
  parallel_for(0, n, elementwise_grain, [&](index_t lo, index_t hi) {
    for (index_t i = lo; i < hi; ++i) p[i] = round_to_bf16(p[i]);
  });
}

}  // namespace kpt::cpu_detail
