#pragma once
// Stride-1 convolution straight from a zero-padded copy of the image: no im2col packing.
//
// With the source padded to Hp x Wp, output pixel (oh, ow) and tap (c, i, j) read
// padded[c][oh + i][ow + j] = flat[c*Hp*Wp + (oh*Wp + ow) + (i*Wp + j)]. Numbering the outputs by
// col = oh*Wp + ow (the padded width, so each row carries Wp - WO columns that are computed and
// dropped), B(k, col) = flat[col + off[k]] with one offset per tap k: a B micro-panel row is one
// unaligned vector load, so the GEMM micro-kernel reads the image itself instead of a packed copy
// (packing took 14-17 % of a SuperPoint or KeyPointNet step with im2col). Stores go through masks
// that drop the padding columns and land each row of the tile at its place in the output.
// AVX-512 and AVX2 (masked stores, lanes.hpp); other archs keep the im2col GEMM.
#include "gemm_simd.hpp"
#include "lanes.hpp"

#include <stdexcept>

namespace kpt::cpu_detail {

// Up to this many taps per output (64 channels of a 3x3 kernel) the direct path beat the packed
// GEMM by 1.1-1.9x at KeyPointNet's shapes; beyond it the scattered rows of B no longer stay in
// L1 and the packed panels' contiguous loads win by 5-15 % (measured at 128 and 256 channels).
inline constexpr index_t direct_conv_max_taps = 576;

// Whether the direct path serves a convolution of this geometry on this arch: stride 1, a real
// kernel, output rows at least one vector wide (so no masked row piece starts before the output
// buffer), and a short K.
template <class Arch, class T>
bool direct_conv_fits(index_t KH, index_t KW, index_t SH, index_t SW, index_t WO, index_t K) {
  if constexpr (has_lane_ops<Arch, T>) {
    return SH == 1 && SW == 1 && KH * KW > 1 && WO >= index_t(gemm_blocking<Arch, T>::lanes) &&
           K <= direct_conv_max_taps;
  } else {
    return false;
  }
}

// A stride-1 convolution of N images [C, H, W] (src, src_batch elements apart) zero-padded by
// PH, PW, with weights already packed by pack_a as O rows of K = C*KH*KW taps ordered (c, i, j):
// dst [N, O, HO, WO] = A * B + bias (nullable).
template <class Arch, class T>
struct direct_conv {
  index_t N, C, H, W, O, KH, KW, PH, PW;
  const T* src;
  index_t src_batch;

  void run(const T* apack, const T* bias, T* dst) const;

 private:
  void run_masked(const T* apack, const T* bias, T* dst) const;
};

// Where the lanes of one vector of a tile go: out + dst + lane for the lanes in mask. A vector
// covers at most L columns, so it meets at most pieces_per_vector output rows (Wp >= L).
struct tile_piece {
  index_t dst;
  unsigned mask;
};
inline constexpr int pieces_per_vector = 2;

// C tile (mr <= MR rows of output planes `plane` apart, NV vectors) = bias + A panel * B(k, col)
// with B rows at b + off[k], summed over all K taps at once (K is short: direct_conv_max_taps).
template <class Arch, class T>
inline void direct_tile(index_t K, const T* __restrict a, const T* b, const index_t* off, T* out, index_t plane,
                        index_t mr, const tile_piece (&pieces)[gemm_blocking<Arch, T>::NV][pieces_per_vector],
                        const T* bias) {
  using BL = gemm_blocking<Arch, T>;
  using V = typename BL::V;
  using LO = lane_ops<Arch, T>;
  constexpr int MR = BL::MR, NV = BL::NV;
  V acc[MR][NV];
#pragma GCC unroll 16
  for (int r = 0; r < MR; ++r)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) acc[r][v] = V(bias && r < mr ? bias[r] : T(0));
  for (index_t k = 0; k < K; ++k) {
    rank1_update<Arch, T>(acc, a, b + off[k], xsimd::unaligned_mode{});
    a += MR;
  }
#pragma GCC unroll 16
  for (int r = 0; r < MR; ++r) {
    if (r >= mr) break;
    T* o = out + r * plane;
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v)
#pragma GCC unroll 2
      for (int p = 0; p < pieces_per_vector; ++p) {
        const tile_piece& pc = pieces[v][p];
        if (pc.mask == LO::all) acc[r][v].store_unaligned(o + pc.dst);  // AVX2's masked stores are slow
        else if (pc.mask) LO::store(o + pc.dst, pc.mask, acc[r][v]);
      }
  }
}

template <class Arch, class T>
void direct_conv<Arch, T>::run(const T* apack, const T* bias, T* dst) const {
  if constexpr (!has_lane_ops<Arch, T>) {
    throw std::logic_error("direct_conv: this arch has no masked vector stores; check direct_conv_fits first");
  } else {
    run_masked(apack, bias, dst);
  }
}

template <class Arch, class T>
void direct_conv<Arch, T>::run_masked(const T* apack, const T* bias, T* dst) const {
  using BL = gemm_blocking<Arch, T>;
  constexpr index_t MR = BL::MR, NV = BL::NV, L = BL::lanes, NR = BL::NR;
  const index_t Hp = H + 2 * PH, Wp = W + 2 * PW, HO = Hp - KH + 1, WO = Wp - KW + 1;
  const index_t plane_in = Hp * Wp, plane_out = HO * WO, K = C * KH * KW, ncols = HO * Wp;
  const index_t tiles = (ncols + NR - 1) / NR, mpanels = (O + MR - 1) / MR;

  std::vector<index_t> off(static_cast<std::size_t>(K));
  for (index_t c = 0, k = 0; c < C; ++c)
    for (index_t i = 0; i < KH; ++i)
      for (index_t j = 0; j < KW; ++j) off[std::size_t(k++)] = c * plane_in + i * Wp + j;

  // The last tile reads up to NR + KW columns past the last plane; they feed dropped columns only.
  scratch<T, slot_pad> padded(C * plane_in + NR + KW);
  T* pad = padded.get();
  std::fill(pad + C * plane_in, pad + C * plane_in + NR + KW, T(0));

  const double tile_macs = double(NR) * double(O) * double(K);
  const index_t grain = std::max<index_t>(1, index_t(gemm_task_macs / tile_macs));
  for (index_t n = 0; n < N; ++n) {
    const T* img = src + n * src_batch;
    parallel_for(0, C, std::max<index_t>(1, elementwise_grain / plane_in), [&](index_t lo, index_t hi) {
      for (index_t c = lo; c < hi; ++c) {
        T* pc = pad + c * plane_in;
        std::fill(pc, pc + PH * Wp, T(0));
        for (index_t h = 0; h < H; ++h) {
          T* row = pc + (PH + h) * Wp;
          std::fill(row, row + PW, T(0));
          std::copy_n(img + (c * H + h) * W, W, row + PW);
          std::fill(row + PW + W, row + Wp, T(0));
        }
        std::fill(pc + (PH + H) * Wp, pc + plane_in, T(0));
      }
    });
    T* out = dst + n * O * plane_out;
    parallel_for(0, tiles, grain, [&](index_t lo, index_t hi) {
      for (index_t q = lo; q < hi; ++q) {
        const index_t j0 = q * NR;
        // The output rows each vector of the tile meets, as masked pieces.
        tile_piece pieces[NV][pieces_per_vector] = {};
        for (index_t v = 0; v < NV; ++v) {
          const index_t c0 = j0 + v * L;
          int np = 0;
          for (index_t oh = c0 / Wp; oh * Wp < std::min(c0 + L, ncols); ++oh) {
            const index_t rs = oh * Wp;
            const index_t lo_lane = std::max(rs, c0) - c0, hi_lane = std::min({rs + WO, c0 + L, ncols}) - c0;
            if (hi_lane > lo_lane) pieces[v][np++] = {oh * WO + c0 - rs, lane_range<L>(lo_lane, hi_lane)};
          }
        }
        for (index_t p = 0; p < mpanels; ++p)
          direct_tile<Arch, T>(K, apack + p * K * MR, pad + j0, off.data(), out + p * MR * plane_out, plane_out,
                               std::min(MR, O - p * MR), pieces, bias ? bias + p * MR : nullptr);
      }
    });
  }
}

}  // namespace kpt::cpu_detail
