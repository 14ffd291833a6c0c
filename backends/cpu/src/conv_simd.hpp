#pragma once
// SIMD convolution kernels, templated on the xsimd arch; all three passes are one GEMM each
// (gemm_simd.hpp) with a B packer that gathers straight from the image, so no im2col buffer:
//   forward        Y_n (O x HO*WO)   = W (O x C*KH*KW)       * im2col(X_n)
//   grad input     dX_n (C x H*W)    = W' (C x O*KH*KW)      * col(dY_n)   (a transposed conv)
//   grad weight    dW (O x C*KH*KW)  = dY (O x N*HO*WO)      * im2col(X)^T
// 1x1, stride 1, unpadded convolutions are plain matrix products and skip the gather. On AVX-512
// and AVX2, all three passes of stride-1 3x3 convolutions with 64+ channels in float run as Winograd
// F(4x4, 3x3) (conv_winograd.hpp), the other stride-1 forward and input-gradient passes with at
// most 576 taps read B straight from zero-padded bands of image rows (conv_direct.hpp), and their
// weight gradients (3-wide kernels) run as register tiles over the images (conv_weight_direct.hpp).
#include "kpt/kernels/conv.hpp"

namespace kpt::cpu_detail {

template <class Arch, class T>
void conv2d_forward_simd(Arch, const kernels::conv_geom& g, const T* x, const T* w, const T* bias,
                         kernels::conv_activation act, kernels::weight_reuse reuse, T* y);
template <class Arch, class T>
void conv2d_backward_input_simd(Arch, const kernels::conv_geom& g, const T* gy, const T* w, T* gx);
template <class Arch, class T>
void conv2d_backward_weight_simd(Arch, const kernels::conv_geom& g, const T* x, const T* gy, T* gw);
template <class Arch, class T>
void conv2d_backward_bias_simd(Arch, const kernels::conv_geom& g, const T* gy, T* gb);

}  // namespace kpt::cpu_detail

#ifdef KPT_CPU_ARCH
#include "arch.hpp"
#include "conv_bf16.hpp"
#include "conv_direct.hpp"
#include "conv_weight_direct.hpp"
#include "conv_winograd.hpp"
#include "gemm_simd.hpp"
#include "weight_cache.hpp"

namespace kpt::cpu_detail {

// B(k, col) of a convolution seen as a product, for one image:
//   rows k = (ch, i, j) over the source channels and kernel taps,
//   columns col = oh*Wg + ow over the output grid,
//   value src[ch, ih, iw] with ih = oh*SH - PH + i (forward) or, transposed (gradient of the
//   input), ih = (oh + PH - i) / SH when that divides exactly; likewise for w; 0 outside.
template <class Arch, class T>
struct pack_b_im2col {
  const T* src;
  index_t src_batch, plane, Hi, Wi, Wg;
  index_t KH, KW, SH, SW, PH, PW;
  bool transposed;

  // Unit stride along rows with AVX-512: every (tap column j, run of output columns) maps to a
  // fixed list of masked 16-lane moves, computed once per micro-panel; per row k only the source
  // row changes. About 5 instructions per 16 values.
  void pack_unit_masked(index_t b, index_t k0, index_t kc, index_t j0, index_t nc, T* dst) const {
    constexpr index_t NR = gemm_blocking<Arch, T>::NR, L = 64 / sizeof(T);
    struct run {
      index_t oh, ow, len, off;
    };
    struct move {
      index_t src, dst;
      unsigned ld, st;
    };
    run runs[NR + 1];
    std::vector<move> moves;
    std::vector<std::size_t> first;  // moves of (j, r) are [first[j*(NR+2)+r], first[j*(NR+2)+r+1])
    first.resize(std::size_t(KW * (NR + 2)));
    const T* image = src + b * src_batch;
    const index_t taps = KH * KW, sh = transposed ? 1 : SH;
    for (index_t q = 0; q * NR < nc; ++q) {
      T* d = dst + q * kc * NR;
      const index_t jq = j0 + q * NR, w = std::min(NR, nc - q * NR);
      int nruns = 0;
      for (index_t col = jq; col < jq + w;) {
        const index_t oh = col / Wg, ow = col % Wg, len = std::min(Wg - ow, jq + w - col);
        runs[nruns++] = {oh, ow, len, col - jq};
        col += len;
      }
      moves.clear();
      for (index_t j = 0; j < KW; ++j) {
        const index_t dw = transposed ? PW - j : j - PW;
        for (int r = 0; r <= nruns; ++r) {
          first[std::size_t(j * (NR + 2) + r)] = moves.size();
          if (r == nruns) break;
          const index_t iw0 = runs[r].ow + dw, len = runs[r].len;
          for (index_t t = 0; t < len; t += L)
            moves.push_back({iw0 + t, runs[r].off + t, lane_range<L>(-iw0 - t, Wi - iw0 - t), lane_range<L>(0, len - t)});
        }
      }
      index_t ch = k0 / taps, i = k0 % taps / KW, j = k0 % KW;
      for (index_t k = 0; k < kc; ++k) {
        T* dk = d + k * NR;
        const T* sp = image + ch * plane;
        const index_t dh = transposed ? PH - i : i - PH;
        const std::size_t* f = first.data() + j * (NR + 2);
        for (int r = 0; r < nruns; ++r) {
          const index_t ih = runs[r].oh * sh + dh;
          const bool inside = ih >= 0 && ih < Hi;
          const T* row = sp + (inside ? ih * Wi : 0);
          for (std::size_t m = f[r]; m < f[r + 1]; ++m) {
            const move& mv = moves[m];
            masked_move<Arch>(dk + mv.dst, row + mv.src, inside ? mv.ld : 0u, mv.st);
          }
        }
        if (w < NR) std::fill(dk + w, dk + NR, T(0));
        if (++j == KW) {
          j = 0;
          if (++i == KH) {
            i = 0;
            ++ch;
          }
        }
      }
    }
  }

  void operator()(index_t b, index_t k0, index_t kc, index_t j0, index_t nc, T* dst) const {
    constexpr index_t NR = gemm_blocking<Arch, T>::NR;
    // Stride 1 (forward, or any transposed one with unit stride) copies contiguous row segments.
    const bool unit = transposed ? SH == 1 && SW == 1 : SW == 1;
    if constexpr (has_mask_registers<Arch, T>) {
      if (unit) return pack_unit_masked(b, k0, kc, j0, nc, dst);
    }
    struct run {
      index_t oh, ow, len, off;
    };
    run runs[NR + 1];
    const T* image = src + b * src_batch;
    const index_t taps = KH * KW;
    for (index_t q = 0; q * NR < nc; ++q) {
      T* d = dst + q * kc * NR;
      const index_t jq = j0 + q * NR, w = std::min(NR, nc - q * NR);
      int nruns = 0;
      for (index_t col = jq; col < jq + w;) {
        const index_t oh = col / Wg, ow = col % Wg, len = std::min(Wg - ow, jq + w - col);
        runs[nruns++] = {oh, ow, len, col - jq};
        col += len;
      }
      index_t ch = k0 / taps, i = k0 % taps / KW, j = k0 % KW;
      for (index_t k = 0; k < kc; ++k) {
        T* dk = d + k * NR;
        const T* sp = image + ch * plane;
        if (unit) {
          const index_t dh = transposed ? PH - i : i - PH, dw = transposed ? PW - j : j - PW;
          const index_t sh = transposed ? 1 : SH;
          for (int r = 0; r < nruns; ++r) {
            T* o = dk + runs[r].off;
            const index_t len = runs[r].len, ih = runs[r].oh * sh + dh;
            const index_t iw0 = runs[r].ow + dw;
            if (ih < 0 || ih >= Hi) copy_window<Arch>(o, sp, len, 0, 0);
            else copy_window<Arch>(o, sp + ih * Wi + iw0, len, -iw0, Wi - iw0);
          }
        } else if (!transposed) {
          for (int r = 0; r < nruns; ++r) {
            T* o = dk + runs[r].off;
            const index_t len = runs[r].len, ih = runs[r].oh * SH - PH + i;
            if (ih < 0 || ih >= Hi) {
              std::fill_n(o, len, T(0));
              continue;
            }
            const T* row = sp + ih * Wi;
            for (index_t t = 0; t < len; ++t) {
              const index_t iw = (runs[r].ow + t) * SW - PW + j;
              o[t] = iw >= 0 && iw < Wi ? row[iw] : T(0);
            }
          }
        } else {
          for (int r = 0; r < nruns; ++r) {
            T* o = dk + runs[r].off;
            const index_t len = runs[r].len, th = runs[r].oh + PH - i;
            if (th < 0 || th % SH != 0 || th / SH >= Hi) {
              std::fill_n(o, len, T(0));
              continue;
            }
            const T* row = sp + th / SH * Wi;
            for (index_t t = 0; t < len; ++t) {
              const index_t tw = runs[r].ow + t + PW - j;
              o[t] = tw >= 0 && tw % SW == 0 && tw / SW < Wi ? row[tw / SW] : T(0);
            }
          }
        }
        std::fill(dk + w, dk + NR, T(0));
        if (++j == KW) {
          j = 0;
          if (++i == KH) {
            i = 0;
            ++ch;
          }
        }
      }
    }
  }
};

// B(k, col) = im2col(X)^T for the weight gradient: rows k = (n, oh, ow) over every image and
// output position, columns col = (c, i, j) over input channels and taps.
template <class Arch, class T>
struct pack_b_im2col_t {
  const T* x;
  kernels::conv_geom g;

  // Unit stride with AVX-512 floats: each column's run of k is gathered contiguously (masked
  // row copies) into a scratch row, then 16 x 16 blocks are transposed in registers.
  void pack_transposing(index_t k0, index_t kc, index_t j0, index_t nc, T* dst) const {
    constexpr index_t NR = gemm_blocking<Arch, T>::NR;
    static_assert(NR % 16 == 0);
    const index_t P = g.HO * g.WO, taps = g.KH * g.KW, kcp = (kc + 15) / 16 * 16;
    scratch<T, slot_pack> tmp(NR * kcp);
    for (index_t q = 0; q * NR < nc; ++q) {
      T* d = dst + q * kc * NR;
      const index_t jq = j0 + q * NR, w = std::min(NR, nc - q * NR);
      for (index_t jj = 0; jj < NR; ++jj) {
        T* row = tmp.get() + jj * kcp;
        std::fill(row + kc, row + kcp, T(0));
        if (jj >= w) {
          std::fill(row, row + kc, T(0));
          continue;
        }
        const index_t col = jq + jj, c = col / taps, i = col % taps / g.KW, j = col % g.KW;
        index_t k = k0, n = k0 / P, oh = k0 % P / g.WO, ow = k0 % g.WO;
        const index_t end = k0 + kc;
        while (k < end) {
          const index_t len = std::min(g.WO - ow, end - k);
          const index_t ih = oh * g.SH - g.PH + i, iw0 = ow - g.PW + j;
          T* o = row + (k - k0);
          if (ih < 0 || ih >= g.H) copy_window<Arch>(o, x, len, 0, 0);
          else copy_window<Arch>(o, x + ((n * g.C + c) * g.H + ih) * g.W + iw0, len, -iw0, g.W - iw0);
          k += len;
          ow = 0;
          if (++oh == g.HO) {
            oh = 0;
            ++n;
          }
        }
      }
      for (index_t kb = 0; kb < kcp; kb += 16)
        for (index_t g16 = 0; g16 < NR; g16 += 16) {
          __m512 v[16];
          for (int r = 0; r < 16; ++r) v[r] = _mm512_loadu_ps(tmp.get() + (g16 + r) * kcp + kb);
          transpose16(v);
          const index_t rows = std::min<index_t>(16, kc - kb);
          for (index_t r = 0; r < rows; ++r) _mm512_store_ps(d + (kb + r) * NR + g16, v[r]);
        }
    }
  }

  void operator()(index_t, index_t k0, index_t kc, index_t j0, index_t nc, T* dst) const {
    constexpr index_t NR = gemm_blocking<Arch, T>::NR;
    if constexpr (has_mask_registers<Arch, T> && std::is_same_v<T, float>) {
      if (g.SW == 1) return pack_transposing(k0, kc, j0, nc, dst);
    }
    const index_t P = g.HO * g.WO, taps = g.KH * g.KW;
    for (index_t q = 0; q * NR < nc; ++q) {
      T* d = dst + q * kc * NR;
      const index_t jq = j0 + q * NR, w = std::min(NR, nc - q * NR);
      for (index_t jj = 0; jj < w; ++jj) {
        const index_t col = jq + jj, c = col / taps, i = col % taps / g.KW, j = col % g.KW;
        T* o = d + jj;
        index_t k = k0, n = k0 / P, oh = k0 % P / g.WO, ow = k0 % g.WO;
        const index_t end = k0 + kc;
        while (k < end) {
          const index_t len = std::min(g.WO - ow, end - k);
          const index_t ih = oh * g.SH - g.PH + i;
          if (ih < 0 || ih >= g.H) {
            for (index_t t = 0; t < len; ++t) o[t * NR] = T(0);
          } else {
            const T* row = x + ((n * g.C + c) * g.H + ih) * g.W;
            if (g.SW == 1) {
              const index_t iw0 = ow - g.PW + j;
              const index_t lo = std::clamp<index_t>(-iw0, 0, len), hi = std::clamp<index_t>(g.W - iw0, lo, len);
              for (index_t t = 0; t < lo; ++t) o[t * NR] = T(0);
              for (index_t t = lo; t < hi; ++t) o[t * NR] = row[iw0 + t];
              for (index_t t = hi; t < len; ++t) o[t * NR] = T(0);
            } else {
              for (index_t t = 0; t < len; ++t) {
                const index_t iw = (ow + t) * g.SW - g.PW + j;
                o[t * NR] = iw >= 0 && iw < g.W ? row[iw] : T(0);
              }
            }
          }
          o += len * NR;
          k += len;
          ow = 0;
          if (++oh == g.HO) {
            oh = 0;
            ++n;
          }
        }
      }
      for (index_t k = 0; k < kc; ++k) std::fill(d + k * NR + w, d + (k + 1) * NR, T(0));
    }
  }
};

inline bool is_pointwise(const kernels::conv_geom& g) {
  return g.KH == 1 && g.KW == 1 && g.SH == 1 && g.SW == 1 && g.PH == 0 && g.PW == 0;
}

template <class Arch, class T>
void conv2d_forward_simd(Arch, const kernels::conv_geom& g, const T* x, const T* w, const T* bias,
                         kernels::conv_activation act, kernels::weight_reuse reuse, T* y) {
  // KPT_CONV_BF16=winograd (conv_bf16.hpp): Winograd layers in bf16 on AVX512-BF16 or emulated,
  // the others with their input and weights rounded as with KPT_CONV_BF16=1.
  [[maybe_unused]] std::vector<float> x_bf16, w_bf16;
  auto precision = winograd_precision::f32;
  if constexpr (std::is_same_v<T, float>) {
    const cpu_conv_bf16 mode = conv_bf16_mode();
    if (mode == cpu_conv_bf16::winograd || mode == cpu_conv_bf16::winograd_emulated)
      precision = has_winograd_bf16<Arch, T> && mode == cpu_conv_bf16::winograd && bf16_dot_selected()
                      ? winograd_precision::bf16_dot
                      : winograd_precision::bf16_emulated;
  }
  if (winograd_fits<Arch, T>(g)) {
    const winograd_conv<Arch, T> wc{g.N, g.C, g.H, g.W, g.O, g.PH, g.PW, x, g.C * g.H * g.W, precision};
    // Weights that will come again keep their transform (GEMM packing of the other paths is
    // small next to their work, so only Winograd's is kept); emulated bf16 ones never are.
    const bool keep = reuse == kernels::weight_reuse::repeated;
    if (precision == winograd_precision::bf16_dot) {
      using word = winograd_bf16::word;
      const auto kept = keep ? cached_weights<word>(&winograd_bf16_weights_tag<Arch, T>, g.O, g.C, w, g.w_numel(),
                                                    wc.packed_weight_words(),
                                                    [&](word* u) { wc.transform_weights_bf16(w, g.C * 9, 9, false, u); })
                             : nullptr;
      if (kept)
        wc.forward_packed_bf16(kept.get(), bias, act, y);
      else
        wc.forward(w, g.C * 9, 9, false, bias, act, y);
      return;
    }
    const auto kept = keep && precision == winograd_precision::f32
                          ? cached_weights<T>(&winograd_weights_tag<Arch, T>, g.O, g.C, w, g.w_numel(),
                                              wc.packed_weights(),
                                              [&](T* u) { wc.transform_weights(w, g.C * 9, 9, false, u); })
                          : nullptr;
    if (kept)
      wc.forward_packed(kept.get(), bias, act, y);
    else
      wc.forward(w, g.C * 9, 9, false, bias, act, y);
    return;
  }
  if constexpr (std::is_same_v<T, float>) {
    // bf16, not a Winograd layer: its input and weights are rounded, as with KPT_CONV_BF16=1.
    if (precision != winograd_precision::f32) {
      x_bf16 = bf16_copy<Arch>(x, g.x_numel()), w_bf16 = bf16_copy<Arch>(w, g.w_numel());
      x = x_bf16.data(), w = w_bf16.data();
    }
  }
  const index_t M = g.O, K = g.C * g.KH * g.KW, N = g.HO * g.WO;
  scratch<T, slot_a> apack(packed_a_size<Arch, T>(M, K));
  pack_a<Arch>(M, K, w, K, 1, apack.get(), K, 0);
  gemm_job<T> job;
  job.batch = g.N, job.M = M, job.N = N, job.K = K;
  job.apack = apack.get();
  job.c = y, job.ldc = N, job.c_batch = M * N;
  job.bias = bias;
  job.act = act;
  if (direct_conv_fits<Arch, T>(g.KH, g.KW, g.SH, g.SW, g.WO, K)) {
    direct_conv<Arch, T>{g.N, g.C, g.H, g.W, g.O, g.KH, g.KW, g.PH, g.PW, x, g.C * g.H * g.W}.run(apack.get(), bias,
                                                                                                   act, y);
  } else if (is_pointwise(g)) {
    gemm_run<Arch>(job, pack_b_strided<Arch, T>{x, g.C * g.H * g.W, g.H * g.W, 1});
  } else {
    gemm_run<Arch>(job, pack_b_im2col<Arch, T>{x, g.C * g.H * g.W, g.H * g.W, g.H, g.W, g.WO, g.KH, g.KW, g.SH, g.SW,
                                               g.PH, g.PW, false});
  }
}

template <class Arch, class T>
void conv2d_backward_input_simd(Arch, const kernels::conv_geom& g, const T* gy, const T* w, T* gx) {
  // A(c, (o, t)) = w[o, c, t] over the taps t, transposed in a plain loop (packing through an
  // index function spent a few ms per call in divisions at 256 channels). The direct path is the
  // forward convolution of dY padded by K-1-P with the kernel flipped: dX(c, h, w) = sum over
  // (o, i, j) of dYpad(o, h+i, w+j) * w(o, c, KH-1-i, KW-1-j); flipping both axes reverses t.
  if (winograd_fits<Arch, T>(g) && g.PH <= 2 && g.PW <= 2) {
    winograd_conv<Arch, T>{g.N, g.O, g.HO, g.WO, g.C, 2 - g.PH, 2 - g.PW, gy, g.O * g.HO * g.WO}.forward(
        w, 9, g.C * 9, true, nullptr, {}, gx);
    return;
  }
  const index_t M = g.C, taps = g.KH * g.KW, K = g.O * taps, N = g.H * g.W;
  const bool direct = direct_conv_fits<Arch, T>(g.KH, g.KW, g.SH, g.SW, g.W, K) && g.PH < g.KH && g.PW < g.KW;
  scratch<T, slot_weights> wt(M * K);
  for (index_t o = 0; o < g.O; ++o)
    for (index_t c = 0; c < g.C; ++c) {
      const T* src = w + (o * g.C + c) * taps;
      T* dst = wt.get() + c * K + o * taps;
      if (direct) std::reverse_copy(src, src + taps, dst);
      else std::copy_n(src, taps, dst);
    }
  scratch<T, slot_a> apack(packed_a_size<Arch, T>(M, K));
  pack_a<Arch>(M, K, wt.get(), K, 1, apack.get(), K, 0);
  if (direct) {
    direct_conv<Arch, T>{g.N, g.O, g.HO, g.WO, g.C, g.KH, g.KW, g.KH - 1 - g.PH, g.KW - 1 - g.PW, gy, g.O * g.HO * g.WO}
        .run(apack.get(), nullptr, {}, gx);
    return;
  }
  gemm_job<T> job;
  job.batch = g.N, job.M = M, job.N = N, job.K = K;
  job.apack = apack.get();
  job.c = gx, job.ldc = N, job.c_batch = M * N;
  const index_t P = g.HO * g.WO;
  if (is_pointwise(g)) {
    gemm_run<Arch>(job, pack_b_strided<Arch, T>{gy, g.O * P, P, 1});
  } else {
    gemm_run<Arch>(job, pack_b_im2col<Arch, T>{gy, g.O * P, P, g.HO, g.WO, g.W, g.KH, g.KW, g.SH, g.SW, g.PH, g.PW,
                                               true});
  }
}

template <class Arch, class T>
void conv2d_backward_weight_simd(Arch, const kernels::conv_geom& g, const T* x, const T* gy, T* gw) {
  if (winograd_fits<Arch, T>(g)) {
    winograd_conv<Arch, T>{g.N, g.C, g.H, g.W, g.O, g.PH, g.PW, x, g.C * g.H * g.W}.backward_weight(gy, gw);
    return;
  }
  if (weight_direct_fits<Arch, T>(g)) {
    conv2d_backward_weight_direct<Arch>(g, x, gy, gw);
    return;
  }
  const index_t M = g.O, P = g.HO * g.WO, K = g.N * P, N = g.C * g.KH * g.KW;
  scratch<T, slot_a> apack(packed_a_size<Arch, T>(M, K));
  for (index_t n = 0; n < g.N; ++n) pack_a<Arch>(M, P, gy + n * M * P, P, 1, apack.get(), K, n * P);
  gemm_job<T> job;
  job.batch = 1, job.M = M, job.N = N, job.K = K;
  job.apack = apack.get();
  job.c = gw, job.ldc = N, job.c_batch = M * N;
  gemm_run<Arch>(job, pack_b_im2col_t<Arch, T>{x, g});
}

template <class Arch, class T>
void conv2d_backward_bias_simd(Arch, const kernels::conv_geom& g, const T* gy, T* gb) {
  using V = xsimd::batch<T, Arch>;
  constexpr index_t L = V::size;
  const index_t P = g.HO * g.WO;
  const index_t grain = std::max<index_t>(1, elementwise_grain / std::max<index_t>(g.N * P, 1));
  parallel_for(0, g.O, grain, [&](index_t lo, index_t hi) {
    for (index_t o = lo; o < hi; ++o) {
      double total = 0;  // in double across rows, so long sums stay accurate
      for (index_t n = 0; n < g.N; ++n) {
        const T* row = gy + (n * g.O + o) * P;
        // Blocks of 1024 lanes in SIMD registers, blocks summed in double.
        for (index_t p0 = 0; p0 < P; p0 += 1024) {
          const index_t p1 = std::min(P, p0 + 1024);
          V acc(T(0));
          index_t p = p0;
          for (; p + L <= p1; p += L) acc += V::load_unaligned(row + p);
          T s = xsimd::hadd(acc);
          for (; p < p1; ++p) s += row[p];
          total += s;
        }
      }
      gb[o] = T(total);
    }
  });
}

#define KPT_CONV_INSTANTIATE(T)                                                                                  \
  template void conv2d_forward_simd<KPT_CPU_ARCH, T>(KPT_CPU_ARCH, const kernels::conv_geom&, const T*, const T*, \
                                                     const T*, kernels::conv_activation, kernels::weight_reuse, T*); \
  template void conv2d_backward_input_simd<KPT_CPU_ARCH, T>(KPT_CPU_ARCH, const kernels::conv_geom&, const T*,   \
                                                            const T*, T*);                                      \
  template void conv2d_backward_weight_simd<KPT_CPU_ARCH, T>(KPT_CPU_ARCH, const kernels::conv_geom&, const T*,  \
                                                             const T*, T*);                                     \
  template void conv2d_backward_bias_simd<KPT_CPU_ARCH, T>(KPT_CPU_ARCH, const kernels::conv_geom&, const T*, T*);
KPT_CONV_INSTANTIATE(float)
KPT_CONV_INSTANTIATE(double)
#undef KPT_CONV_INSTANTIATE

}  // namespace kpt::cpu_detail
#endif
