#pragma once
// Stride-1 convolution straight from zero-padded copies of bands of image rows: no im2col packing.
//
// With the source padded to Hp x Wp, output pixel (oh, ow) and tap (c, i, j) read
// padded[c][oh + i][ow + j] = flat[c*Hp*Wp + (oh*Wp + ow) + (i*Wp + j)]. Numbering the outputs by
// col = oh*Wp + ow (the padded width, so each row carries Wp - WO columns that are computed and
// dropped), B(k, col) = flat[col + off[k]] with one offset per tap k: a B micro-panel row is one
// unaligned vector load, so the GEMM micro-kernel reads the image itself instead of a packed copy
// (packing took 14-17 % of a SuperPoint or KeyPointNet step with im2col). Stores go through masks
// that drop the padding columns and land each row of the tile at its place in the output. The
// image is padded a band of output rows at a time (with the KH - 1 rows the band's taps reach
// below it), so the copy stays in the L2 of the thread that reads it.
// AVX-512 and AVX2 (masked stores, lanes.hpp); other archs keep the im2col GEMM.
#include "gemm_simd.hpp"
#include "lanes.hpp"

#include <algorithm>
#include <stdexcept>

namespace kpt::cpu_detail {

// Up to this many taps per output (64 channels of a 3x3 kernel) the direct path beat the packed
// GEMM by 1.1-1.9x at KeyPointNet's shapes; beyond it the scattered rows of B no longer stay in
// L1 and the packed panels' contiguous loads win by 5-15 % (measured at 128 and 256 channels).
inline constexpr index_t direct_conv_max_taps = 576;

// Bytes of one band of padded input rows (per thread, in L2). At 32 channels of 322 padded
// columns this makes bands of 2 output rows: 1.2x faster than whole-image padding, and bands of
// 4-8 rows were 3-5 % slower than 2 (32->32 at 240 x 320, AVX2, one thread).
inline constexpr index_t direct_band_bytes = index_t(192) << 10;

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

// Rows [h0, h0 + rows) of the C planes of an image [C, H, W], zero-padded by PW columns on each side
// into rows of S = W + 2 PW, plane c at dst + c * plane; rows outside the image and the rest of each
// plane are zeros. The bands the direct kernels read.
template <class T>
void pad_rows(const T* img, index_t C, index_t H, index_t W, index_t PW, index_t h0, index_t rows, T* dst,
              index_t plane) {
  const index_t S = W + 2 * PW;
  for (index_t c = 0; c < C; ++c) {
    T* pc = dst + c * plane;
    for (index_t r = 0; r < rows; ++r) {
      T* row = pc + r * S;
      const index_t h = h0 + r;
      if (h < 0 || h >= H) {
        std::fill(row, row + S, T(0));
        continue;
      }
      std::fill(row, row + PW, T(0));
      std::copy_n(img + (c * H + h) * W, W, row + PW);
      std::fill(row + PW + W, row + S, T(0));
    }
    std::fill(pc + rows * S, pc + plane, T(0));
  }
}

// A stride-1 convolution of N images [C, H, W] (src, src_batch elements apart) zero-padded by
// PH, PW, with weights already packed by pack_a as O rows of K = C*KH*KW taps ordered (c, i, j):
// dst [N, O, HO, WO] = act(A * B + bias (nullable)).
template <class Arch, class T>
struct direct_conv {
  index_t N, C, H, W, O, KH, KW, PH, PW;
  const T* src;
  index_t src_batch;

  void run(const T* apack, const T* bias, kernels::conv_activation act, T* dst) const;

 private:
  void run_masked(const T* apack, const T* bias, kernels::conv_activation act, T* dst) const;
};

// Where the lanes of one vector of a tile go: out + dst + lane for the lanes in mask. A vector
// covers at most L columns, so it meets at most pieces_per_vector output rows (Wp >= L).
struct tile_piece {
  index_t dst;
  unsigned mask;
};
inline constexpr int pieces_per_vector = 2;

// C tile (mr <= MR rows of output planes `plane` apart, NV vectors) = act(bias + A panel * B(k, col))
// with B rows at b + off[k], summed over all K taps at once (K is short: direct_conv_max_taps).
// A tile that lands whole inside one output row (most of them) has straight >= 0, the offset of
// its first column, and stores its vectors plainly; the others go through their pieces. With 27
// taps (a 3-channel first layer) the piece tests and set-up took a sixth of each tile: the plain
// path made that layer 1.1-1.2x faster (bench/micro, AVX2).
template <class Arch, class T>
inline void direct_tile(index_t K, const T* __restrict a, const T* b, const index_t* off, T* out, index_t plane,
                        index_t mr, const tile_piece (&pieces)[gemm_blocking<Arch, T>::NV][pieces_per_vector],
                        index_t straight, const T* bias, const kernels::conv_activation* act) {
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
  if (act) {
#pragma GCC unroll 16
    for (int r = 0; r < MR; ++r)
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) acc[r][v] = activate(*act, acc[r][v]);
  }
  if (straight >= 0) {
#pragma GCC unroll 16
    for (int r = 0; r < MR; ++r) {
      if (r >= mr) break;
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) acc[r][v].store_unaligned(out + r * plane + straight + v * BL::lanes);
    }
    return;
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
void direct_conv<Arch, T>::run(const T* apack, const T* bias, kernels::conv_activation act, T* dst) const {
  if constexpr (!has_lane_ops<Arch, T>) {
    throw std::logic_error("direct_conv: this arch has no masked vector stores; check direct_conv_fits first");
  } else {
    run_masked(apack, bias, act, dst);
  }
}

template <class Arch, class T>
void direct_conv<Arch, T>::run_masked(const T* apack, const T* bias, kernels::conv_activation act, T* dst) const {
  using BL = gemm_blocking<Arch, T>;
  constexpr index_t MR = BL::MR, NV = BL::NV, L = BL::lanes, NR = BL::NR;
  const index_t Wp = W + 2 * PW, HO = H + 2 * PH - KH + 1, WO = Wp - KW + 1;
  const index_t plane_out = HO * WO, K = C * KH * KW, mpanels = (O + MR - 1) / MR;

  // Bands of R output rows, each padded on its own into the thread's buffer (C planes of
  // R + KH - 1 rows) and consumed from L2 right away: padding the whole image first sent the
  // copy through memory and back (10 MB at 32 channels of 240 x 320), and the tiles ran 1.2x
  // slower reading it (bench/micro, 32->32 on AVX2). Small bands read best; enough bands keep
  // every thread busy.
  const index_t row_bytes = C * Wp * index_t(sizeof(T));
  const index_t R = std::clamp<index_t>(
      std::min(direct_band_bytes / row_bytes - (KH - 1), N * HO / (4 * active_threads())), 1, HO);
  const index_t bands = (HO + R - 1) / R, bplane = (R + KH - 1) * Wp, slack = NR + KW;

  std::vector<index_t> off(static_cast<std::size_t>(K));
  for (index_t c = 0, k = 0; c < C; ++c)
    for (index_t i = 0; i < KH; ++i)
      for (index_t j = 0; j < KW; ++j) off[std::size_t(k++)] = c * bplane + i * Wp + j;

  const double band_macs = double(R) * double(Wp) * double(O) * double(K);
  const index_t grain = std::max<index_t>(1, index_t(gemm_task_macs / band_macs));
  parallel_for(0, N * bands, grain, [&](index_t lo, index_t hi) {
    scratch<T, slot_pad> buffer(C * bplane + slack);
    T* band = buffer.get();
    // The last tile of a band reads up to NR + KW columns past its last plane; they feed
    // dropped columns only.
    std::fill(band + C * bplane, band + C * bplane + slack, T(0));
    for (index_t item = lo; item < hi; ++item) {
      const index_t n = item / bands, oh0 = item % bands * R, rows = std::min(R, HO - oh0);
      pad_rows(src + n * src_batch, C, H, W, PW, oh0 - PH, rows + KH - 1, band, bplane);
      // Columns numbered col = row * Wp + ow within the band.
      const index_t ncols = rows * Wp, tiles = (ncols + NR - 1) / NR;
      T* out = dst + n * O * plane_out + oh0 * WO;
      for (index_t q = 0; q < tiles; ++q) {
        const index_t j0 = q * NR;
        const index_t straight = j0 % Wp + NR <= WO ? j0 / Wp * WO + j0 % Wp : -1;
        // Otherwise the output rows each vector of the tile meets, as masked pieces.
        tile_piece pieces[NV][pieces_per_vector];
        if (straight < 0)
          for (index_t v = 0; v < NV; ++v) {
            const index_t c0 = j0 + v * L;
            int np = 0;
            for (index_t oh = c0 / Wp; oh * Wp < std::min(c0 + L, ncols); ++oh) {
              const index_t rs = oh * Wp;
              const index_t lo_lane = std::max(rs, c0) - c0, hi_lane = std::min({rs + WO, c0 + L, ncols}) - c0;
              if (hi_lane > lo_lane) pieces[v][np++] = {oh * WO + c0 - rs, lane_range<L>(lo_lane, hi_lane)};
            }
            for (; np < pieces_per_vector; ++np) pieces[v][np] = {0, 0u};
          }
        for (index_t p = 0; p < mpanels; ++p)
          direct_tile<Arch, T>(K, apack + p * K * MR, band + j0, off.data(), out + p * MR * plane_out, plane_out,
                               std::min(MR, O - p * MR), pieces, straight, bias ? bias + p * MR : nullptr,
                               act.on ? &act : nullptr);
      }
    }
  });
}

}  // namespace kpt::cpu_detail
