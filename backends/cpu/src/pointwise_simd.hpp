#pragma once
// SIMD element-wise maps of one tensor, forward and backward, templated on the xsimd arch. The
// definitions are compiled only in the per-arch translation units (KPT_CPU_ARCH set).
#include "kpt/kernels/pointwise.hpp"

namespace kpt::cpu_detail {

template <class Arch, class T>
void unary_simd(Arch, const kernels::unary_params& p, index_t n, const T* x, T* y);
template <class Arch, class T>
void unary_backward_simd(Arch, const kernels::unary_params& p, index_t n, const T* x, const T* y, const T* g,
                         T* dx);

}  // namespace kpt::cpu_detail

#ifdef KPT_CPU_ARCH
#include <xsimd/xsimd.hpp>

#include <algorithm>
#include <limits>

#include "activation.hpp"
#include "parallel.hpp"

namespace kpt::cpu_detail {

// Maps with exp/log/tanh/pow cost ~10x a load-op-store, so they go parallel at a smaller size.
inline constexpr index_t transcendental_grain = elementwise_grain / 8;

// y[i] = f(x[i]) over batches. The tail is padded into a full batch (with ones, inside every map's
// domain) so that it is computed by the same instructions as the body.
template <class Arch, class T, class F>
void map1(index_t grain, F f, index_t n, const T* x, T* y) {
  using V = xsimd::batch<T, Arch>;
  constexpr index_t w = V::size;
  parallel_for(0, n, grain, [&](index_t lo, index_t hi) {
    index_t i = lo;
    for (; i + w <= hi; i += w) f(V::load_unaligned(x + i)).store_unaligned(y + i);
    if (i < hi) {
      alignas(64) T buf[w];
      std::fill_n(buf, w, T(1));
      std::copy(x + i, x + hi, buf);
      f(V::load_unaligned(buf)).store_unaligned(buf);
      std::copy(buf, buf + (hi - i), y + i);
    }
  });
}

// dx[i] = f(s[i], g[i]) where s is the saved input or output.
template <class Arch, class T, class F>
void map2(index_t grain, F f, index_t n, const T* s, const T* g, T* dx) {
  using V = xsimd::batch<T, Arch>;
  constexpr index_t w = V::size;
  parallel_for(0, n, grain, [&](index_t lo, index_t hi) {
    index_t i = lo;
    for (; i + w <= hi; i += w) f(V::load_unaligned(s + i), V::load_unaligned(g + i)).store_unaligned(dx + i);
    if (i < hi) {
      alignas(64) T bs[w], bg[w];
      std::fill_n(bs, w, T(1));
      std::fill_n(bg, w, T(0));
      std::copy(s + i, s + hi, bs);
      std::copy(g + i, g + hi, bg);
      f(V::load_unaligned(bs), V::load_unaligned(bg)).store_unaligned(bs);
      std::copy(bs, bs + (hi - i), dx + i);
    }
  });
}

// x^e: the common exponents exactly (xsimd's pow is exp(e log|x|) and gets 0^e wrong), the rest
// through xsimd::pow with the zero base fixed.
template <class V, class T>
V pow_batch(V x, T e) {
  if (e == T(0)) return V(T(1));
  if (e == T(1)) return x;
  if (e == T(2)) return x * x;
  if (e == T(3)) return x * x * x;
  if (e == T(0.5)) return xsimd::sqrt(x);
  if (e == T(-1)) return V(T(1)) / x;
  if (e == T(-2)) return V(T(1)) / (x * x);
  if (e == T(-0.5)) return V(T(1)) / xsimd::sqrt(x);
  const V z = xsimd::pow(x, V(e));
  return xsimd::select(x == V(T(0)), V(e > 0 ? T(0) : std::numeric_limits<T>::infinity()), z);
}

template <class Arch, class T>
void unary_simd(Arch, const kernels::unary_params& p, index_t n, const T* x, T* y) {
  using V = xsimd::batch<T, Arch>;
  using enum kernels::unary_fn;
  const T a = T(p.a), b = T(p.b);
  const index_t fast = elementwise_grain, slow = transcendental_grain;
  switch (p.fn) {
    case neg: return map1<Arch>(fast, [](V v) { return -v; }, n, x, y);
    case exp: return map1<Arch>(slow, [](V v) { return xsimd::exp(v); }, n, x, y);
    case log: return map1<Arch>(slow, [](V v) { return xsimd::log(v); }, n, x, y);
    case sqrt: return map1<Arch>(fast, [](V v) { return xsimd::sqrt(v); }, n, x, y);
    case abs: return map1<Arch>(fast, [](V v) { return xsimd::abs(v); }, n, x, y);
    case relu: return map1<Arch>(fast, [](V v) { return relu_batch(v); }, n, x, y);
    case leaky_relu: return map1<Arch>(fast, [a](V v) { return leaky_relu_batch(v, a); }, n, x, y);
    case sigmoid:
      return map1<Arch>(slow, [](V v) { return V(T(1)) / (V(T(1)) + xsimd::exp(-v)); }, n, x, y);
    case tanh: return map1<Arch>(slow, [](V v) { return xsimd::tanh(v); }, n, x, y);
    case pow: return map1<Arch>(slow, [a](V v) { return pow_batch(v, a); }, n, x, y);
    case clamp:
      return map1<Arch>(fast, [a, b](V v) {
        return xsimd::select(v < V(a), V(a), xsimd::select(v > V(b), V(b), v));
      }, n, x, y);
    case add_scalar: return map1<Arch>(fast, [a](V v) { return v + V(a); }, n, x, y);
    case mul_scalar: return map1<Arch>(fast, [a](V v) { return v * V(a); }, n, x, y);
    case div_scalar: return map1<Arch>(fast, [a](V v) { return v / V(a); }, n, x, y);
    case rsub_scalar: return map1<Arch>(fast, [a](V v) { return V(a) - v; }, n, x, y);
    case rdiv_scalar: return map1<Arch>(fast, [a](V v) { return V(a) / v; }, n, x, y);
  }
}

template <class Arch, class T>
void unary_backward_simd(Arch, const kernels::unary_params& p, index_t n, const T* x, const T* y, const T* g,
                         T* dx) {
  using V = xsimd::batch<T, Arch>;
  using enum kernels::unary_fn;
  const T a = T(p.a), b = T(p.b);
  const index_t fast = elementwise_grain, slow = transcendental_grain;
  const V zero(T(0)), one(T(1));
  switch (p.fn) {
    // maps whose derivative is a constant: a map of g alone
    case neg:
    case rsub_scalar: return map1<Arch>(fast, [](V gv) { return -gv; }, n, g, dx);
    case add_scalar: return map1<Arch>(fast, [](V gv) { return gv; }, n, g, dx);
    case mul_scalar: return map1<Arch>(fast, [a](V gv) { return gv * V(a); }, n, g, dx);
    case div_scalar: return map1<Arch>(fast, [a](V gv) { return gv / V(a); }, n, g, dx);
    // from the output y
    case exp: return map2<Arch>(fast, [](V yv, V gv) { return gv * yv; }, n, y, g, dx);
    case sqrt: return map2<Arch>(fast, [](V yv, V gv) { return gv / (yv + yv); }, n, y, g, dx);
    case relu: return map2<Arch>(fast, [zero](V yv, V gv) { return xsimd::select(yv > zero, gv, zero); }, n, y, g, dx);
    case sigmoid: return map2<Arch>(fast, [one](V yv, V gv) { return gv * (yv * (one - yv)); }, n, y, g, dx);
    case tanh: return map2<Arch>(fast, [one](V yv, V gv) { return gv * (one - yv * yv); }, n, y, g, dx);
    // from the input x
    case log: return map2<Arch>(fast, [](V xv, V gv) { return gv / xv; }, n, x, g, dx);
    case abs:
      return map2<Arch>(fast, [zero](V xv, V gv) {
        return xsimd::select(xv > zero, gv, xsimd::select(xv < zero, -gv, zero));
      }, n, x, g, dx);
    case leaky_relu:
      return map2<Arch>(fast, [zero, a](V xv, V gv) { return xsimd::select(xv > zero, gv, gv * V(a)); }, n, x, g, dx);
    case pow:
      if (a == T(0)) return map1<Arch>(fast, [zero](V) { return zero; }, n, g, dx);
      return map2<Arch>(slow, [a](V xv, V gv) { return gv * (V(a) * pow_batch(xv, T(a - T(1)))); }, n, x, g, dx);
    case clamp:
      return map2<Arch>(fast, [zero, a, b](V xv, V gv) {
        return xsimd::select(xv >= V(a) && xv <= V(b), gv, zero);
      }, n, x, g, dx);
    case rdiv_scalar: return map2<Arch>(fast, [a](V xv, V gv) { return gv * (V(-a) / (xv * xv)); }, n, x, g, dx);
  }
}

template void unary_simd<KPT_CPU_ARCH, float>(KPT_CPU_ARCH, const kernels::unary_params&, index_t, const float*, float*);
template void unary_simd<KPT_CPU_ARCH, double>(KPT_CPU_ARCH, const kernels::unary_params&, index_t, const double*,
                                               double*);
template void unary_backward_simd<KPT_CPU_ARCH, float>(KPT_CPU_ARCH, const kernels::unary_params&, index_t,
                                                       const float*, const float*, const float*, float*);
template void unary_backward_simd<KPT_CPU_ARCH, double>(KPT_CPU_ARCH, const kernels::unary_params&, index_t,
                                                        const double*, const double*, const double*, double*);

}  // namespace kpt::cpu_detail
#endif
