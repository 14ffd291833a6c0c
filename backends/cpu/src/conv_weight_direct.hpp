#pragma once
// Weight gradient of a stride-1 convolution with 3-wide kernels and few taps, read straight from
// the images (float, AVX-512 and AVX2):
//   dW[o, c, i, j] = sum over n, oh, ow of dY[n, o, oh, ow] * X[n, c, oh + i - PH, ow + j - PW].
// As a GEMM this is (O x pixels) * (pixels x taps) with tiny M and N (32 x 27 for KeyPointNet's
// first layer, 64 x 9 for SuperPoint's) and a reduction over every pixel of the batch: the packed
// GEMM spent more time gathering and transposing the im2col panel than multiplying (6-60 GFLOP/s
// on one core against a 135 GFLOP/s peak).
//
// Here a register tile holds MO output channels x the 3 taps of one kernel row, with vectors along
// ow (MO = 8 on AVX-512: 24 of its 32 registers; 4 on AVX2: 12 of 16). Per vector of pixels it
// loads MO dY vectors and one input row at its 3 shifts for 3 * MO FMAs; masks zero the lanes
// outside the image, so nothing is padded or packed. A task takes a few output rows of one image:
// the dY rows of a tile's MO channels stay in L1 while the tile walks every (c, i) input row (from
// L2). Each tile adds its lanes into the task's own buffer; the
// buffers are summed in double at the end.
#include "gemm_simd.hpp"
#include "kpt/kernels/conv.hpp"
#include "lanes.hpp"

#include <algorithm>
#include <stdexcept>
#include <vector>

namespace kpt::cpu_detail {

// Taps per output channel up to which this path runs (64 input channels of a 3x3 kernel); wider
// layers are Winograd's or the packed GEMM's. Per-task buffers hold one vector per weight.
inline constexpr index_t weight_direct_max_taps = 576;
// Output rows narrower than this (4 vectors) spend too much in the masked edge vectors: at 40
// columns the packed GEMM was 1.1-1.7x faster, at 80 columns 1.2x slower than this path.
inline constexpr index_t weight_direct_min_width = 64;

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

// Lanes of one vector of an output row: y for dY (the row's end), x[t] for the input row shifted
// by t - PW (also the image's left and right edges).
struct vector_masks {
  unsigned y, x[3];
};

// acc[r][t] += dY row r * input row shifted by t - PW at vector v (masked or plain loads).
template <class Arch, bool Masked>
inline void vector_update(const float* const (&dy)[tile_channels<Arch>], const float* xrow, index_t PW,
                          const vector_masks& m, index_t v, xsimd::batch<float, Arch> (&acc)[tile_channels<Arch>][3]) {
  using LO = lane_ops<Arch, float>;
  using V = xsimd::batch<float, Arch>;
  constexpr index_t L = LO::L;
  const auto load = [](unsigned k, const float* p) -> V {
    if constexpr (Masked) return LO::load(p, k);
    else return V::load_unaligned(p);
  };
  const float* xp = xrow + v * L - PW;  // may point before the row: those lanes are masked off
  const V x0 = load(m.x[0], xp), x1 = load(m.x[1], xp + 1), x2 = load(m.x[2], xp + 2);
#pragma GCC unroll 8
  for (int r = 0; r < tile_channels<Arch>; ++r) {
    // One load for three FMAs: GCC would fold it into each as a memory operand (1.5x slower).
    typename LO::V reg = load(m.y, dy[r] + v * L);
    if constexpr (is_avx512<Arch>) asm("" : "+v"(reg));
    else asm("" : "+x"(reg));
    const V y(reg);
    acc[r][0] = xsimd::fma(y, x0, acc[r][0]);
    acc[r][1] = xsimd::fma(y, x1, acc[r][1]);
    acc[r][2] = xsimd::fma(y, x2, acc[r][2]);
  }
}

// The same over one output row of nv vectors. Only the vectors at the image's edges need masks;
// the others use plain loads (masks everywhere ran 1.2x slower at KeyPointNet's 32 channels).
template <class Arch>
inline void row_update(const float* const (&dy)[tile_channels<Arch>], const float* xrow, index_t PW,
                       const vector_masks* masks, index_t nv, index_t first_plain, index_t end_plain,
                       xsimd::batch<float, Arch> (&acc)[tile_channels<Arch>][3]) {
  for (index_t v = 0; v < first_plain; ++v) vector_update<Arch, true>(dy, xrow, PW, masks[v], v, acc);
  for (index_t v = first_plain; v < end_plain; ++v) vector_update<Arch, false>(dy, xrow, PW, masks[v], v, acc);
  for (index_t v = std::max(first_plain, end_plain); v < nv; ++v)
    vector_update<Arch, true>(dy, xrow, PW, masks[v], v, acc);
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
    using LO = lane_ops<Arch, float>;
    using V = xsimd::batch<float, Arch>;
    constexpr int MO = tile_channels<Arch>;
    constexpr index_t L = LO::L;
    const index_t K = g.C * g.KH * 3, oblocks = (g.O + MO - 1) / MO, nv = (g.WO + L - 1) / L;
    const index_t lanes_per_part = oblocks * MO * K * L;

    std::vector<vector_masks> masks(static_cast<std::size_t>(nv));
    for (index_t v = 0; v < nv; ++v) {
      const index_t col = v * L;
      masks[std::size_t(v)].y = lane_range<L>(0, g.WO - col);
      for (index_t t = 0; t < 3; ++t) {
        const index_t s = t - g.PW;  // input column = output column + s
        masks[std::size_t(v)].x[t] = lane_range<L>(-s - col, std::min(g.WO - col, g.W - s - col));
      }
    }
    // Vectors [first_plain, end_plain) have every lane in the image.
    const auto full = [&](index_t v) {
      const vector_masks& m = masks[std::size_t(v)];
      return m.y == LO::all && m.x[0] == LO::all && m.x[1] == LO::all && m.x[2] == LO::all;
    };
    index_t first_plain = 0, end_plain = nv;
    while (first_plain < nv && !full(first_plain)) ++first_plain;
    while (end_plain > first_plain && !full(end_plain - 1)) --end_plain;

    // Tasks of R output rows of one image: the dY rows of MO channels (MO * R * WO floats) fit in L1.
    const index_t R = std::clamp<index_t>(8 * 1024 / (MO * g.WO), 1, g.HO), chunks = (g.HO + R - 1) / R;
    const index_t items = g.N * chunks;
    const int threads = active_threads();
    const index_t parts = std::min<index_t>(items, threads == 1 ? 1 : 4 * threads);
    scratch<float, slot_partial> partial(parts * lanes_per_part);

    // Output rows [r0, r1) of image n added into buf, one register tile (MO channels x the 3 taps
    // of a kernel row) at a time.
    const auto add_rows = [&](index_t n, index_t r0, index_t r1, float* buf) {
      for (index_t ob = 0; ob < oblocks; ++ob) {
        const float* dyplane[MO];  // channels past O repeat the last one; their sums are dropped
        for (int r = 0; r < MO; ++r) dyplane[r] = gy + (n * g.O + std::min(ob * MO + r, g.O - 1)) * g.HO * g.WO;
        for (index_t c = 0; c < g.C; ++c)
          for (index_t i = 0; i < g.KH; ++i) {
            V acc[MO][3];
            for (auto& row : acc)
              for (auto& a : row) a = V(0.0f);
            for (index_t oh = std::max(r0, g.PH - i); oh < std::min(r1, g.H + g.PH - i); ++oh) {  // ih in the image
              const float* dy[MO];
              for (int r = 0; r < MO; ++r) dy[r] = dyplane[r] + oh * g.WO;
              const float* xrow = x + ((n * g.C + c) * g.H + oh + i - g.PH) * g.W;
              row_update<Arch>(dy, xrow, g.PW, masks.data(), nv, first_plain, end_plain, acc);
            }
            float* out = buf + ((ob * MO) * K + (c * g.KH + i) * 3) * L;
            for (int r = 0; r < MO; ++r)
              for (int t = 0; t < 3; ++t) {
                float* o = out + (r * K + t) * L;
                (V::load_aligned(o) + acc[r][t]).store_aligned(o);
              }
          }
      }
    };
    parallel_for(0, parts, 1, [&](index_t lo, index_t hi) {
      for (index_t p = lo; p < hi; ++p) {
        float* buf = partial.get() + p * lanes_per_part;
        std::fill(buf, buf + lanes_per_part, 0.0f);
        for (index_t item = p * items / parts; item < (p + 1) * items / parts; ++item) {
          const index_t n = item / chunks, r0 = item % chunks * R;
          add_rows(n, r0, std::min(g.HO, r0 + R), buf);
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
