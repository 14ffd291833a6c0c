#pragma once
// Weight gradient of a stride-1 convolution with 3-wide kernels and few taps, read straight from
// the images (float, AVX-512):
//   dW[o, c, i, j] = sum over n, oh, ow of dY[n, o, oh, ow] * X[n, c, oh + i - PH, ow + j - PW].
// As a GEMM this is (O x pixels) * (pixels x taps) with tiny M and N (32 x 27 for KeyPointNet's
// first layer, 64 x 9 for SuperPoint's) and a reduction over every pixel of the batch: the packed
// GEMM spent more time gathering and transposing the im2col panel than multiplying (6-60 GFLOP/s
// on one core against a 135 GFLOP/s peak).
//
// Here a register tile holds 8 output channels x the 3 taps of one kernel row, 24 accumulators
// with vectors along ow. Per 16 pixels it loads 8 dY vectors and one input row at its 3 shifts for
// 24 FMAs; masks zero the lanes outside the image, so nothing is padded or packed. A task takes a
// few output rows of one image: the dY rows of a tile's 8 channels stay in L1 while the tile walks
// every (c, i) input row (from L2). Each tile adds its lanes into the task's own buffer; the
// buffers are summed in double at the end.
#include "gemm_simd.hpp"
#include "kpt/kernels/conv.hpp"

#include <algorithm>
#include <stdexcept>
#include <vector>

namespace kpt::cpu_detail {

// Taps per output channel up to which this path runs (64 input channels of a 3x3 kernel); wider
// layers are Winograd's or the packed GEMM's. Per-task buffers hold 16 lanes per weight.
inline constexpr index_t weight_direct_max_taps = 576;
// Output rows narrower than this (4 vectors) spend too much in the masked edge vectors: at 40
// columns the packed GEMM was 1.1-1.7x faster, at 80 columns 1.2x slower than this path.
inline constexpr index_t weight_direct_min_width = 64;

template <class Arch, class T>
bool weight_direct_fits(const kernels::conv_geom& g) {
  if constexpr (has_masked_simd<Arch, T> && std::is_same_v<T, float>) {
    return g.SH == 1 && g.SW == 1 && g.KW == 3 && g.WO >= weight_direct_min_width &&
           g.C * g.KH * g.KW <= weight_direct_max_taps;
  } else {
    return false;
  }
}

namespace weight_direct {

inline constexpr int MO = 8;   // output channels per register tile
inline constexpr int L = 16;   // floats per vector

// Lanes of one 16-pixel vector of an output row: y for dY (the row's end), x[t] for the input row
// shifted by t - PW (also the image's left and right edges).
struct vector_masks {
  __mmask16 y, x[3];
};

// acc[r][t] += dY row r * input row shifted by t - PW at vector v (masked or plain loads).
// Templates on Arch so that only AVX-512 translation units instantiate them.
template <class Arch, bool Masked>
inline void vector_update(const float* const (&dy)[MO], const float* xrow, index_t PW, const vector_masks& m, index_t v,
                          __m512 (&acc)[MO][3]) {
  const auto load = [](__mmask16 k, const float* p) {
    if constexpr (Masked) return _mm512_maskz_loadu_ps(k, p);
    else return _mm512_loadu_ps(p);
  };
  const float* xp = xrow + v * L - PW;  // may point before the row: those lanes are masked off
  const __m512 x0 = load(m.x[0], xp), x1 = load(m.x[1], xp + 1), x2 = load(m.x[2], xp + 2);
#pragma GCC unroll 8
  for (int r = 0; r < MO; ++r) {
    __m512 y = load(m.y, dy[r] + v * L);
    asm("" : "+v"(y));  // one load for three FMAs: GCC would fold it into each as a memory operand
    acc[r][0] = _mm512_fmadd_ps(y, x0, acc[r][0]);
    acc[r][1] = _mm512_fmadd_ps(y, x1, acc[r][1]);
    acc[r][2] = _mm512_fmadd_ps(y, x2, acc[r][2]);
  }
}

// The same over one output row of nv vectors. Only the vectors at the image's edges need masks;
// the others use plain loads (masks everywhere ran 1.2x slower at KeyPointNet's 32 channels).
template <class Arch>
inline void row_update(const float* const (&dy)[MO], const float* xrow, index_t PW, const vector_masks* masks,
                       index_t nv, index_t first_plain, index_t end_plain, __m512 (&acc)[MO][3]) {
  for (index_t v = 0; v < first_plain; ++v) vector_update<Arch, true>(dy, xrow, PW, masks[v], v, acc);
  for (index_t v = first_plain; v < end_plain; ++v) vector_update<Arch, false>(dy, xrow, PW, masks[v], v, acc);
  for (index_t v = std::max(first_plain, end_plain); v < nv; ++v)
    vector_update<Arch, true>(dy, xrow, PW, masks[v], v, acc);
}

}  // namespace weight_direct

// gw [O, C, KH, 3] = the weight gradient of the convolution g from x and gy (weight_direct_fits(g)).
template <class Arch, class T>
void conv2d_backward_weight_direct(const kernels::conv_geom& g, const T* x, const T* gy, T* gw) {
  if constexpr (!(has_masked_simd<Arch, T> && std::is_same_v<T, float>)) {
    throw std::logic_error("conv2d_backward_weight_direct: float on AVX-512 only; check weight_direct_fits first");
  } else {
    using namespace weight_direct;
    const index_t K = g.C * g.KH * 3, oblocks = (g.O + MO - 1) / MO, nv = (g.WO + L - 1) / L;
    const index_t lanes_per_part = oblocks * MO * K * L;

    std::vector<vector_masks> masks(static_cast<std::size_t>(nv));
    for (index_t v = 0; v < nv; ++v) {
      const index_t col = v * L;
      masks[std::size_t(v)].y = __mmask16(lane_range<L>(0, g.WO - col));
      for (index_t t = 0; t < 3; ++t) {
        const index_t s = t - g.PW;  // input column = output column + s
        masks[std::size_t(v)].x[t] = __mmask16(lane_range<L>(-s - col, std::min(g.WO - col, g.W - s - col)));
      }
    }
    // Vectors [first_plain, end_plain) have every lane in the image.
    const auto full = [&](index_t v) {
      const vector_masks& m = masks[std::size_t(v)];
      return m.y == 0xffff && m.x[0] == 0xffff && m.x[1] == 0xffff && m.x[2] == 0xffff;
    };
    index_t first_plain = 0, end_plain = nv;
    while (first_plain < nv && !full(first_plain)) ++first_plain;
    while (end_plain > first_plain && !full(end_plain - 1)) --end_plain;

    // Tasks of R output rows of one image: the dY rows of 8 channels (8 * R * WO floats) fit in L1.
    const index_t R = std::clamp<index_t>(1024 / g.WO, 1, g.HO), chunks = (g.HO + R - 1) / R;
    const index_t items = g.N * chunks;
    const int threads = active_threads();
    const index_t parts = std::min<index_t>(items, threads == 1 ? 1 : 4 * threads);
    scratch<float, slot_partial> partial(parts * lanes_per_part);

    // Output rows [r0, r1) of image n added into buf, one register tile (8 channels x the 3 taps of
    // a kernel row) at a time.
    const auto add_rows = [&](index_t n, index_t r0, index_t r1, float* buf) {
      for (index_t ob = 0; ob < oblocks; ++ob) {
        const float* dyplane[MO];  // channels past O repeat the last one; their sums are dropped
        for (int r = 0; r < MO; ++r) dyplane[r] = gy + (n * g.O + std::min(ob * MO + r, g.O - 1)) * g.HO * g.WO;
        for (index_t c = 0; c < g.C; ++c)
          for (index_t i = 0; i < g.KH; ++i) {
            __m512 acc[MO][3];
            for (auto& row : acc)
              for (auto& a : row) a = _mm512_setzero_ps();
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
                _mm512_store_ps(o, _mm512_add_ps(_mm512_load_ps(o), acc[r][t]));
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
            for (int l = 0; l < L; ++l) s += lanes[l];
          }
          gw[o * K + k] = float(s);
        }
    });
  }
}

}  // namespace kpt::cpu_detail
