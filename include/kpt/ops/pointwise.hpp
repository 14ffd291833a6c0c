#pragma once
// Element-wise maps of one tensor: neg, exp, log, sqrt, abs, relu, leaky_relu, sigmoid, tanh, pow,
// clamp, the scalar ops (add/sub/mul/div/rsub/rdiv with a double) and the operators
// tensor op double, double op tensor for + - * / and unary minus.
//
// Note: these overload names of <cmath> inside namespace kpt; code in namespace kpt that means
// the scalar function writes std::exp, std::sqrt, ...
#include <cmath>

#include "kpt/autograd/apply.hpp"
#include "kpt/kernels/pointwise.hpp"

namespace kpt {

namespace ops_detail {

template <class T, class B>
tensor<T, B> unary_forward(const kernels::unary_params& p, const tensor<T, B>& x) {
  auto y = tensor<T, B>::empty(x.shape());
  unary(B{}, p, x.numel(), x.data(), y.data());
  return y;
}

template <kernels::unary_fn F, class T, class B>
struct unary_op {
  static constexpr std::string_view name = kernels::name_of(F);
  static constexpr kernels::unary_saves saves = kernels::saves_of(F);
  double a = 0, b = 0;  // the map's parameters (slope, exponent, bounds, scalar)
  tensor<T, B> saved;   // x or y, as saves_of(F) says

  tensor<T, B> forward(const autograd::op_context<1>& ctx, const tensor<T, B>& x) {
    require<shape_error>(x.defined(), name, ": the input is an undefined tensor");
    tensor<T, B> y = unary_forward(kernels::unary_params{F, a, b}, x);
    if (ctx.recording) {
      // detached: y's node holds this op, so y itself would be a reference cycle
      if constexpr (saves == kernels::unary_saves::output) saved = y.detach();
      // y for x (kernels/pointwise.hpp): x, mostly a BatchNorm's output that nothing else keeps, is
      // freed right away: 0.36 GB less at the peak of a KeyPointNet training step.
      else if constexpr (F == kernels::unary_fn::leaky_relu) saved = a >= 0 ? y.detach() : x;
      else if constexpr (saves == kernels::unary_saves::input) saved = x;
    }
    return y;
  }

  void backward(const autograd::op_context<1>& ctx, const tensor<T, B>& g, std::array<tensor<T, B>, 1>& grads) {
    if (!ctx.needs(0)) return;
    auto dx = tensor<T, B>::empty(g.shape());
    const T* x = saves == kernels::unary_saves::input ? saved.data() : nullptr;
    const T* y = saves == kernels::unary_saves::output ? saved.data() : nullptr;
    unary_backward(B{}, kernels::unary_params{F, a, b}, g.numel(), x, y, g.data(), dx.data());
    grads[0] = std::move(dx);
  }
};

template <kernels::unary_fn F, class T, class B>
tensor<T, B> unary_apply(const tensor<T, B>& x, double a = 0, double b = 0) {
  unary_op<F, T, B> op;
  op.a = a;
  op.b = b;
  return autograd::apply(std::move(op), x);
}

}  // namespace ops_detail

template <class T, class B>
tensor<T, B> neg(const tensor<T, B>& x) {
  return ops_detail::unary_apply<kernels::unary_fn::neg>(x);
}
template <class T, class B>
tensor<T, B> exp(const tensor<T, B>& x) {
  return ops_detail::unary_apply<kernels::unary_fn::exp>(x);
}
// Natural logarithm; the gradient 1/x is infinite at 0 and the value NaN below it.
template <class T, class B>
tensor<T, B> log(const tensor<T, B>& x) {
  return ops_detail::unary_apply<kernels::unary_fn::log>(x);
}
template <class T, class B>
tensor<T, B> sqrt(const tensor<T, B>& x) {
  return ops_detail::unary_apply<kernels::unary_fn::sqrt>(x);
}
// Gradient sign(x), 0 at 0 (as torch).
template <class T, class B>
tensor<T, B> abs(const tensor<T, B>& x) {
  return ops_detail::unary_apply<kernels::unary_fn::abs>(x);
}
// Gradient 1 where the output is positive, 0 elsewhere (0 at 0, as torch).
template <class T, class B>
tensor<T, B> relu(const tensor<T, B>& x) {
  return ops_detail::unary_apply<kernels::unary_fn::relu>(x);
}
template <class T, class B>
tensor<T, B> leaky_relu(const tensor<T, B>& x, double slope = 0.01) {
  require<value_error>(std::isfinite(slope), "leaky_relu: slope must be finite, got ", slope);
  return ops_detail::unary_apply<kernels::unary_fn::leaky_relu>(x, slope);
}
template <class T, class B>
tensor<T, B> sigmoid(const tensor<T, B>& x) {
  return ops_detail::unary_apply<kernels::unary_fn::sigmoid>(x);
}
template <class T, class B>
tensor<T, B> tanh(const tensor<T, B>& x) {
  return ops_detail::unary_apply<kernels::unary_fn::tanh>(x);
}
// x^exponent; NaN for negative x unless the exponent is an integer. Gradient 0 when exponent == 0.
template <class T, class B>
tensor<T, B> pow(const tensor<T, B>& x, double exponent) {
  require<value_error>(!std::isnan(exponent), "pow: the exponent is NaN");
  return ops_detail::unary_apply<kernels::unary_fn::pow>(x, exponent);
}
// min(max(x, lo), hi); gradient 1 on [lo, hi] (bounds included, as torch), 0 outside.
template <class T, class B>
tensor<T, B> clamp(const tensor<T, B>& x, double lo, double hi) {
  require<value_error>(lo <= hi, "clamp: lo (", lo, ") must not exceed hi (", hi, ")");
  return ops_detail::unary_apply<kernels::unary_fn::clamp>(x, lo, hi);
}

// ---- scalar ops ------------------------------------------------------------------------
template <class T, class B>
tensor<T, B> add_scalar(const tensor<T, B>& x, double c) {
  return ops_detail::unary_apply<kernels::unary_fn::add_scalar>(x, c);
}
template <class T, class B>
tensor<T, B> sub_scalar(const tensor<T, B>& x, double c) {
  return ops_detail::unary_apply<kernels::unary_fn::add_scalar>(x, -c);
}
template <class T, class B>
tensor<T, B> mul_scalar(const tensor<T, B>& x, double c) {
  return ops_detail::unary_apply<kernels::unary_fn::mul_scalar>(x, c);
}
template <class T, class B>
tensor<T, B> div_scalar(const tensor<T, B>& x, double c) {
  return ops_detail::unary_apply<kernels::unary_fn::div_scalar>(x, c);
}
// c - x
template <class T, class B>
tensor<T, B> rsub_scalar(double c, const tensor<T, B>& x) {
  return ops_detail::unary_apply<kernels::unary_fn::rsub_scalar>(x, c);
}
// c / x
template <class T, class B>
tensor<T, B> rdiv_scalar(double c, const tensor<T, B>& x) {
  return ops_detail::unary_apply<kernels::unary_fn::rdiv_scalar>(x, c);
}

template <class T, class B>
tensor<T, B> operator-(const tensor<T, B>& x) { return neg(x); }
template <class T, class B>
tensor<T, B> operator+(const tensor<T, B>& x, double c) { return add_scalar(x, c); }
template <class T, class B>
tensor<T, B> operator+(double c, const tensor<T, B>& x) { return add_scalar(x, c); }
template <class T, class B>
tensor<T, B> operator-(const tensor<T, B>& x, double c) { return sub_scalar(x, c); }
template <class T, class B>
tensor<T, B> operator-(double c, const tensor<T, B>& x) { return rsub_scalar(c, x); }
template <class T, class B>
tensor<T, B> operator*(const tensor<T, B>& x, double c) { return mul_scalar(x, c); }
template <class T, class B>
tensor<T, B> operator*(double c, const tensor<T, B>& x) { return mul_scalar(x, c); }
template <class T, class B>
tensor<T, B> operator/(const tensor<T, B>& x, double c) { return div_scalar(x, c); }
template <class T, class B>
tensor<T, B> operator/(double c, const tensor<T, B>& x) { return rdiv_scalar(c, x); }

}  // namespace kpt
