#pragma once
// Winograd's 36 GEMMs in bfloat16 on AVX512-BF16 (KPT_CONV_BF16=winograd, inference only).
//
// vdpbf16ps multiplies pairs of bf16 values and adds both products to a float: 32 multiply-adds
// per zmm instruction, twice an FMA's 16, at the same rate on Zen 4 (measured: 172 against 96
// GFLOP/s on one core). Products of two bf16 values are exact in float, so this computes what
// the emulation (KPT_CONV_BF16=winograd-emulated: U and V rounded to bf16, float GEMM) computes,
// up to the order of the float sums; the parity test holds the two together.
//
// Operands are pairs of bf16 along the channel axis (the GEMMs' K), one 32-bit word per pair, the
// even channel in the low half:
//   U words [36][O/MR panels][C/2][MR]   (the packed float U of winograd_conv converted)
//   V words [36][tiles/NR][C/2][NR]      (written by winograd_conv's bf16 input transform)
// so the micro-kernel reads both contiguously and needs no packing of its own. An odd C pads its
// last pair with 0.
//
// The functions that use AVX512-BF16 carry it as a target attribute (so do their callers' loop
// bodies, winograd_conv::transform_pair_bf16): the unit's flags stay those of its arch, and they
// run only when bf16_dot_selected() (arch.hpp). A lambda does not inherit the attribute, so the parallel loops
// call one attributed function per item.
#include <immintrin.h>

#include <algorithm>
#include <cstdint>

#include "kpt/core/shape.hpp"
#include "parallel.hpp"

#define KPT_TARGET_AVX512_BF16 \
  __attribute__((target("avx512f,avx512cd,avx512dq,avx512bw,avx512vl,avx512bf16,avx2,fma")))

namespace kpt::cpu_detail::winograd_bf16 {

using word = std::uint32_t;  // two bfloat16 values, the even channel in the low half

// Rows (output channels) and columns (tiles) of a micro-tile: 8 x 3 zmm accumulators.
inline constexpr index_t MR = 8, NR = 48;

inline index_t pairs(index_t C) { return (C + 1) / 2; }

// 16 words from 16 values of an even channel and 16 of the next: word t = (even[t], odd[t]).
KPT_TARGET_AVX512_BF16 inline __m512i pair_words(__m512 even, __m512 odd) {
  // cvtne2ps puts even's 16 bf16 below odd's; interleave them.
  alignas(64) static constexpr std::uint16_t interleave[32] = {0, 16, 1, 17, 2,  18, 3,  19, 4,  20, 5,
                                                               21, 6, 22, 7, 23, 8,  24, 9,  25, 10, 26,
                                                               11, 27, 12, 28, 13, 29, 14, 30, 15, 31};
  const __m512i bf = reinterpret_cast<__m512i>(_mm512_cvtne2ps_pbh(odd, even));
  return _mm512_permutexvar_epi16(_mm512_load_si512(interleave), bf);
}

// One panel of the float U (pack_a's [C][MR], MR == 8) as words [C/2][MR].
KPT_TARGET_AVX512_BF16 inline void pack_weight_panel(const float* src, index_t C, word* dst) {
  for (index_t k = 0; k < pairs(C); ++k) {
    // Rows 2k and 2k + 1 are 16 consecutive floats (8 when C is odd and this is the last pair).
    const __mmask16 m = 2 * k + 1 < C ? __mmask16(0xffff) : __mmask16(0x00ff);
    const __m512 rows = _mm512_maskz_loadu_ps(m, src + 2 * k * MR);
    const __m512 even = _mm512_castps256_ps512(_mm512_castps512_ps256(rows));
    const __m512 odd = _mm512_castps256_ps512(_mm512_extractf32x8_ps(rows, 1));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + k * MR), _mm512_castsi512_si256(pair_words(even, odd)));
  }
}

// The float U packed for the float GEMM (per position xi, a_size values apart) as words
// [36][panel][C/2][MR].
inline void pack_weights(const float* upack, index_t a_size, index_t O, index_t C, word* out) {
  static_assert(MR == 8, "pack_weight_panel reads two rows of 8");
  const index_t panels = (O + MR - 1) / MR;
  parallel_for(0, 36 * panels, std::max<index_t>(1, 4096 / std::max<index_t>(C, 1)), [&](index_t lo, index_t hi) {
    for (index_t t = lo; t < hi; ++t)
      pack_weight_panel(upack + t / panels * a_size + t % panels * C * MR, C, out + t * pairs(C) * MR);
  });
}

// One MR x NR tile of C (row stride ldc; the first `rows` rows stored) = A panel * B panel over
// `cp` channel pairs.
KPT_TARGET_AVX512_BF16 inline void micro_tile(index_t cp, const word* __restrict a, const word* __restrict b,
                                              float* c, index_t ldc, index_t rows) {
  __m512 acc[MR][3];
#pragma GCC unroll 8
  for (int r = 0; r < MR; ++r)
#pragma GCC unroll 3
    for (int v = 0; v < 3; ++v) acc[r][v] = _mm512_setzero_ps();
  for (index_t k = 0; k < cp; ++k) {
    __m512bh bv[3];
#pragma GCC unroll 3
    for (int v = 0; v < 3; ++v) bv[v] = reinterpret_cast<__m512bh>(_mm512_loadu_si512(b + v * 16));
#pragma GCC unroll 8
    for (int r = 0; r < MR; ++r) {
      const __m512bh av = reinterpret_cast<__m512bh>(_mm512_set1_epi32(int(a[r])));
#pragma GCC unroll 3
      for (int v = 0; v < 3; ++v) acc[r][v] = _mm512_dpbf16_ps(acc[r][v], av, bv[v]);
    }
    a += MR;
    b += NR;
  }
#pragma GCC unroll 8
  for (int r = 0; r < MR; ++r)
    if (r < rows)
#pragma GCC unroll 3
      for (int v = 0; v < 3; ++v) _mm512_storeu_ps(c + r * ldc + v * 16, acc[r][v]);
}

// One tile panel q of M_xi: every O panel of U_xi times the B panel (C * 96 bytes, kept in L1).
KPT_TARGET_AVX512_BF16 inline void gemm_panel(const word* u, const word* b, index_t O, index_t C, float* m,
                                              index_t ldm) {
  const index_t panels = (O + MR - 1) / MR, cp = pairs(C);
  for (index_t p = 0; p < panels; ++p) micro_tile(cp, u + p * cp * MR, b, m + p * MR * ldm, ldm, std::min(MR, O - p * MR));
}

// M_xi (O x n_tiles floats at m + xi * O * n_tiles) = U_xi * V_xi for the 36 positions xi;
// n_tiles is a multiple of NR.
inline void gemm(const word* u, const word* v, index_t O, index_t C, index_t n_tiles, float* m) {
  const index_t panels = (O + MR - 1) / MR, cp = pairs(C), q_count = n_tiles / NR;
  // One (xi, tile panel) per item; consecutive items share U_xi.
  const index_t item_macs = panels * MR * cp * 2 * NR;
  parallel_for(0, 36 * q_count, std::max<index_t>(1, (index_t(1) << 20) / item_macs), [&](index_t lo, index_t hi) {
    for (index_t t = lo; t < hi; ++t) {
      const index_t xi = t / q_count, q = t % q_count;
      gemm_panel(u + xi * panels * cp * MR, v + t * cp * NR, O, C, m + xi * O * n_tiles + q * NR, n_tiles);
    }
  });
}

}  // namespace kpt::cpu_detail::winograd_bf16
