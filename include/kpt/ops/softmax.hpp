#pragma once
// softmax(x, axis) and log_softmax(x, axis): numerically stable (the maximum is subtracted
// first), along any axis.
#include "kpt/autograd/apply.hpp"
#include "kpt/kernels/softmax.hpp"

namespace kpt {

namespace ops_detail {

template <bool Log, class T, class B>
struct softmax_op {
  static constexpr std::string_view name = Log ? "log_softmax" : "softmax";
  kernels::axis_geom geom;
  tensor<T, B> y;  // the output (detached): both backward formulas need only it

  tensor<T, B> forward(const autograd::op_context<1>& ctx, const tensor<T, B>& x) {
    auto out = tensor<T, B>::empty(x.shape());
    softmax_forward(B{}, geom, Log, x.data(), out.data());
    if (ctx.recording) y = out.detach();
    return out;
  }

  void backward(const autograd::op_context<1>& ctx, const tensor<T, B>& g, std::array<tensor<T, B>, 1>& grads) {
    if (!ctx.needs(0)) return;
    auto dx = tensor<T, B>::empty(g.shape());
    softmax_backward(B{}, geom, Log, y.data(), g.data(), dx.data());
    grads[0] = std::move(dx);
  }
};

template <bool Log, class T, class B>
tensor<T, B> softmax_apply(const tensor<T, B>& x, int axis) {
  const char* op = Log ? "log_softmax" : "softmax";
  require<shape_error>(x.defined(), op, ": the input is an undefined tensor");
  softmax_op<Log, T, B> s;
  s.geom = kernels::make_axis_geom(x.shape(), x.shape().axis(axis, op));
  return autograd::apply(std::move(s), x);
}

}  // namespace ops_detail

template <class T, class B>
tensor<T, B> softmax(const tensor<T, B>& x, int axis) {
  return ops_detail::softmax_apply<false>(x, axis);
}
template <class T, class B>
tensor<T, B> log_softmax(const tensor<T, B>& x, int axis) {
  return ops_detail::softmax_apply<true>(x, axis);
}

}  // namespace kpt
