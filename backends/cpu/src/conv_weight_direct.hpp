#pragma once
// Weight gradient of a stride-1 convolution with 3-wide kernels and few taps, read straight from
// the images (float, AVX-512 and AVX2):
//   dW[o, c, i, j] = sum over n, oh, ow of dY[n, o, oh, ow] * X[n, c, oh + i - PH, ow + j - PW].
// As a GEMM this is (O x pixels) * (pixels x taps) with tiny M and N (32 x 27 for KeyPointNet's
// first layer, 64 x 9 for SuperPoint's) and a reduction over every pixel of the batch: the packed
// GEMM spent more time gathering and transposing the im2col panel than multiplying (6-60 GFLOP/s
// on one core against a 135 GFLOP/s peak).
//
// A task takes a band of R output rows of one image and copies its input rows, zero-padded to
// S = W + 2 PW columns, into the thread's buffer. When the output rows are whole vectors (WO a
// multiple of the vector width, as in every layer this path serves at 240 x 320 or 480 x 640), dY
// is read in place, a row at a time: input row i of output pixel (row, ow) is at
// row * S + ow + i S + j. Otherwise dY is copied too, into rows of S columns zero past WO, so that
// pixel f = row * S + ow reads dY at f and the input at f + i S + j: the band is one flat loop of
// plain vector loads, no masks at the image's edges. Copying dY cost KeyPointNet's first layer
// (27 FMAs per dY value) a fifth of its time: reading it in place made that layer 1.3x faster
// (bench/micro, AVX2, one thread).
// A register tile holds MO output channels x the 3 taps of one kernel row (MO = 8 on AVX-512: 24
// of its 32 registers; 4 on AVX2: 12 of 16); per vector of pixels it loads MO dY vectors and one
// input row at its 3 shifts for 3 * MO FMAs, and it walks every (c, i) of the band once.
// Each tile adds its lanes into the task's own buffer; the buffers are summed in double at the end.
#include "conv_direct.hpp"
#include "gemm_simd.hpp"
#include "kpt/kernels/conv.hpp"
#include "lanes.hpp"

#include <algorithm>
#include <stdexcept>

namespace kpt::cpu_detail {

// Taps per output channel up to which this path runs (64 input channels of a 3x3 kernel); wider
// layers are Winograd's or the packed GEMM's. Per-task buffers hold one vector per weight.
inline constexpr index_t weight_direct_max_taps = 576;
// Below this output width the packed GEMM was measured faster (with the masked edge vectors this
// path had before its bands: 1.1-1.7x at 40 columns, 1.2x slower at 80).
inline constexpr index_t weight_direct_min_width = 64;
// Bytes of band one register tile streams per (c, i): MO dY rows and one channel's input rows per
// band row. Long bands spread each tile's set-up and partial-sum update over more FMAs, and the
// flat loop streams well from L2 and L3: 32->32 at 240 x 320 on AVX2 ran at 74, 78, 82, 85 and
// 85 GFLOP/s with 16, 24, 64, 128 and 256 KiB (one thread). 19 rows of 322 columns on AVX2.
inline constexpr index_t weight_direct_band_bytes = index_t(128) << 10;

template <class Arch, class T>
bool weight_direct_fits(const kernels::conv_geom& g) {
  if constexpr (has_lane_ops<Arch, T> && std::is_same_v<T, float>) {
    return g.SH == 1 && g.SW == 1 && g.KW == 3 && g.WO >= weight_direct_min_width &&
           g.C * g.KH * g.KW <= weight_direct_max_taps;
  } else {
    return false;
  }
}

namespace weight_direct {

// Output channels per register tile.
template <class Arch>
inline constexpr int tile_channels = is_avx512<Arch> ? 8 : 4;

// Keeps v in a register of its own: GCC would otherwise fold a load that feeds three FMAs into
// each of them as a memory operand, loading it three times (1.5x slower).
template <class Arch, class R>
[[gnu::always_inline]] inline void pin(R& v) {
  if constexpr (is_avx512<Arch>) asm("" : "+v"(v));
  else asm("" : "+x"(v));
}

// sums[r][t] += sum over `rows` rows of nvec vectors of dy[r] * x shifted by t, the rows dy_stride
// and x_stride apart. Out of line, so that its registers (3 * MO sums, 3 input vectors, 1 dY
// vector: all 16 on AVX2) are allocated on their own.
template <class Arch>
[[gnu::noinline]] void band_update(const float* const (&dy)[tile_channels<Arch>], index_t dy_stride, const float* x,
                                   index_t x_stride, index_t rows, index_t nvec,
                                   xsimd::batch<float, Arch> (&sums)[tile_channels<Arch>][3]) {
  using V = xsimd::batch<float, Arch>;
  using R = typename lane_ops<Arch, float>::V;
  constexpr int MO = tile_channels<Arch>;
  constexpr index_t L = V::size;
  V acc[MO][3];
  for (int r = 0; r < MO; ++r)
    for (int t = 0; t < 3; ++t) acc[r][t] = sums[r][t];
  for (index_t row = 0; row < rows; ++row)
    for (index_t v = 0; v < nvec; ++v) {
      const float* xp = x + row * x_stride + v * L;
      R x0 = V::load_unaligned(xp), x1 = V::load_unaligned(xp + 1), x2 = V::load_unaligned(xp + 2);
      pin<Arch>(x0), pin<Arch>(x1), pin<Arch>(x2);
#pragma GCC unroll 8
      for (int r = 0; r < MO; ++r) {
        R y = V::load_unaligned(dy[r] + row * dy_stride + v * L);
        pin<Arch>(y);
        acc[r][0] = xsimd::fma(V(y), V(x0), acc[r][0]);
        acc[r][1] = xsimd::fma(V(y), V(x1), acc[r][1]);
        acc[r][2] = xsimd::fma(V(y), V(x2), acc[r][2]);
      }
    }
  for (int r = 0; r < MO; ++r)
    for (int t = 0; t < 3; ++t) sums[r][t] = acc[r][t];
}

}  // namespace weight_direct

// gw [O, C, KH, 3] = the weight gradient of the convolution g from x and gy (weight_direct_fits(g)).
template <class Arch, class T>
void conv2d_backward_weight_direct(const kernels::conv_geom& g, const T* x, const T* gy, T* gw) {
  if constexpr (!(has_lane_ops<Arch, T> && std::is_same_v<T, float>)) {
    throw std::logic_error(
        "conv2d_backward_weight_direct: float on AVX-512 or AVX2 only; check weight_direct_fits first");
  } else {
    using namespace weight_direct;
    using V = xsimd::batch<float, Arch>;
    constexpr int MO = tile_channels<Arch>;
    constexpr index_t L = V::size;
    const index_t K = g.C * g.KH * 3, oblocks = (g.O + MO - 1) / MO;
    const index_t lanes_per_part = oblocks * MO * K * L;

    // Band geometry: R output rows of S columns; an input channel holds the R + KH - 1 rows its
    // taps reach. A copied dY channel is a whole number of vectors, zero past the band's rows, so
    // the flat loop's last vector adds nothing from the next channel.
    const int threads = active_threads();
    const index_t S = g.W + 2 * g.PW;  // = WO + 2: every output column's 3 taps within a row
    const index_t tile_rows = weight_direct_band_bytes / (S * index_t(sizeof(float)));
    const index_t R = std::clamp<index_t>(
        std::min((tile_rows - (g.KH - 1)) / (MO + 1), g.N * g.HO / (4 * threads)), 1, g.HO);
    const index_t dy_plane = (R * S + L - 1) / L * L;
    const index_t x_plane = (g.KH - 1) * S + dy_plane + 2;  // the last vector of tap row KH - 1 at shift 2
    const index_t bands = (g.HO + R - 1) / R, items = g.N * bands;
    const index_t parts = std::min<index_t>(items, threads == 1 ? 1 : 4 * threads);
    scratch<float, slot_partial> partial(parts * lanes_per_part);

    // dY rows of whole vectors are read where they are: the first (c, i) pass over a block of
    // channels streams them from memory while it computes, and the other C KH - 1 passes find them
    // in L2. Other widths copy dY a block of MO channels at a time, so the copy stays in L2 too.
    const bool in_place = g.WO % L == 0;
    // Band [oh0, oh0 + rows) of image n added into buf.
    const auto add_band = [&](index_t n, index_t oh0, index_t rows, float* dyb, float* xb, float* buf) {
      pad_rows(x + n * g.C * g.H * g.W, g.C, g.H, g.W, g.PW, oh0 - g.PH, rows + g.KH - 1, xb, x_plane);
      for (index_t ob = 0; ob < oblocks; ++ob) {
        const index_t mo = std::min<index_t>(MO, g.O - ob * MO);
        const float* dy[MO];  // channels past O repeat the last one; their sums are dropped
        for (index_t r = 0; r < MO; ++r) {
          const index_t o = ob * MO + std::min(r, mo - 1);
          const float* src = gy + ((n * g.O + o) * g.HO + oh0) * g.WO;
          if (in_place) {
            dy[r] = src;
            continue;
          }
          float* d = dyb + std::min(r, mo - 1) * dy_plane;
          dy[r] = d;
          if (r >= mo) continue;
          for (index_t row = 0; row < rows; ++row) {
            std::copy_n(src + row * g.WO, g.WO, d + row * S);
            std::fill(d + row * S + g.WO, d + (row + 1) * S, 0.0f);
          }
          std::fill(d + rows * S, d + dy_plane, 0.0f);
        }
        for (index_t c = 0; c < g.C; ++c)
          for (index_t i = 0; i < g.KH; ++i) {
            V acc[MO][3];
            float* out = buf + ((ob * MO) * K + (c * g.KH + i) * 3) * L;
            for (int r = 0; r < MO; ++r)
              for (int t = 0; t < 3; ++t) acc[r][t] = V::load_aligned(out + (r * K + t) * L);
            const float* xi = xb + c * x_plane + i * S;
            if (in_place) band_update<Arch>(dy, g.WO, xi, S, rows, g.WO / L, acc);
            else band_update<Arch>(dy, 0, xi, 0, 1, (rows * S + L - 1) / L, acc);
            for (int r = 0; r < MO; ++r)
              for (int t = 0; t < 3; ++t) acc[r][t].store_aligned(out + (r * K + t) * L);
          }
      }
    };
    parallel_for(0, parts, 1, [&](index_t lo, index_t hi) {
      scratch<float, slot_pad> dy_band(in_place ? 0 : MO * dy_plane);
      scratch<float, slot_pack> x_band(g.C * x_plane);
      for (index_t p = lo; p < hi; ++p) {
        float* buf = partial.get() + p * lanes_per_part;
        std::fill(buf, buf + lanes_per_part, 0.0f);
        for (index_t item = p * items / parts; item < (p + 1) * items / parts; ++item) {
          const index_t n = item / bands, oh0 = item % bands * R;
          add_band(n, oh0, std::min(R, g.HO - oh0), dy_band.get(), x_band.get(), buf);
        }
      }
    });

    parallel_for(0, g.O, std::max<index_t>(1, elementwise_grain / (K * L * parts)), [&](index_t lo, index_t hi) {
      for (index_t o = lo; o < hi; ++o)
        for (index_t k = 0; k < K; ++k) {
          double s = 0;
          for (index_t p = 0; p < parts; ++p) {
            const float* lanes = partial.get() + p * lanes_per_part + (o * K + k) * L;
            for (index_t l = 0; l < L; ++l) s += lanes[l];
          }
          gw[o * K + k] = float(s);
        }
    });
  }
}

}  // namespace kpt::cpu_detail
