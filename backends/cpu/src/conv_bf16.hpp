#pragma once
// KPT_CONV_BF16=1: float convolutions (forward only) round their input and weights to bfloat16
// before the float kernels run, as a bf16 inference path on AVX512-BF16 would feed its dot
// products (vdpbf16ps: bf16 operands, float accumulation, float output). This emulates that path's
// numerics on any CPU so that its effect on accuracy can be measured (docs/performance.md, "bf16
// inference"); it is slower than float, not faster. Read per call, like KPT_EXACT_CONV.
#include <bit>
#include <cstdint>
#include <vector>

#include "kpt/core/env.hpp"
#include "kpt/core/shape.hpp"
#include "parallel.hpp"

namespace kpt::cpu_detail {

inline bool conv_bf16_emulated() { return detail::env_flag("KPT_CONV_BF16"); }

// The bfloat16 nearest to f (ties to even), widened back to float; NaN stays NaN. The same
// rounding as the safetensors codec's io::to_bf16_bits, which goes through double one value at a
// time; the parity test checks this one against it.
inline float round_to_bf16(float f) {
  std::uint32_t b = std::bit_cast<std::uint32_t>(f);
  if ((b & 0x7fffffffu) > 0x7f800000u) return f;
  b += 0x7fffu + ((b >> 16) & 1u);
  return std::bit_cast<float>(b & 0xffff0000u);
}

// A copy of p[0, n) rounded to bfloat16.
inline std::vector<float> bf16_copy(const float* p, index_t n) {
  std::vector<float> out(static_cast<std::size_t>(n));
  parallel_for(0, n, elementwise_grain, [&](index_t lo, index_t hi) {
    for (index_t i = lo; i < hi; ++i) out[std::size_t(i)] = round_to_bf16(p[i]);
  });
  return out;
}

}  // namespace kpt::cpu_detail
