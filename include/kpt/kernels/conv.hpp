#pragma once
// Kernel interface of the convolution family, shared by ops and backends.
//
// Every convolution is a 2-D cross-correlation (as torch.nn.functional.conv2d) on contiguous
// row-major buffers: x [N, C, H, W], w [O, C, KH, KW], bias [O], y [N, O, HO, WO] with
//   y[n, o, oh, ow] = bias[o] + sum_{c, i, j} w[o, c, i, j] * x[n, c, oh*SH - PH + i, ow*SW - PW + j]
// (out-of-range x read as 0). conv1d is the same with H = KH = 1, SH = 1, PH = 0: the buffers of
// [N, C, L] and [N, C, 1, L] are identical, so backends implement only the 2-D kernels.
//
// Backends implement, as overloads on their tag (T = float, double):
//   conv2d_forward(B, const conv_geom&, const T* x, const T* w, const T* bias /*nullable*/,
//                  conv_activation act, weight_reuse reuse, T* y)                 // y = act(conv + bias)
//   conv2d_backward_input(B, const conv_geom&, const T* gy, const T* w, T* gx)      // gx = dL/dx
//   conv2d_backward_weight(B, const conv_geom&, const T* x, const T* gy, T* gw)     // gw = dL/dw
//   conv2d_backward_bias(B, const conv_geom&, const T* gy, T* gb)                   // gb = dL/dbias
// Outputs are overwritten, never accumulated into.
#include "kpt/core/shape.hpp"
#include "kpt/kernels/pointwise.hpp"

namespace kpt::kernels {

struct conv_geom {
  index_t N = 0, C = 0, H = 0, W = 0;    // input
  index_t O = 0, KH = 0, KW = 0;         // weights
  index_t SH = 1, SW = 1, PH = 0, PW = 0;  // stride, zero padding
  index_t HO = 0, WO = 0;                // output

  index_t x_numel() const { return N * C * H * W; }
  index_t w_numel() const { return O * C * KH * KW; }
  index_t y_numel() const { return N * O * HO * WO; }
  // Multiply-adds of the forward pass (each backward pass costs the same again).
  double macs() const { return double(N) * double(O) * double(HO * WO) * double(C * KH * KW); }
};

// The activation a forward pass applies to each output after the bias, so that a ReLU after the
// convolution costs no pass of its own over y: when `on`, y > 0 ? y : slope * y (slope 0: ReLU,
// whose negative outputs are +0 as torch's). NaN passes through. Slopes are >= 0 (ops check),
// so the output's sign tells the input's and the backward pass needs only y. A backend rounds
// as its own relu / leaky_relu kernels do, so that the fused op equals the two ops exactly.
struct conv_activation {
  bool on = false;
  double slope = 0;

  // The same map as an element-wise kernel's: relu for slope 0, leaky_relu otherwise.
  unary_params as_unary() const { return {slope == 0 ? unary_fn::relu : unary_fn::leaky_relu, slope}; }
};

// Whether the caller will pass the same weights again (inference: autograd does not record), so
// that a backend may keep what it derives from them (the cpu backend: Winograd's transformed
// weights, found again by their exact values). A hint only: results are the same either way.
enum class weight_reuse { once, repeated };

// Geometry of a 2-D convolution of x [N, C, H, W] with w [O, C, KH, KW]. `op` names the caller
// in error messages; bias is the bias shape when there is one (nullptr otherwise).
inline conv_geom make_conv2d(const char* op, const kpt::shape& x, const kpt::shape& w, const kpt::shape* bias,
                             index_t stride, index_t padding) {
  require<shape_error>(x.rank() == 4, op, ": input must be [N, C, H, W], got shape ", x.str());
  require<shape_error>(w.rank() == 4, op, ": weight must be [O, C, KH, KW], got shape ", w.str(),
                       " (input shape ", x.str(), ")");
  require<shape_error>(x[1] == w[1], op, ": input shape ", x.str(), " has ", x[1], " channels but weight shape ",
                       w.str(), " expects ", w[1]);
  require<value_error>(stride >= 1, op, ": stride must be at least 1, got ", stride);
  require<value_error>(padding >= 0, op, ": padding must be non-negative, got ", padding);
  require<shape_error>(w[2] >= 1 && w[3] >= 1 && w[0] >= 1, op, ": weight shape ", w.str(), " is empty");
  conv_geom g;
  g.N = x[0], g.C = x[1], g.H = x[2], g.W = x[3];
  g.O = w[0], g.KH = w[2], g.KW = w[3];
  g.SH = g.SW = stride;
  g.PH = g.PW = padding;
  require<shape_error>(g.H + 2 * padding >= g.KH && g.W + 2 * padding >= g.KW, op, ": kernel of weight shape ",
                       w.str(), " is larger than the padded input (input shape ", x.str(), ", padding ",
                       padding, ")");
  g.HO = (g.H + 2 * padding - g.KH) / stride + 1;
  g.WO = (g.W + 2 * padding - g.KW) / stride + 1;
  if (bias)
    require<shape_error>(bias->rank() == 1 && (*bias)[0] == g.O, op, ": bias must be [", g.O,
                         "] for weight shape ", w.str(), ", got shape ", bias->str());
  return g;
}

// Geometry of a 1-D convolution of x [N, C, L] with w [O, C, K], as a 2-D one with H = 1.
inline conv_geom make_conv1d(const char* op, const kpt::shape& x, const kpt::shape& w, const kpt::shape* bias,
                             index_t stride, index_t padding) {
  require<shape_error>(x.rank() == 3, op, ": input must be [N, C, L], got shape ", x.str());
  require<shape_error>(w.rank() == 3, op, ": weight must be [O, C, K], got shape ", w.str(), " (input shape ",
                       x.str(), ")");
  require<shape_error>(x[1] == w[1], op, ": input shape ", x.str(), " has ", x[1], " channels but weight shape ",
                       w.str(), " expects ", w[1]);
  require<value_error>(stride >= 1, op, ": stride must be at least 1, got ", stride);
  require<value_error>(padding >= 0, op, ": padding must be non-negative, got ", padding);
  require<shape_error>(w[0] >= 1 && w[2] >= 1, op, ": weight shape ", w.str(), " is empty");
  require<shape_error>(x[2] + 2 * padding >= w[2], op, ": kernel of weight shape ", w.str(),
                       " is longer than the padded input (input shape ", x.str(), ", padding ", padding, ")");
  conv_geom g;
  g.N = x[0], g.C = x[1], g.H = 1, g.W = x[2];
  g.O = w[0], g.KH = 1, g.KW = w[2];
  g.SH = 1, g.SW = stride, g.PH = 0, g.PW = padding;
  g.HO = 1;
  g.WO = (g.W + 2 * padding - g.KW) / stride + 1;
  if (bias)
    require<shape_error>(bias->rank() == 1 && (*bias)[0] == g.O, op, ": bias must be [", g.O,
                         "] for weight shape ", w.str(), ", got shape ", bias->str());
  return g;
}

}  // namespace kpt::kernels
