#pragma once
// Winograd F(4x4, 3x3) for stride-1 3x3 convolutions with many channels (float, AVX-512 and AVX2).
//
// Each 4x4 block of outputs ("tile") comes from a 6x6 window of the input. With the transforms
// of Lavin & Gray (2016), interpolation points 0, +-1, +-2 and infinity:
//   U = G g G^T      (6x6 per output channel o and input channel c; G is 6x3)
//   V = B^T d B      (6x6 per input channel and tile; d is the 6x6 window)
//   M = U . V        summed over c: one GEMM per position xi of the 6x6, M_xi (O x tiles) =
//                    U_xi (O x C) * V_xi (C x tiles), run on the packed GEMM (gemm_simd.hpp)
//   Y = A^T M A      (4x4 outputs per tile; A^T is 4x6)
// That is 36 multiply-adds per 16 outputs and (o, c) pair instead of 144. The input gradient is
// the same computation on dY (kernel flipped, channel axes swapped); the weight gradient is its
// adjoint: dU_xi = Z_xi * V_xi^T with Z = A dY A^T, then dw = G^T dU G. Per layer, all three passes
// run 1.3-2.7x faster than the direct sums (docs/performance.md). The price is rounding: the
// transforms scale terms by up to 8 and 1/24. Against a double sum at KeyPointNet's shapes the
// error is 1.7-3.5e-6 of the result's rms (up to 9e-5 at single elements), against 4e-7 (4e-6)
// for the direct sum; tests/parity/conv_parity_test.cpp holds both bounds. KPT_EXACT_CONV=1 turns
// it off.
//
// The transforms run one vector of tiles at a time (16 with AVX-512, 8 with AVX2). Input windows
// of tiles that lie along one tile row are read as image rows and permuted into place, the others
// gathered; the 4x4 output blocks move as 4-wide rows after an in-register transpose, with masked
// scatters and gathers (lanes.hpp) only for blocks cut by an edge. Gathers and scatters are slow on
// AMD (docs/performance.md, "Winograd on Zen 4").
#include "conv_bf16.hpp"
#include "conv_winograd_bf16.hpp"
#include "gemm_simd.hpp"
#include "kpt/core/env.hpp"
#include "kpt/kernels/conv.hpp"
#include "lanes.hpp"

#include <algorithm>
#include <stdexcept>

namespace kpt::cpu_detail {

// The Winograd path pays for its transforms once both channel counts reach this and there are
// enough tiles to fill the GEMMs (measured with a per-layer A/B in one process, docs/performance.md:
// 64 channels at 120 x 160 ran 1.6-2.0x faster than the direct sums, 13 x 21 ran 0.9x).
inline constexpr index_t winograd_min_channels = 64;
inline constexpr index_t winograd_min_tiles = 64;

// KPT_EXACT_CONV=1 (read per call, so a benchmark can alternate) turns the Winograd path off for
// sums as exact as the direct ones.
inline bool winograd_disabled() { return detail::env_flag("KPT_EXACT_CONV"); }

// The archs and types the Winograd path is compiled for.
template <class Arch, class T>
inline constexpr bool has_winograd = has_lane_ops<Arch, T> && std::is_same_v<T, float>;

// The archs and types with the AVX512-BF16 GEMMs (used when the CPU has them).
template <class Arch, class T>
inline constexpr bool has_winograd_bf16 = is_avx512<Arch> && std::is_same_v<T, float>;

// Winograd's GEMMs in float, or with bf16 operands (KPT_CONV_BF16=winograd, conv_bf16.hpp):
// emulated by rounding U and V in place, or on vdpbf16ps (conv_winograd_bf16.hpp).
enum class winograd_precision { f32, bf16_emulated, bf16_dot };

template <class Arch, class T>
bool winograd_fits(const kernels::conv_geom& g) {
  if constexpr (has_winograd<Arch, T>) {
    if (winograd_disabled()) return false;
    const index_t tiles = g.N * ((g.HO + 3) / 4) * ((g.WO + 3) / 4);
    // Gathers and scatters index with 32 bits, from one image across the 16 that a group may span.
    const bool small_enough = 16 * std::max(g.C * g.H * g.W, g.O * g.HO * g.WO) < (index_t(1) << 31) &&
                              g.O * g.C * 9 < (index_t(1) << 31);
    return g.KH == 3 && g.KW == 3 && g.SH == 1 && g.SW == 1 && g.C >= winograd_min_channels &&
           g.O >= winograd_min_channels && tiles >= winograd_min_tiles && small_enough;
  } else {
    return false;
  }
}

namespace winograd {

// The 1-D transforms on vectors of tiles or channel pairs.
// B^T: 6 window values -> 6 transformed values.
template <class V>
[[gnu::always_inline]] inline void input_1d(const V (&d)[6], V (&r)[6]) {
  const V four(4.f), five(5.f), two(2.f);
  r[0] = four * d[0] - five * d[2] + d[4];
  r[1] = (d[3] + d[4]) - four * (d[1] + d[2]);
  r[2] = (d[4] - d[3]) + four * (d[1] - d[2]);
  r[3] = (d[4] - d[2]) + two * (d[3] - d[1]);
  r[4] = (d[4] - d[2]) + two * (d[1] - d[3]);
  r[5] = four * d[1] - five * d[3] + d[5];
}
// G: 3 kernel taps -> 6 transformed values.
template <class V>
[[gnu::always_inline]] inline void weight_1d(const V (&g)[3], V (&u)[6]) {
  const V quarter(0.25f), sixth(1.f / 6.f), twelfth(1.f / 12.f), twentyfourth(1.f / 24.f);
  const V even = g[0] + g[2];
  u[0] = quarter * g[0];
  u[1] = -sixth * (even + g[1]);
  u[2] = -sixth * (even - g[1]);
  const V a = twentyfourth * g[0] + sixth * g[2], b = twelfth * g[1];
  u[3] = a + b;
  u[4] = a - b;
  u[5] = g[2];
}
// A^T: 6 products -> 4 outputs.
template <class V>
[[gnu::always_inline]] inline void output_1d(const V (&m)[6], V (&y)[4]) {
  const V a = m[1] + m[2], b = m[1] - m[2], c = m[3] + m[4], d = m[3] - m[4];
  y[0] = m[0] + a + c;
  y[1] = b + V(2.f) * d;
  y[2] = a + V(4.f) * c;
  y[3] = b + V(8.f) * d + m[5];
}
// A (the adjoint of A^T): 4 output gradients -> 6 product gradients.
template <class V>
[[gnu::always_inline]] inline void output_grad_1d(const V (&y)[4], V (&m)[6]) {
  const V even = y[0] + V(4.f) * y[2], odd = y[1] + V(4.f) * y[3];
  m[0] = y[0];
  m[1] = (y[0] + y[2]) + (y[1] + y[3]);
  m[2] = (y[0] + y[2]) - (y[1] + y[3]);
  m[3] = even + V(2.f) * odd;
  m[4] = even - V(2.f) * odd;
  m[5] = y[3];
}
// G^T (the adjoint of G): 6 transformed-weight gradients -> 3 tap gradients.
template <class V>
[[gnu::always_inline]] inline void weight_grad_1d(const V (&u)[6], V (&g)[3]) {
  const V sixth(1.f / 6.f), twelfth(1.f / 12.f), twentyfourth(1.f / 24.f);
  const V s12 = u[1] + u[2], d12 = u[1] - u[2], s34 = u[3] + u[4], d34 = u[3] - u[4];
  g[0] = V(0.25f) * u[0] - sixth * s12 + twentyfourth * s34;
  g[1] = twelfth * d34 - sixth * d12;
  g[2] = sixth * (s34 - s12) + u[5];
}

}  // namespace winograd

// Stride-1 3x3 convolutions of N images x [C, H, W] (x_batch elements apart), zero-padded by
// PH, PW, with outputs y [N, O, HO, WO].
template <class Arch, class T>
struct winograd_conv {
  index_t N, C, H, W, O, PH, PW;
  const T* x;
  index_t x_batch;
  // bf16: the transformed weights U and input tiles V in bfloat16 (forward only).
  winograd_precision precision = winograd_precision::f32;

  // y = act(conv(x, w) + bias (nullable)). Weight (o, c, i, j) is read at w[o*w_os + c*w_cs + tap],
  // tap = i*3 + j, or 8 - tap when `flip` (the input gradient runs as the convolution of dY with
  // the kernel flipped and its two channel axes swapped).
  void forward(const T* w, index_t w_os, index_t w_cs, bool flip, const T* bias, kernels::conv_activation act,
               T* y) const;
  // The same in two steps, so that the transformed weights can be kept (weight_cache.hpp):
  // U = G g G^T for every (o, c), packed_weights() values, then the convolution with that U.
  index_t packed_weights() const;
  void transform_weights(const T* w, index_t w_os, index_t w_cs, bool flip, T* upack) const;
  void forward_packed(const T* upack, const T* bias, kernels::conv_activation act, T* y) const;
  // The same for bf16_dot, with U as pairs of bf16 (conv_winograd_bf16.hpp's layout).
  using word = winograd_bf16::word;
  index_t packed_weight_words() const;
  void transform_weights_bf16(const T* w, index_t w_os, index_t w_cs, bool flip, word* upack) const;
  void forward_packed_bf16(const word* upack, const T* bias, kernels::conv_activation act, T* y) const;
  // gw [O, C, 3, 3] = dL/dw for dL/dy = gy [N, O, HO, WO]: the same transforms run backwards,
  // dU_xi (O x C) = Z_xi (O x tiles) * V_xi^T with Z = A dY A^T, then gw = G^T dU G.
  void backward_weight(const T* gy, T* gw) const;

 private:
  using V = xsimd::batch<T, Arch>;
  static constexpr index_t L = index_t(V::size);  // tiles per vector
  // Per group of L tiles: the first lane's image n0, and per lane the offsets of its input window
  // and of its output block from image n0 (lanes may reach into the next images), with the masks
  // of the window rows and columns inside the image (zero padding) and of the outputs that exist.
  struct group {
    alignas(64) int in_idx[L];
    alignas(64) int out_idx[L];
    index_t n0;
    unsigned in_row[6], in_col[6], out_row[4], out_col[4];
    // AVX2: whether the L tiles are consecutive in one tile row of one image, so that each window
    // row is 4L + 2 consecutive input values from in_idx[0] (the transform then loads rows instead
    // of gathering); run_col masks the values inside the image, 8 per mask (the last: 2).
    bool run = false;
    unsigned run_col[5];
    // AVX-512: the group as up to 3 segments of lanes whose tiles are consecutive in one tile row
    // (0 segments: gather). A segment's window row r is 4L + 2 consecutive values from
    // base + r * W, lane l's window at base + 4l; col masks the values inside the image and the
    // segment's windows, 16 per mask (the last: 2); rows has bit r when window row r is inside.
    struct segment {
      int base;
      unsigned lanes, rows, col[5];
    };
    segment seg[3];
    int segments = 0;
    // Whether every lane's 4x4 output block exists: no image edge, no ragged end of the batch.
    bool whole_blocks() const {
      unsigned m = (1u << L) - 1;
      for (int r = 0; r < 4; ++r) m &= out_row[r] & out_col[r];
      return m == (1u << L) - 1;
    }
  };
  // Tiles are numbered across the batch, u = n * tiles + t, and processed in chunks of whole
  // groups (of whole bf16 GEMM panels for bf16_dot), split evenly, that keep the transformed data
  // within 16 MB per buffer.
  struct tiling {
    index_t HO, WO, TW, tiles, total, chunk;
  };
  tiling plan() const;
  void make_groups(const tiling& tl, index_t u0, index_t groups, group* info) const;
  void make_segments(const tiling& tl, index_t u, group& gr) const;
  // V = B^T d B of one channel's windows for a group: sink(xi, v) for the 36 positions xi.
  template <class Sink>
  void transform_window(const group& gr, const T* plane, Sink&& sink) const;
  void transform_input(const group* info, index_t groups, index_t n_tiles, T* vb) const;
  // bf16_dot: V as words [36][n_tiles / NR][C / 2][NR] (conv_winograd_bf16.hpp); per group and
  // channel pair k, the 36 words vectors at dst + xi * xi_stride.
  void transform_input_bf16(const group* info, index_t n_tiles, word* vw) const;
  KPT_TARGET_AVX512_BF16 void transform_pair_bf16(const group& gr, index_t k, word* dst, index_t xi_stride) const;
  // Y = act(A^T M A (+ bias)) for a chunk's groups, M [36][O][n_tiles].
  void transform_output(const tiling& tl, const group* info, index_t groups, index_t n_tiles, const T* mb,
                        const T* bias, kernels::conv_activation act, T* y) const;
  // Per chunk of tiles: its groups, then V of the chunk into vb [36][C][n_tiles] (n_tiles rounded up
  // to whole groups), then f(info, groups, n_tiles, vb, first) with first true for the first chunk.
  template <class F>
  void for_each_chunk(const tiling& tl, F&& f) const;
  // A group that is a run (AVX2) or a segment of one (AVX-512): window row values
  // d[s] lane l = row[4l + s], those outside `col` 0.
  [[gnu::always_inline]] static inline void load_window_row(const T* row, const unsigned (&col)[5], V (&d)[6]);
  // The 4x4 output blocks of a group: b[i][j] lane l <-> plane[out_idx[l] + i*WO + j], for the
  // outputs that exist (0 for the others when loading).
  static void load_blocks(const group& gr, index_t WO, const T* plane, V (&b)[4][4]);
  static void store_blocks(const group& gr, index_t WO, T* plane, const V (&b)[4][4]);
  void transform_weights_simd(const T* w, index_t w_os, index_t w_cs, bool flip, T* upack) const;
  void forward_packed_simd(const T* upack, const T* bias, kernels::conv_activation act, T* y) const;
  void backward_weight_simd(const T* gy, T* gw) const;
};

template <class Arch, class T>
void winograd_conv<Arch, T>::forward(const T* w, index_t w_os, index_t w_cs, bool flip, const T* bias,
                                     kernels::conv_activation act, T* y) const {
  if (precision == winograd_precision::bf16_dot) {
    scratch<word, slot_weights> uwords(packed_weight_words());
    transform_weights_bf16(w, w_os, w_cs, flip, uwords.get());
    forward_packed_bf16(uwords.get(), bias, act, y);
    return;
  }
  scratch<T, slot_weights> upack(packed_weights());
  transform_weights(w, w_os, w_cs, flip, upack.get());
  forward_packed(upack.get(), bias, act, y);
}

template <class Arch, class T>
index_t winograd_conv<Arch, T>::packed_weights() const {
  return 36 * packed_a_size<Arch, T>(O, C);
}

template <class Arch, class T>
void winograd_conv<Arch, T>::transform_weights(const T* w, index_t w_os, index_t w_cs, bool flip, T* upack) const {
  if constexpr (has_winograd<Arch, T>) {
    transform_weights_simd(w, w_os, w_cs, flip, upack);
    if constexpr (std::is_same_v<T, float>)
      if (precision == winograd_precision::bf16_emulated) round_to_bf16_in_place<Arch>(upack, packed_weights());
  } else {
    throw std::logic_error("winograd_conv: float on AVX-512 or AVX2 only; check winograd_fits first");
  }
}

template <class Arch, class T>
void winograd_conv<Arch, T>::forward_packed(const T* upack, const T* bias, kernels::conv_activation act, T* y) const {
  if constexpr (has_winograd<Arch, T>) {
    forward_packed_simd(upack, bias, act, y);
  } else {
    throw std::logic_error("winograd_conv: float on AVX-512 or AVX2 only; check winograd_fits first");
  }
}

template <class Arch, class T>
index_t winograd_conv<Arch, T>::packed_weight_words() const {
  constexpr index_t MR = winograd_bf16::MR;
  return 36 * ((O + MR - 1) / MR * MR) * winograd_bf16::pairs(C);
}

template <class Arch, class T>
void winograd_conv<Arch, T>::transform_weights_bf16(const T* w, index_t w_os, index_t w_cs, bool flip,
                                                    word* upack) const {
  if constexpr (has_winograd_bf16<Arch, T>) {
    static_assert(gemm_blocking<Arch, T>::MR == winograd_bf16::MR, "the bf16 U is the float U's panels in pairs");
    scratch<T, slot_weights> u(packed_weights());
    transform_weights_simd(w, w_os, w_cs, flip, u.get());
    winograd_bf16::pack_weights(u.get(), packed_a_size<Arch, T>(O, C), O, C, upack);
  } else {
    throw std::logic_error("winograd_conv: bf16 GEMMs on AVX-512 only");
  }
}

template <class Arch, class T>
void winograd_conv<Arch, T>::backward_weight(const T* gy, T* gw) const {
  if constexpr (has_winograd<Arch, T>) {
    backward_weight_simd(gy, gw);
  } else {
    throw std::logic_error("winograd_conv: float on AVX-512 or AVX2 only; check winograd_fits first");
  }
}

template <class Arch, class T>
typename winograd_conv<Arch, T>::tiling winograd_conv<Arch, T>::plan() const {
  tiling tl;
  tl.HO = H + 2 * PH - 2, tl.WO = W + 2 * PW - 2;
  tl.TW = (tl.WO + 3) / 4;
  tl.tiles = (tl.HO + 3) / 4 * tl.TW, tl.total = N * tl.tiles;
  const index_t chunk_bytes = index_t(16) << 20;
  const index_t step = precision == winograd_precision::bf16_dot ? winograd_bf16::NR : L;
  const index_t max_chunk =
      std::max<index_t>(step, chunk_bytes / index_t(36 * sizeof(T) * std::max(C, O)) / step * step);
  const index_t nchunks = (tl.total + max_chunk - 1) / max_chunk;
  tl.chunk = ((tl.total + nchunks - 1) / nchunks + step - 1) / step * step;
  return tl;
}

template <class Arch, class T>
void winograd_conv<Arch, T>::make_groups(const tiling& tl, index_t u0, index_t groups, group* info) const {
  for (index_t q = 0; q < groups; ++q) {
    group& gr = info[q];
    gr = group{};
    gr.n0 = (u0 + q * L) / tl.tiles;
    for (index_t l = 0; l < L; ++l) {
      const index_t u = u0 + q * L + l;
      if (u >= tl.total) continue;
      const index_t n = u / tl.tiles, th = u % tl.tiles / tl.TW, tw = u % tl.TW;
      const index_t ih = th * 4 - PH, iw = tw * 4 - PW;
      gr.in_idx[l] = int((n - gr.n0) * x_batch + ih * W + iw);
      gr.out_idx[l] = int(((n - gr.n0) * O * tl.HO + th * 4) * tl.WO + tw * 4);
      for (index_t r = 0; r < 6; ++r) {
        if (ih + r >= 0 && ih + r < H) gr.in_row[r] |= 1u << l;
        if (iw + r >= 0 && iw + r < W) gr.in_col[r] |= 1u << l;
      }
      for (index_t r = 0; r < 4; ++r) {
        if (th * 4 + r < tl.HO) gr.out_row[r] |= 1u << l;
        if (tw * 4 + r < tl.WO) gr.out_col[r] |= 1u << l;
      }
    }
    if constexpr (is_avx512<Arch>) make_segments(tl, u0 + q * L, gr);
    if constexpr (is_avx2<Arch>) {
      const index_t u = u0 + q * L;
      gr.run = u + L <= tl.total && u / tl.TW == (u + L - 1) / tl.TW;
      const index_t iw0 = u % tl.TW * 4 - PW;
      for (unsigned& m : gr.run_col) m = 0;
      for (index_t k = 0; k < 4 * L + 2; ++k)
        if (iw0 + k >= 0 && iw0 + k < W) gr.run_col[k / 8] |= 1u << (k % 8);
    }
  }
}

// AVX-512: splits the group starting at tile u into runs of tiles along one tile row of one image.
template <class Arch, class T>
void winograd_conv<Arch, T>::make_segments(const tiling& tl, index_t u, group& gr) const {
  gr.segments = 0;
  index_t l0 = 0;
  while (l0 < L && u + l0 < tl.total) {
    if (gr.segments == 3) {  // tile rows shorter than a third of a group: gather instead
      gr.segments = 0;
      return;
    }
    const index_t row0 = (u + l0) / tl.TW;  // tile row across the batch
    index_t l1 = l0 + 1;
    while (l1 < L && u + l1 < tl.total && (u + l1) / tl.TW == row0) ++l1;
    typename group::segment& sg = gr.seg[gr.segments++];
    sg = {};
    sg.base = gr.in_idx[l0] - int(4 * l0);
    sg.lanes = lane_range<L>(l0, l1);
    const index_t th = row0 % ((tl.HO + 3) / 4), iw0 = (u + l0) % tl.TW * 4 - PW - 4 * l0;
    for (index_t r = 0; r < 6; ++r)
      if (th * 4 - PH + r >= 0 && th * 4 - PH + r < H) sg.rows |= 1u << r;
    for (index_t k = 4 * l0; k < 4 * l1 + 2; ++k)
      if (iw0 + k >= 0 && iw0 + k < W) sg.col[k / 16] |= 1u << (k % 16);
    l0 = l1;
  }
}

namespace winograd {

// AVX2: the 4 x 4 transpose within each 128-bit half of r[0..3] (rows <-> columns). Turns the
// columns j of 8 tiles' 4-wide rows into those rows, one tile per half of r[l % 4], and back.
inline void transpose4_halves(__m256 (&r)[4]) {
  const __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
  const __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
  r[0] = _mm256_shuffle_ps(t0, t2, 0x44);
  r[1] = _mm256_shuffle_ps(t0, t2, 0xee);
  r[2] = _mm256_shuffle_ps(t1, t3, 0x44);
  r[3] = _mm256_shuffle_ps(t1, t3, 0xee);
}
// AVX-512: the same within each 128-bit quarter (r[j] quarter h <-> tile 4h + j).
inline void transpose4_quarters(__m512 (&r)[4]) {
  const __m512 t0 = _mm512_unpacklo_ps(r[0], r[1]), t1 = _mm512_unpackhi_ps(r[0], r[1]);
  const __m512 t2 = _mm512_unpacklo_ps(r[2], r[3]), t3 = _mm512_unpackhi_ps(r[2], r[3]);
  r[0] = _mm512_shuffle_ps(t0, t2, 0x44);
  r[1] = _mm512_shuffle_ps(t0, t2, 0xee);
  r[2] = _mm512_shuffle_ps(t1, t3, 0x44);
  r[3] = _mm512_shuffle_ps(t1, t3, 0xee);
}

}  // namespace winograd

// The 6 window values of L consecutive tiles along one input row, d[s] lane l = row[4l + s], from
// row loads and permutes instead of 6 gathers, which are slow on AMD: a 64-channel layer at
// 120 x 160 ran 1.2x faster in all three passes on AVX2 (Zen 3), and 1.23x (forward), 1.36x
// (input gradient), 1.10x (weight gradient) on AVX-512 (Zen 4; docs/performance.md). Values
// outside `col` read as 0.
template <class Arch, class T>
inline void winograd_conv<Arch, T>::load_window_row(const T* row, const unsigned (&col)[5], V (&d)[6]) {
  using LO = lane_ops<Arch, float>;
  if constexpr (is_avx512<Arch>) {
    __m512 a[4];  // row[16k, 16k + 16)
    for (int k = 0; k < 4; ++k) a[k] = col[k] == LO::all ? _mm512_loadu_ps(row + 16 * k) : LO::load(row + 16 * k, col[k]);
    // Lanes 0-7 pick row[4l + s] from a[0]:a[1], lanes 8-15 the same offsets from a[2]:a[3].
    alignas(64) static constexpr int pick[4][16] = {
        {0, 4, 8, 12, 16, 20, 24, 28, 0, 4, 8, 12, 16, 20, 24, 28},
        {1, 5, 9, 13, 17, 21, 25, 29, 1, 5, 9, 13, 17, 21, 25, 29},
        {2, 6, 10, 14, 18, 22, 26, 30, 2, 6, 10, 14, 18, 22, 26, 30},
        {3, 7, 11, 15, 19, 23, 27, 31, 3, 7, 11, 15, 19, 23, 27, 31}};
    for (int s = 0; s < 4; ++s) {
      const __m512i idx = _mm512_load_si512(pick[s]);
      d[s] = _mm512_mask_blend_ps(__mmask16(0xff00), _mm512_permutex2var_ps(a[0], idx, a[1]),
                                  _mm512_permutex2var_ps(a[2], idx, a[3]));
    }
    // Values 4 and 5 of tile l are values 0 and 1 of tile l + 1; the last tile's are row[64], row[65].
    const __m512i t64 = _mm512_castps_si512(LO::load(row + 64, col[4] & 1u));
    const __m512i t65 = _mm512_castps_si512(LO::load(row + 65, col[4] >> 1 & 1u));
    d[4] = _mm512_castsi512_ps(_mm512_alignr_epi32(t64, _mm512_castps_si512(d[0]), 1));
    d[5] = _mm512_castsi512_ps(_mm512_alignr_epi32(t65, _mm512_castps_si512(d[1]), 1));
  } else {
    __m256 a[4];  // a[k] holds tiles 2k and 2k + 1, 4 values each
    for (int k = 0; k < 4; ++k) a[k] = col[k] == LO::all ? _mm256_loadu_ps(row + 8 * k) : LO::load(row + 8 * k, col[k]);
    __m256 r[4] = {_mm256_permute2f128_ps(a[0], a[2], 0x20), _mm256_permute2f128_ps(a[0], a[2], 0x31),
                   _mm256_permute2f128_ps(a[1], a[3], 0x20), _mm256_permute2f128_ps(a[1], a[3], 0x31)};
    winograd::transpose4_halves(r);  // r[s] lane l = row[4l + s], s < 4
    for (int s = 0; s < 4; ++s) d[s] = r[s];
    // Values 4 and 5 of tile l are values 0 and 1 of tile l + 1; the last tile's come from row[32], row[33].
    const __m256i next = _mm256_setr_epi32(1, 2, 3, 4, 5, 6, 7, 0);
    const float v32 = col[4] & 1u ? row[32] : 0.0f, v33 = col[4] & 2u ? row[33] : 0.0f;
    d[4] = _mm256_blend_ps(_mm256_permutevar8x32_ps(r[0], next), _mm256_set1_ps(v32), 0x80);
    d[5] = _mm256_blend_ps(_mm256_permutevar8x32_ps(r[1], next), _mm256_set1_ps(v33), 0x80);
  }
}

// Blocks whose 16 outputs all exist move as 4-wide rows (one per tile and block row) with
// in-register transposes instead of gathers and scatters, which are slow on AMD (on Zen 4 a
// KeyPointNet inference spent 11 % of its time in the output transform's scatters).
template <class Arch, class T>
void winograd_conv<Arch, T>::load_blocks(const group& gr, index_t WO, const T* plane, V (&b)[4][4]) {
  using LO = lane_ops<Arch, float>;
  if (gr.whole_blocks()) {
    for (int i = 0; i < 4; ++i) {
      const T* row = plane + i * WO;
      if constexpr (is_avx2<Arch>) {
        __m256 r[4];
        for (int l = 0; l < 4; ++l)
          r[l] = _mm256_insertf128_ps(_mm256_castps128_ps256(_mm_loadu_ps(row + gr.out_idx[l])),
                                      _mm_loadu_ps(row + gr.out_idx[l + 4]), 1);
        winograd::transpose4_halves(r);
        for (int j = 0; j < 4; ++j) b[i][j] = r[j];
      } else {
        __m512 r[4];
        for (int l = 0; l < 4; ++l) {
          const __m256 lo = _mm256_insertf128_ps(_mm256_castps128_ps256(_mm_loadu_ps(row + gr.out_idx[l])),
                                                 _mm_loadu_ps(row + gr.out_idx[l + 4]), 1);
          const __m256 hi = _mm256_insertf128_ps(_mm256_castps128_ps256(_mm_loadu_ps(row + gr.out_idx[l + 8])),
                                                 _mm_loadu_ps(row + gr.out_idx[l + 12]), 1);
          r[l] = _mm512_insertf32x8(_mm512_castps256_ps512(lo), hi, 1);
        }
        winograd::transpose4_quarters(r);
        for (int j = 0; j < 4; ++j) b[i][j] = r[j];
      }
    }
    return;
  }
  const auto base = LO::index(gr.out_idx);
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 4; ++j)
      b[i][j] = LO::gather(plane, LO::shift(base, int(i * WO + j)), gr.out_row[i] & gr.out_col[j]);
}

template <class Arch, class T>
void winograd_conv<Arch, T>::store_blocks(const group& gr, index_t WO, T* plane, const V (&b)[4][4]) {
  using LO = lane_ops<Arch, float>;
  if (gr.whole_blocks()) {
    for (int i = 0; i < 4; ++i) {
      T* row = plane + i * WO;
      if constexpr (is_avx2<Arch>) {
        __m256 r[4] = {b[i][0], b[i][1], b[i][2], b[i][3]};
        winograd::transpose4_halves(r);
        for (int l = 0; l < 4; ++l) {
          _mm_storeu_ps(row + gr.out_idx[l], _mm256_castps256_ps128(r[l]));
          _mm_storeu_ps(row + gr.out_idx[l + 4], _mm256_extractf128_ps(r[l], 1));
        }
      } else {
        __m512 r[4] = {b[i][0], b[i][1], b[i][2], b[i][3]};
        winograd::transpose4_quarters(r);
        for (int l = 0; l < 4; ++l) {
          _mm_storeu_ps(row + gr.out_idx[l], _mm512_castps512_ps128(r[l]));
          _mm_storeu_ps(row + gr.out_idx[l + 4], _mm512_extractf32x4_ps(r[l], 1));
          _mm_storeu_ps(row + gr.out_idx[l + 8], _mm512_extractf32x4_ps(r[l], 2));
          _mm_storeu_ps(row + gr.out_idx[l + 12], _mm512_extractf32x4_ps(r[l], 3));
        }
      }
    }
    return;
  }
  const auto base = LO::index(gr.out_idx);
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 4; ++j)
      LO::scatter(plane, LO::shift(base, int(i * WO + j)), gr.out_row[i] & gr.out_col[j], b[i][j]);
}

// Channels per task of the transforms.
inline constexpr index_t winograd_channels_per_task = 4;

template <class Arch, class T>
template <class Sink>
void winograd_conv<Arch, T>::transform_window(const group& gr, const T* plane, Sink&& sink) const {
  using LO = lane_ops<Arch, float>;
  const auto base = LO::index(gr.in_idx);
  V h[6][6];  // window rows transformed along the row
  for (int r = 0; r < 6; ++r) {
    V d[6];
    if constexpr (is_avx512<Arch>) {
      if (gr.segments) {
        if (gr.segments == 1 && gr.seg[0].lanes == LO::all) {
          const auto& sg = gr.seg[0];
          if (sg.rows >> r & 1u) load_window_row(plane + sg.base + r * W, sg.col, d);
          else
            for (V& v : d) v = V(T(0));
        } else {
          // Each segment's lanes from its own row loads.
          for (V& v : d) v = V(T(0));
          for (int k = 0; k < gr.segments; ++k) {
            const auto& sg = gr.seg[k];
            if (!(sg.rows >> r & 1u)) continue;
            V e[6];
            load_window_row(plane + sg.base + r * W, sg.col, e);
            for (int t = 0; t < 6; ++t) d[t] = _mm512_mask_mov_ps(d[t], __mmask16(sg.lanes), e[t]);
          }
        }
        winograd::input_1d(d, h[r]);
        continue;
      }
    }
    if constexpr (is_avx2<Arch>) {
      if (gr.run) {
        // One image row for every lane: either inside the image or all padding.
        if (gr.in_row[r]) load_window_row(plane + gr.in_idx[0] + r * W, gr.run_col, d);
        else
          for (V& v : d) v = V(T(0));
        winograd::input_1d(d, h[r]);
        continue;
      }
    }
    for (int s = 0; s < 6; ++s) d[s] = LO::gather(plane, LO::shift(base, int(r * W + s)), gr.in_row[r] & gr.in_col[s]);
    winograd::input_1d(d, h[r]);
  }
  for (int b = 0; b < 6; ++b) {
    const V col[6] = {h[0][b], h[1][b], h[2][b], h[3][b], h[4][b], h[5][b]};
    V v[6];
    winograd::input_1d(col, v);
    for (int a = 0; a < 6; ++a) sink(a * 6 + b, v[a]);
  }
}

// V = B^T d B into vb [36][C][n_tiles], gathered straight from the images with masks for the zero
// padding. Each task walks all groups per channel, so each of the 36 rows it writes is written
// front to back (stores to 36 scattered places at once stalled on read-for-ownership misses).
template <class Arch, class T>
void winograd_conv<Arch, T>::transform_input(const group* info, index_t groups, index_t n_tiles, T* vb) const {
  constexpr index_t cpt = winograd_channels_per_task;
  parallel_for(0, (C + cpt - 1) / cpt, 1, [&](index_t lo, index_t hi) {
    for (index_t c = lo * cpt; c < std::min(C, hi * cpt); ++c)
      for (index_t q = 0; q < groups; ++q) {
        const group& gr = info[q];
        transform_window(gr, x + gr.n0 * x_batch + c * H * W,
                         [&](int xi, V v) { v.store_aligned(vb + (xi * C + c) * n_tiles + q * L); });
      }
  });
}

// bf16_dot: one task per GEMM panel of NR tiles, which writes its [C / 2][NR] block of each of the
// 36 positions front to back.
template <class Arch, class T>
void winograd_conv<Arch, T>::transform_input_bf16(const group* info, index_t n_tiles, word* vw) const {
  if constexpr (has_winograd_bf16<Arch, T>) {
    constexpr index_t NR = winograd_bf16::NR, per_panel = NR / L;
    static_assert(NR % L == 0);
    const index_t panels = n_tiles / NR, cp = winograd_bf16::pairs(C);
    parallel_for(0, panels, 1, [&](index_t lo, index_t hi) {
      for (index_t p = lo; p < hi; ++p)
        for (index_t k = 0; k < cp; ++k)
          for (index_t s = 0; s < per_panel; ++s)
            transform_pair_bf16(info[p * per_panel + s], k, vw + (p * cp + k) * NR + s * L, panels * cp * NR);
    });
  } else {
    throw std::logic_error("winograd_conv: bf16 GEMMs on AVX-512 only");
  }
}

template <class Arch, class T>
void winograd_conv<Arch, T>::transform_pair_bf16(const group& gr, index_t k, word* dst, index_t xi_stride) const {
  if constexpr (has_winograd_bf16<Arch, T>) {
    alignas(64) T v[2][36][L];  // channels 2k and 2k + 1 (0 past C)
    for (index_t c = 0; c < 2; ++c) {
      if (2 * k + c < C)
        transform_window(gr, x + gr.n0 * x_batch + (2 * k + c) * H * W,
                         [&](int xi, V t) { t.store_aligned(v[c][xi]); });
      else
        std::fill_n(&v[c][0][0], 36 * L, T(0));
    }
    for (int xi = 0; xi < 36; ++xi)
      _mm512_store_si512(dst + xi * xi_stride, winograd_bf16::pair_words(_mm512_load_ps(v[0][xi]), _mm512_load_ps(v[1][xi])));
  }
}

template <class Arch, class T>
template <class F>
void winograd_conv<Arch, T>::for_each_chunk(const tiling& tl, F&& f) const {
  scratch<T, slot_wino_v> vbuf(36 * C * tl.chunk);
  std::vector<group> info(static_cast<std::size_t>(tl.chunk / L));
  for (index_t u0 = 0; u0 < tl.total; u0 += tl.chunk) {
    const index_t n_tiles = (std::min(tl.chunk, tl.total - u0) + L - 1) / L * L, groups = n_tiles / L;
    make_groups(tl, u0, groups, info.data());
    transform_input(info.data(), groups, n_tiles, vbuf.get());
    if constexpr (std::is_same_v<T, float>)
      if (precision == winograd_precision::bf16_emulated) round_to_bf16_in_place<Arch>(vbuf.get(), 36 * C * n_tiles);
    f(static_cast<const group*>(info.data()), groups, n_tiles, static_cast<const T*>(vbuf.get()), u0 == 0);
  }
}

template <class Arch, class T>
void winograd_conv<Arch, T>::transform_weights_simd(const T* w, index_t w_os, index_t w_cs, bool flip,
                                                    T* upack) const {
  using LO = lane_ops<Arch, float>;
  constexpr index_t MR = gemm_blocking<Arch, T>::MR;
  static_assert(L == 2 * MR, "winograd_conv: the weight transform writes pairs of panel columns per vector");

  // U, packed for the GEMM as 36 A matrices of O x C (pack_a's layout: [panel][c][MR]). A vector
  // holds the MR panel rows of two adjacent input channels. Sixteen channels are transformed into
  // an L1 buffer first, then each of the 36 matrices gets one contiguous run.
  const index_t a_size = packed_a_size<Arch, T>(O, C), mpanels = (O + MR - 1) / MR;
  constexpr index_t cstep = 16;
  const index_t csteps = (C + cstep - 1) / cstep;
  parallel_for(0, mpanels * csteps, std::max<index_t>(1, 64 / cstep), [&](index_t lo, index_t hi) {
    alignas(64) int idx[L];
    alignas(64) float buf[36][cstep * MR];
    for (index_t task = lo; task < hi; ++task) {
      const index_t p = task / csteps, c0 = task % csteps * cstep, cn = std::min(cstep, C - c0);
      for (index_t c = c0; c < c0 + cn; c += 2) {
        unsigned valid = 0;
        for (index_t l = 0; l < L; ++l) {
          const index_t o = p * MR + l % MR, cc = c + l / MR;
          const bool ok = o < O && cc < C;
          idx[l] = ok ? int(o * w_os + cc * w_cs) : 0;
          if (ok) valid |= 1u << l;
        }
        const auto base = LO::index(idx);
        V g[3][3];
        for (int i = 0; i < 3; ++i)
          for (int j = 0; j < 3; ++j)
            g[i][j] = LO::gather(w, LO::shift(base, flip ? 8 - (i * 3 + j) : i * 3 + j), valid);
        V t[6][3];  // G g: the columns of g transformed
        for (int j = 0; j < 3; ++j) {
          const V col[3] = {g[0][j], g[1][j], g[2][j]};
          V u[6];
          winograd::weight_1d(col, u);
          for (int a = 0; a < 6; ++a) t[a][j] = u[a];
        }
        for (int a = 0; a < 6; ++a) {
          V u[6];
          winograd::weight_1d(t[a], u);
          for (int b = 0; b < 6; ++b) u[b].store_aligned(&buf[a * 6 + b][(c - c0) * MR]);
        }
      }
      for (int xi = 0; xi < 36; ++xi) std::copy_n(buf[xi], cn * MR, upack + xi * a_size + (p * C + c0) * MR);
    }
  });
}

template <class Arch, class T>
void winograd_conv<Arch, T>::forward_packed_simd(const T* upack, const T* bias, kernels::conv_activation act,
                                                 T* y) const {
  const tiling tl = plan();
  const index_t a_size = packed_a_size<Arch, T>(O, C);
  scratch<T, slot_wino_m> mbuf(36 * O * tl.chunk);
  for_each_chunk(tl, [&](const group* info, index_t groups, index_t n_tiles, const T* vb, bool) {
    T* mb = mbuf.get();
    // M_xi = U_xi * V_xi, 36 products in one job.
    gemm_job<T> job;
    job.batch = 36, job.M = O, job.N = n_tiles, job.K = C;
    job.apack = upack, job.apack_batch = a_size;
    job.c = mb, job.ldc = n_tiles, job.c_batch = O * n_tiles;
    gemm_run<Arch>(job, pack_b_strided<Arch, T>{vb, C * n_tiles, n_tiles, 1});

    transform_output(tl, info, groups, n_tiles, mb, bias, act, y);
  });
}

template <class Arch, class T>
void winograd_conv<Arch, T>::forward_packed_bf16(const word* upack, const T* bias, kernels::conv_activation act,
                                                 T* y) const {
  if constexpr (has_winograd_bf16<Arch, T>) {
    const tiling tl = plan();
    scratch<T, slot_wino_m> mbuf(36 * O * tl.chunk);
    scratch<word, slot_wino_v> vbuf(36 * winograd_bf16::pairs(C) * tl.chunk);
    std::vector<group> info(static_cast<std::size_t>(tl.chunk / L));
    for (index_t u0 = 0; u0 < tl.total; u0 += tl.chunk) {
      constexpr index_t NR = winograd_bf16::NR;
      const index_t n_tiles = (std::min(tl.chunk, tl.total - u0) + NR - 1) / NR * NR, groups = n_tiles / L;
      make_groups(tl, u0, groups, info.data());
      transform_input_bf16(info.data(), n_tiles, vbuf.get());
      winograd_bf16::gemm(upack, vbuf.get(), O, C, n_tiles, mbuf.get());
      transform_output(tl, info.data(), groups, n_tiles, mbuf.get(), bias, act, y);
    }
  } else {
    throw std::logic_error("winograd_conv: bf16 GEMMs on AVX-512 only");
  }
}

// Stored as 4x4 blocks, masked at the right and bottom edges.
template <class Arch, class T>
void winograd_conv<Arch, T>::transform_output(const tiling& tl, const group* info, index_t groups, index_t n_tiles,
                                              const T* mb, const T* bias, kernels::conv_activation act, T* y) const {
  constexpr index_t cpt = winograd_channels_per_task;
  parallel_for(0, (O + cpt - 1) / cpt, 1, [&](index_t lo, index_t hi) {
    for (index_t o = lo * cpt; o < std::min(O, hi * cpt); ++o) {
      const V b0(bias ? bias[o] : T(0));
      for (index_t q = 0; q < groups; ++q) {
        const group& gr = info[q];
        V h[6][4];  // rows of M transformed along the row
        for (int a = 0; a < 6; ++a) {
          V m[6];
          for (int b = 0; b < 6; ++b) m[b] = V::load_aligned(mb + ((a * 6 + b) * O + o) * n_tiles + q * L);
          winograd::output_1d(m, h[a]);
        }
        V out[4][4];
        for (int j = 0; j < 4; ++j) {
          const V col[6] = {h[0][j], h[1][j], h[2][j], h[3][j], h[4][j], h[5][j]};
          V v[4];
          winograd::output_1d(col, v);
          for (int i = 0; i < 4; ++i) out[i][j] = v[i] + b0;
        }
        if (act.on)
          for (auto& row : out)
            for (V& v : row) v = activate(act, v);
        store_blocks(gr, tl.WO, y + (gr.n0 * O + o) * tl.HO * tl.WO, out);
      }
    }
  });
}

template <class Arch, class T>
void winograd_conv<Arch, T>::backward_weight_simd(const T* gy, T* gw) const {
  using LO = lane_ops<Arch, float>;
  const tiling tl = plan();
  constexpr index_t cpt = winograd_channels_per_task;

  scratch<T, slot_wino_m> zbuf(36 * O * tl.chunk);
  scratch<T, slot_a> zpack(36 * packed_a_size<Arch, T>(O, tl.chunk));
  scratch<T, slot_weights> dubuf(36 * O * C);  // dU_xi, O x C each, summed over the chunks
  for_each_chunk(tl, [&](const group* info, index_t groups, index_t n_tiles, const T* vb, bool first) {
    T* zb = zbuf.get();

    // Z = A dY A^T per output channel and tile, read with the output masks (outputs past the
    // edge do not exist, so their gradient is 0).
    parallel_for(0, (O + cpt - 1) / cpt, 1, [&](index_t lo, index_t hi) {
      for (index_t o = lo * cpt; o < std::min(O, hi * cpt); ++o)
        for (index_t q = 0; q < groups; ++q) {
          const group& gr = info[q];
          V d[4][4];
          load_blocks(gr, tl.WO, gy + (gr.n0 * O + o) * tl.HO * tl.WO, d);
          V h[4][6];  // rows of dY transformed along the row
          for (int i = 0; i < 4; ++i) winograd::output_grad_1d(d[i], h[i]);
          for (int b = 0; b < 6; ++b) {
            const V col[4] = {h[0][b], h[1][b], h[2][b], h[3][b]};
            V z[6];
            winograd::output_grad_1d(col, z);
            for (int a = 0; a < 6; ++a) z[a].store_aligned(zb + ((a * 6 + b) * O + o) * n_tiles + q * L);
          }
        }
    });

    // dU_xi += Z_xi * V_xi^T: A = Z_xi (O x tiles), B(tile, c) = V_xi(c, tile).
    const index_t a_size = packed_a_size<Arch, T>(O, n_tiles);
    for (index_t xi = 0; xi < 36; ++xi)
      pack_a<Arch>(O, n_tiles, zb + xi * O * n_tiles, n_tiles, 1, zpack.get() + xi * a_size, n_tiles, 0);
    gemm_job<T> job;
    job.batch = 36, job.M = O, job.N = C, job.K = n_tiles;
    job.apack = zpack.get(), job.apack_batch = a_size;
    job.c = dubuf.get(), job.ldc = C, job.c_batch = O * C;
    job.accumulate = !first;
    gemm_run<Arch>(job, pack_b_strided<Arch, T>{vb, C * n_tiles, 1, n_tiles});
  });

  // gw = G^T dU G, L input channels per vector, scattered to the 9 taps of each.
  const T* du = dubuf.get();
  parallel_for(0, O, std::max<index_t>(1, 4096 / std::max<index_t>(C, 1)), [&](index_t lo, index_t hi) {
    alignas(64) int idx[L];
    for (index_t l = 0; l < L; ++l) idx[l] = int(l * 9);
    const auto base = LO::index(idx);
    for (index_t o = lo; o < hi; ++o)
      for (index_t c = 0; c < C; c += L) {
        const unsigned m = lane_range<L>(0, C - c);
        V t[6][3];  // dU G: the rows of dU reduced to 3 taps
        for (int a = 0; a < 6; ++a) {
          V u[6];
          for (int b = 0; b < 6; ++b) u[b] = LO::load(du + ((a * 6 + b) * O + o) * C + c, m);
          winograd::weight_grad_1d(u, t[a]);
        }
        T* dst = gw + (o * C + c) * 9;
        for (int j = 0; j < 3; ++j) {
          const V col[6] = {t[0][j], t[1][j], t[2][j], t[3][j], t[4][j], t[5][j]};
          V g[3];
          winograd::weight_grad_1d(col, g);
          for (int i = 0; i < 3; ++i) LO::scatter(dst, LO::shift(base, i * 3 + j), m, g[i]);
        }
      }
  });
}

}  // namespace kpt::cpu_detail
