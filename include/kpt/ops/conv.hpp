#pragma once
// conv2d and conv1d (cross-correlation, as PyTorch): forward and gradients to input, weight, bias;
// conv2d_leaky_relu, the convolution with a (leaky) ReLU fused into its forward kernel.
#include <cmath>

#include "kpt/autograd/apply.hpp"
#include "kpt/kernels/conv.hpp"

namespace kpt {

struct conv2d_options {
  index_t stride = 1;
  index_t padding = 0;
};
struct conv1d_options {
  index_t stride = 1;
  index_t padding = 0;
};

namespace ops_detail {

// One op for both ranks: [N, C, L] and [N, C, 1, L] have the same buffer, so conv1d runs the 2-D
// kernels on a geometry with H = 1; only the shapes of the results differ.
template <bool OneD, class T, class B>
struct conv_op {
  static constexpr std::string_view name = OneD ? "conv1d" : "conv2d";
  kernels::conv_geom geom;
  kernels::conv_activation act;
  tensor<T, B> x, w;  // saved for backward: x for the weight gradient, w for the input gradient
  tensor<T, B> y;     // with an activation: its output, whose sign gives the activation's derivative

  tensor<T, B> forward(const autograd::op_context<3>& ctx, const tensor<T, B>& in, const tensor<T, B>& weight,
                       const tensor<T, B>& bias) {
    const auto& g = geom;
    auto out = tensor<T, B>::empty(OneD ? kpt::shape{g.N, g.O, g.WO} : kpt::shape{g.N, g.O, g.HO, g.WO});
    // Not recording is inference (or a fixed filter): the same weights will come again.
    const auto reuse = ctx.recording ? kernels::weight_reuse::once : kernels::weight_reuse::repeated;
    conv2d_forward(B{}, g, in.data(), weight.data(), bias.defined() ? bias.data() : nullptr, act, reuse, out.data());
    if (ctx.recording) {
      if (ctx.needs(1)) x = in;
      if (ctx.needs(0)) w = weight;
      if (act.on) y = out.detach();  // detached: out's node holds this op, so out would be a cycle
    }
    return out;
  }

  void backward(const autograd::op_context<3>& ctx, const tensor<T, B>& gy_out, std::array<tensor<T, B>, 3>& grads) {
    const auto& g = geom;
    // Through the activation first: dL/d(conv + bias) = gy where y > 0, slope * gy elsewhere.
    tensor<T, B> gy = gy_out;
    if (act.on) {
      gy = tensor<T, B>::empty(gy_out.shape());
      // relu reads y; leaky_relu reads x > 0, which y > 0 tells for a slope >= 0
      unary_backward(B{}, act.as_unary(), gy.numel(), y.data(), y.data(), gy_out.data(), gy.data());
    }
    if (ctx.needs(0)) {
      grads[0] = tensor<T, B>::empty(OneD ? kpt::shape{g.N, g.C, g.W} : kpt::shape{g.N, g.C, g.H, g.W});
      conv2d_backward_input(B{}, g, gy.data(), w.data(), grads[0].data());
    }
    if (ctx.needs(1)) {
      grads[1] = tensor<T, B>::empty(OneD ? kpt::shape{g.O, g.C, g.KW} : kpt::shape{g.O, g.C, g.KH, g.KW});
      conv2d_backward_weight(B{}, g, x.data(), gy.data(), grads[1].data());
    }
    if (ctx.needs(2)) {
      grads[2] = tensor<T, B>::empty(kpt::shape{g.O});
      conv2d_backward_bias(B{}, g, gy.data(), grads[2].data());
    }
  }
};

template <class T, class B>
void require_conv_inputs(const char* op, const tensor<T, B>& x, const tensor<T, B>& w) {
  require<shape_error>(x.defined(), op, ": the input is an undefined tensor");
  require<shape_error>(w.defined(), op, ": the weight is an undefined tensor (input shape ", x.shape().str(), ")");
}

// The 2-D convolution op named `op` (in its errors), then act.
template <class T, class B>
tensor<T, B> apply_conv2d(const char* op, const tensor<T, B>& x, const tensor<T, B>& w, const tensor<T, B>& bias,
                          conv2d_options opt, kernels::conv_activation act) {
  require_conv_inputs(op, x, w);
  const kpt::shape bias_shape = bias.defined() ? bias.shape() : kpt::shape{};
  conv_op<false, T, B> conv;
  conv.geom = kernels::make_conv2d(op, x.shape(), w.shape(), bias.defined() ? &bias_shape : nullptr, opt.stride,
                                   opt.padding);
  conv.act = act;
  return autograd::apply(std::move(conv), x, w, bias);
}

}  // namespace ops_detail

// x [N, C, H, W], w [O, C, KH, KW], bias [O] or an undefined tensor -> [N, O, HO, WO] with
// HO = (H + 2*padding - KH) / stride + 1 (likewise WO).
template <Real T, Backend B>
tensor<T, B> conv2d(const tensor<T, B>& x, const tensor<T, B>& w, const tensor<T, B>& bias = {},
                    conv2d_options opt = {}) {
  return ops_detail::apply_conv2d("conv2d", x, w, bias, opt, {});
}

// leaky_relu(conv2d(x, w, bias, opt), slope), relu for slope 0, with the activation applied by the
// convolution kernel as it stores each output: one pass over the output instead of two. The slope
// must be >= 0 (the backward pass reads the derivative off the output's sign).
template <Real T, Backend B>
tensor<T, B> conv2d_leaky_relu(const tensor<T, B>& x, const tensor<T, B>& w, const tensor<T, B>& bias,
                               conv2d_options opt, double slope) {
  require<value_error>(std::isfinite(slope) && slope >= 0, "conv2d_leaky_relu: slope must be finite and >= 0, got ",
                       slope, " (use conv2d followed by leaky_relu for a negative slope)");
  return ops_detail::apply_conv2d("conv2d_leaky_relu", x, w, bias, opt, {true, slope});
}

// x [N, C, L], w [O, C, K], bias [O] or an undefined tensor -> [N, O, (L + 2*padding - K) / stride + 1].
template <Real T, Backend B>
tensor<T, B> conv1d(const tensor<T, B>& x, const tensor<T, B>& w, const tensor<T, B>& bias = {},
                    conv1d_options opt = {}) {
  ops_detail::require_conv_inputs("conv1d", x, w);
  const kpt::shape bias_shape = bias.defined() ? bias.shape() : kpt::shape{};
  ops_detail::conv_op<true, T, B> op;
  op.geom = kernels::make_conv1d("conv1d", x.shape(), w.shape(), bias.defined() ? &bias_shape : nullptr, opt.stride,
                                 opt.padding);
  return autograd::apply(std::move(op), x, w, bias);
}

}  // namespace kpt
