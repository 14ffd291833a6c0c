#pragma once
// Reference convolution kernels: direct loops over the definition, accumulated in double.
#include <vector>

#include "kpt/core/backend.hpp"
#include "kpt/backends/cpu_ref/pointwise.hpp"
#include "kpt/kernels/conv.hpp"

namespace kpt::kernels {

template <class T>
void conv2d_forward(cpu_ref, const conv_geom& g, const T* x, const T* w, const T* bias, conv_activation act,
                    weight_reuse /*keeps nothing*/, T* y) {
  for (index_t n = 0; n < g.N; ++n)
    for (index_t o = 0; o < g.O; ++o)
      for (index_t oh = 0; oh < g.HO; ++oh)
        for (index_t ow = 0; ow < g.WO; ++ow) {
          double s = bias ? double(bias[o]) : 0.0;
          for (index_t c = 0; c < g.C; ++c)
            for (index_t i = 0; i < g.KH; ++i) {
              const index_t ih = oh * g.SH - g.PH + i;
              if (ih < 0 || ih >= g.H) continue;
              for (index_t j = 0; j < g.KW; ++j) {
                const index_t iw = ow * g.SW - g.PW + j;
                if (iw < 0 || iw >= g.W) continue;
                s += double(w[((o * g.C + c) * g.KH + i) * g.KW + j]) * double(x[((n * g.C + c) * g.H + ih) * g.W + iw]);
              }
            }
          // rounded to T first, then the activation as the element-wise kernel computes it
          y[((n * g.O + o) * g.HO + oh) * g.WO + ow] =
              act.on ? T(ref_detail::unary_value(act.as_unary(), double(T(s)))) : T(s);
        }
}

// gx[n, c, ih, iw] = sum over the (o, i, j, oh, ow) with oh*SH - PH + i = ih and ow*SW - PW + j = iw.
template <class T>
void conv2d_backward_input(cpu_ref, const conv_geom& g, const T* gy, const T* w, T* gx) {
  for (index_t n = 0; n < g.N; ++n)
    for (index_t c = 0; c < g.C; ++c)
      for (index_t ih = 0; ih < g.H; ++ih)
        for (index_t iw = 0; iw < g.W; ++iw) {
          double s = 0;
          for (index_t o = 0; o < g.O; ++o)
            for (index_t i = 0; i < g.KH; ++i) {
              const index_t th = ih + g.PH - i;  // = oh * SH
              if (th < 0 || th % g.SH != 0 || th / g.SH >= g.HO) continue;
              for (index_t j = 0; j < g.KW; ++j) {
                const index_t tw = iw + g.PW - j;
                if (tw < 0 || tw % g.SW != 0 || tw / g.SW >= g.WO) continue;
                s += double(w[((o * g.C + c) * g.KH + i) * g.KW + j]) *
                     double(gy[((n * g.O + o) * g.HO + th / g.SH) * g.WO + tw / g.SW]);
              }
            }
          gx[((n * g.C + c) * g.H + ih) * g.W + iw] = T(s);
        }
}

template <class T>
void conv2d_backward_weight(cpu_ref, const conv_geom& g, const T* x, const T* gy, T* gw) {
  for (index_t o = 0; o < g.O; ++o)
    for (index_t c = 0; c < g.C; ++c)
      for (index_t i = 0; i < g.KH; ++i)
        for (index_t j = 0; j < g.KW; ++j) {
          double s = 0;
          for (index_t n = 0; n < g.N; ++n)
            for (index_t oh = 0; oh < g.HO; ++oh) {
              const index_t ih = oh * g.SH - g.PH + i;
              if (ih < 0 || ih >= g.H) continue;
              for (index_t ow = 0; ow < g.WO; ++ow) {
                const index_t iw = ow * g.SW - g.PW + j;
                if (iw < 0 || iw >= g.W) continue;
                s += double(gy[((n * g.O + o) * g.HO + oh) * g.WO + ow]) * double(x[((n * g.C + c) * g.H + ih) * g.W + iw]);
              }
            }
          gw[((o * g.C + c) * g.KH + i) * g.KW + j] = T(s);
        }
}

template <class T>
void conv2d_backward_bias(cpu_ref, const conv_geom& g, const T* gy, T* gb) {
  const index_t P = g.HO * g.WO;
  for (index_t o = 0; o < g.O; ++o) {
    double s = 0;
    for (index_t n = 0; n < g.N; ++n)
      for (index_t p = 0; p < P; ++p) s += double(gy[(n * g.O + o) * P + p]);
    gb[o] = T(s);
  }
}

}  // namespace kpt::kernels
