#pragma once
// add, sub, mul, div of two tensors with NumPy broadcasting, and the matching operators.
#include "kpt/autograd/apply.hpp"
#include "kpt/kernels/elementwise.hpp"
#include "kpt/ops/sum_to.hpp"

namespace kpt {

namespace ops_detail {

template <class T, class B>
tensor<T, B> binary_forward(kernels::binary_fn f, const tensor<T, B>& a, const tensor<T, B>& b) {
  const char* op = kernels::name_of(f);
  require<shape_error>(a.defined() && b.defined(), op, ": an operand is an undefined tensor");
  const auto g = kernels::make_broadcast(op, a.shape(), b.shape());
  auto y = tensor<T, B>::empty(g.out);
  binary(B{}, f, g, a.data(), b.data(), y.data());
  return y;
}

template <kernels::binary_fn F, class T, class B>
struct binary_op {
  static constexpr std::string_view name = kernels::name_of(F);
  std::array<kpt::shape, 2> shapes;  // input shapes, for the sum_to of broadcast gradients
  tensor<T, B> a, b;                 // saved only where the gradient formula needs them

  tensor<T, B> forward(const autograd::op_context<2>& ctx, const tensor<T, B>& x, const tensor<T, B>& y) {
    using enum kernels::binary_fn;
    if (ctx.recording) {
      if constexpr (F == mul) {
        if (ctx.needs(1)) a = x;
        if (ctx.needs(0)) b = y;
      } else if constexpr (F == div) {
        if (ctx.needs(1)) a = x;
        b = y;
      }
    }
    return binary_forward(F, x, y);
  }

  void backward(const autograd::op_context<2>& ctx, const tensor<T, B>& g, std::array<tensor<T, B>, 2>& grads) {
    using enum kernels::binary_fn;
    if constexpr (F == add || F == sub) {
      if (ctx.needs(0)) grads[0] = sum_to(g, shapes[0]);
      if (ctx.needs(1))
        grads[1] = sum_to(F == add ? g : binary_forward(mul, g, tensor<T, B>::scalar(T(-1))), shapes[1]);
    } else if constexpr (F == mul) {
      if (ctx.needs(0)) grads[0] = sum_to(binary_forward(mul, g, b), shapes[0]);
      if (ctx.needs(1)) grads[1] = sum_to(binary_forward(mul, g, a), shapes[1]);
    } else {  // div: d(a/b)/da = 1/b, d(a/b)/db = -a/b^2 = -(g/b)(a/b)
      const auto g_over_b = binary_forward(div, g, b);
      if (ctx.needs(0)) grads[0] = sum_to(g_over_b, shapes[0]);
      if (ctx.needs(1)) {
        const auto t = binary_forward(mul, g_over_b, binary_forward(div, a, b));
        grads[1] = sum_to(binary_forward(mul, t, tensor<T, B>::scalar(T(-1))), shapes[1]);
      }
    }
  }
};

template <kernels::binary_fn F, class T, class B>
tensor<T, B> binary_apply(const tensor<T, B>& a, const tensor<T, B>& b) {
  binary_op<F, T, B> op;
  if (a.defined() && b.defined()) op.shapes = {a.shape(), b.shape()};
  return autograd::apply(std::move(op), a, b);
}

}  // namespace ops_detail

template <class T, class B>
tensor<T, B> add(const tensor<T, B>& a, const tensor<T, B>& b) {
  return ops_detail::binary_apply<kernels::binary_fn::add>(a, b);
}
template <class T, class B>
tensor<T, B> sub(const tensor<T, B>& a, const tensor<T, B>& b) {
  return ops_detail::binary_apply<kernels::binary_fn::sub>(a, b);
}
template <class T, class B>
tensor<T, B> mul(const tensor<T, B>& a, const tensor<T, B>& b) {
  return ops_detail::binary_apply<kernels::binary_fn::mul>(a, b);
}
template <class T, class B>
tensor<T, B> div(const tensor<T, B>& a, const tensor<T, B>& b) {
  return ops_detail::binary_apply<kernels::binary_fn::div>(a, b);
}

template <class T, class B>
tensor<T, B> operator+(const tensor<T, B>& a, const tensor<T, B>& b) { return add(a, b); }
template <class T, class B>
tensor<T, B> operator-(const tensor<T, B>& a, const tensor<T, B>& b) { return sub(a, b); }
template <class T, class B>
tensor<T, B> operator*(const tensor<T, B>& a, const tensor<T, B>& b) { return mul(a, b); }
template <class T, class B>
tensor<T, B> operator/(const tensor<T, B>& a, const tensor<T, B>& b) { return div(a, b); }

}  // namespace kpt
