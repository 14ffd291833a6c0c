#pragma once
// IEEE binary16 ("F16", numpy.float16) and bfloat16 ("BF16", torch.bfloat16) conversions, used by
// the safetensors reader and writer. Encoding rounds to nearest, ties to even, directly from a
// double (a float argument converts to double exactly), so there is no double rounding; overflow
// gives +-inf, values below half the smallest subnormal give +-0, NaN stays NaN (quiet).
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>

namespace kpt::io {

namespace half_detail {

// Bits of the IEEE format with E exponent bits and M stored mantissa bits nearest to x.
template <int E, int M>
constexpr std::uint16_t encode(double x) {
  constexpr int bias = (1 << (E - 1)) - 1;
  constexpr int emin = 1 - bias;  // exponent of the smallest normal number
  constexpr int emax = bias;
  constexpr std::uint16_t inf_bits = std::uint16_t(((1u << E) - 1u) << M);
  const std::uint64_t bits = std::bit_cast<std::uint64_t>(x);
  const std::uint16_t sign = std::uint16_t((bits >> 63) << (E + M));
  const int biased = int((bits >> 52) & 0x7ff);
  const std::uint64_t frac = bits & ((std::uint64_t(1) << 52) - 1);
  if (biased == 0x7ff) {
    if (frac) return std::uint16_t(sign | inf_bits | (1u << (M - 1)));  // NaN: keep it quiet
    return std::uint16_t(sign | inf_bits);
  }
  if (biased == 0) return sign;  // zero or a double subnormal: far below any 16-bit subnormal
  int exponent = biased - 1023;
  const std::uint64_t sig = frac | (std::uint64_t(1) << 52);  // value = sig * 2^(exponent - 52)
  // Bits dropped from the 53-bit significand: more when the result is subnormal.
  const int shift = 52 - M + (exponent < emin ? emin - exponent : 0);
  if (shift > 53) return sign;  // below half the smallest subnormal: rounds to zero
  std::uint64_t q = sig >> shift;
  const std::uint64_t rem = sig & ((std::uint64_t(1) << shift) - 1);
  const std::uint64_t halfway = std::uint64_t(1) << (shift - 1);
  if (rem > halfway || (rem == halfway && (q & 1))) ++q;
  if (exponent < emin) return std::uint16_t(sign | q);  // q == 2^M becomes the smallest normal
  if (q == (std::uint64_t(1) << (M + 1))) {  // rounding carried into the next binade
    q >>= 1;
    ++exponent;
  }
  if (exponent > emax) return std::uint16_t(sign | inf_bits);
  return std::uint16_t(sign | (std::uint64_t(exponent + bias) << M) | (q & ((std::uint64_t(1) << M) - 1)));
}

// The exact value of the bits h of the format with E exponent bits and M mantissa bits.
template <int E, int M>
constexpr double decode(std::uint16_t h) {
  constexpr int bias = (1 << (E - 1)) - 1;
  const bool negative = (h >> (E + M)) & 1;
  const int biased = int((h >> M) & ((1u << E) - 1));
  const std::uint64_t frac = h & ((1u << M) - 1);
  double v;
  if (biased == (1 << E) - 1) {
    v = frac ? std::numeric_limits<double>::quiet_NaN() : std::numeric_limits<double>::infinity();
  } else if (biased == 0) {
    v = std::ldexp(double(frac), 1 - bias - M);
  } else {
    v = std::ldexp(double(frac | (std::uint64_t(1) << M)), biased - bias - M);
  }
  return negative ? -v : v;
}

}  // namespace half_detail

inline std::uint16_t to_f16_bits(double x) { return half_detail::encode<5, 10>(x); }
inline double from_f16_bits(std::uint16_t h) { return half_detail::decode<5, 10>(h); }
inline std::uint16_t to_bf16_bits(double x) { return half_detail::encode<8, 7>(x); }
inline double from_bf16_bits(std::uint16_t h) { return half_detail::decode<8, 7>(h); }

}  // namespace kpt::io
