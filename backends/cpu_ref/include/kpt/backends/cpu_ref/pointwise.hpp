#pragma once
// Reference element-wise maps of one tensor: a scalar loop, computed in double.
#include <cmath>

#include "kpt/core/backend.hpp"
#include "kpt/kernels/pointwise.hpp"

namespace kpt::kernels {

namespace ref_detail {

inline double unary_value(const unary_params& p, double x) {
  switch (p.fn) {
    case unary_fn::neg: return -x;
    case unary_fn::exp: return std::exp(x);
    case unary_fn::log: return std::log(x);
    case unary_fn::sqrt: return std::sqrt(x);
    case unary_fn::abs: return std::abs(x);
    case unary_fn::relu: return x < 0 ? 0.0 : x;  // NaN passes through, as in torch
    case unary_fn::leaky_relu: return x > 0 ? x : x * p.a;
    case unary_fn::sigmoid: return 1.0 / (1.0 + std::exp(-x));
    case unary_fn::tanh: return std::tanh(x);
    case unary_fn::pow: return std::pow(x, p.a);
    case unary_fn::clamp: return x < p.a ? p.a : (x > p.b ? p.b : x);
    case unary_fn::add_scalar: return x + p.a;
    case unary_fn::mul_scalar: return x * p.a;
    case unary_fn::div_scalar: return x / p.a;
    case unary_fn::rsub_scalar: return p.a - x;
    case unary_fn::rdiv_scalar: return p.a / x;
  }
  return 0.0;
}

// The derivative f'(x), given x and y = f(x) (only the one saves_of names is meaningful).
inline double unary_derivative(const unary_params& p, double x, double y) {
  switch (p.fn) {
    case unary_fn::neg: return -1.0;
    case unary_fn::exp: return y;
    case unary_fn::log: return 1.0 / x;
    case unary_fn::sqrt: return 0.5 / y;
    case unary_fn::abs: return x > 0 ? 1.0 : (x < 0 ? -1.0 : 0.0);
    case unary_fn::relu: return y > 0 ? 1.0 : 0.0;
    case unary_fn::leaky_relu: return x > 0 ? 1.0 : p.a;
    case unary_fn::sigmoid: return y * (1.0 - y);
    case unary_fn::tanh: return 1.0 - y * y;
    case unary_fn::pow: return p.a == 0 ? 0.0 : p.a * std::pow(x, p.a - 1.0);
    case unary_fn::clamp: return x >= p.a && x <= p.b ? 1.0 : 0.0;
    case unary_fn::add_scalar: return 1.0;
    case unary_fn::mul_scalar: return p.a;
    case unary_fn::div_scalar: return 1.0 / p.a;
    case unary_fn::rsub_scalar: return -1.0;
    case unary_fn::rdiv_scalar: return -p.a / (x * x);
  }
  return 0.0;
}

}  // namespace ref_detail

template <class T>
void unary(cpu_ref, const unary_params& p, index_t n, const T* x, T* y) {
  for (index_t i = 0; i < n; ++i) y[i] = T(ref_detail::unary_value(p, double(x[i])));
}

template <class T>
void unary_backward(cpu_ref, const unary_params& p, index_t n, const T* x, const T* y, const T* g, T* dx) {
  const unary_saves s = saves_of(p.fn);
  for (index_t i = 0; i < n; ++i) {
    const double xi = s == unary_saves::input ? double(x[i]) : 0.0;
    const double yi = s == unary_saves::output ? double(y[i]) : 0.0;
    const double d = ref_detail::unary_derivative(p, xi, yi);
    // As torch, a flat piece of relu, clamp or pow(x, 0) selects 0 instead of multiplying: an
    // infinite g must not become NaN there.
    const bool selects = p.fn == unary_fn::relu || p.fn == unary_fn::clamp || (p.fn == unary_fn::pow && p.a == 0);
    dx[i] = selects && d == 0 ? T(0) : T(double(g[i]) * d);
  }
}

}  // namespace kpt::kernels
