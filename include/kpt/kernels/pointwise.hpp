#pragma once
// Kernel interface of the element-wise maps of one tensor (and a double parameter or two).
// The set is closed so that a backend compiles each map once, forward and backward:
//   unary(B, const unary_params&, index_t n, const T* x, T* y)                y = f(x); y may be x
//   unary_backward(B, const unary_params&, index_t n, const T* x, const T* y, const T* g, T* dx)
//                                                                              dx = g * f'(x)
// unary_backward reads only what saves_of(fn) names (x, y or neither); the other pointers may be null.
#include "kpt/core/shape.hpp"

namespace kpt::kernels {

enum class unary_fn {
  neg,
  exp,
  log,
  sqrt,
  abs,
  relu,
  leaky_relu,  // a = slope
  sigmoid,
  tanh,
  pow,         // a = exponent
  clamp,       // a = lo, b = hi; gradient 1 on [lo, hi], 0 outside
  add_scalar,  // x + a (sub_scalar is add_scalar of -a: exact in IEEE arithmetic)
  mul_scalar,  // x * a
  div_scalar,  // x / a
  rsub_scalar, // a - x
  rdiv_scalar  // a / x
};

constexpr const char* name_of(unary_fn f) {
  switch (f) {
    case unary_fn::neg: return "neg";
    case unary_fn::exp: return "exp";
    case unary_fn::log: return "log";
    case unary_fn::sqrt: return "sqrt";
    case unary_fn::abs: return "abs";
    case unary_fn::relu: return "relu";
    case unary_fn::leaky_relu: return "leaky_relu";
    case unary_fn::sigmoid: return "sigmoid";
    case unary_fn::tanh: return "tanh";
    case unary_fn::pow: return "pow";
    case unary_fn::clamp: return "clamp";
    case unary_fn::add_scalar: return "add_scalar";
    case unary_fn::mul_scalar: return "mul_scalar";
    case unary_fn::div_scalar: return "div_scalar";
    case unary_fn::rsub_scalar: return "rsub_scalar";
    case unary_fn::rdiv_scalar: return "rdiv_scalar";
  }
  return "?";
}

struct unary_params {
  unary_fn fn = unary_fn::neg;
  double a = 0, b = 0;
};

// What the backward of each map reads. The output where it is cheaper (exp, sqrt, sigmoid, tanh:
// the derivative is a simple function of y) or equivalent (relu); the input where y does not
// determine the derivative (log, abs, leaky_relu, pow, clamp, rdiv_scalar). leaky_relu's backward
// reads only whether x > 0, which y tells too when the slope is >= 0: ops may pass y as x then.
enum class unary_saves { none, input, output };

constexpr unary_saves saves_of(unary_fn f) {
  switch (f) {
    case unary_fn::exp:
    case unary_fn::sqrt:
    case unary_fn::relu:
    case unary_fn::sigmoid:
    case unary_fn::tanh: return unary_saves::output;
    case unary_fn::log:
    case unary_fn::abs:
    case unary_fn::leaky_relu:
    case unary_fn::pow:
    case unary_fn::clamp:
    case unary_fn::rdiv_scalar: return unary_saves::input;
    default: return unary_saves::none;
  }
}

}  // namespace kpt::kernels
