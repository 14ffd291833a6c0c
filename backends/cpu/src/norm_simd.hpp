#pragma once
// SIMD batch / instance normalisation, templated on the xsimd arch; parallel over channels. The
// definitions are compiled only in the per-arch translation units (KPT_CPU_ARCH set).
#include "kpt/kernels/norm.hpp"

namespace kpt::cpu_detail {

template <class Arch, class T>
void norm_stats_simd(Arch, const kernels::norm_geom& g, const T* x, T* mean, T* var);
template <class Arch, class T>
void norm_forward_simd(Arch, const kernels::norm_geom& g, const T* x, const T* mean, const T* var, const T* weight,
                       const T* bias, double eps, T* y);
template <class Arch, class T>
void norm_backward_simd(Arch, const kernels::norm_geom& g, const T* gy, const T* x, const T* mean, const T* var,
                        const T* weight, double eps, bool batch_stats, T* gx, T* gweight, T* gbias);

}  // namespace kpt::cpu_detail

#ifdef KPT_CPU_ARCH
#include <xsimd/xsimd.hpp>

#include <algorithm>
#include <cmath>

#include "parallel.hpp"

namespace kpt::cpu_detail {

namespace norm_detail {

// Sums over one contiguous segment: SIMD partial sums in T over blocks of at most `block`
// vectors, added to double accumulators between blocks (the error does not grow with length).
inline constexpr index_t block = 64;

// s0 += sum(x - shift), s1 += sum((x - shift)^2)
template <class Arch, class T>
void centred_sums(const T* x, index_t len, T shift, double& s0, double& s1) {
  using V = xsimd::batch<T, Arch>;
  constexpr index_t w = V::size;
  const V vs(shift);
  index_t i = 0;
  while (i + w <= len) {
    V a(T(0)), b(T(0));
    for (index_t e = std::min(len, i + block * w); i + w <= e; i += w) {
      const V d = V::load_unaligned(x + i) - vs;
      a += d;
      b = xsimd::fma(d, d, b);
    }
    s0 += xsimd::hadd(a);
    s1 += xsimd::hadd(b);
  }
  for (; i < len; ++i) {
    const double d = double(x[i]) - double(shift);
    s0 += d;
    s1 += d * d;
  }
}

// s0 += sum(g), s1 += sum(g * (x - shift))
template <class Arch, class T>
void grad_sums(const T* g, const T* x, index_t len, T shift, double& s0, double& s1) {
  using V = xsimd::batch<T, Arch>;
  constexpr index_t w = V::size;
  const V vs(shift);
  index_t i = 0;
  while (i + w <= len) {
    V a(T(0)), b(T(0));
    for (index_t e = std::min(len, i + block * w); i + w <= e; i += w) {
      const V gv = V::load_unaligned(g + i);
      a += gv;
      b = xsimd::fma(gv, V::load_unaligned(x + i) - vs, b);
    }
    s0 += xsimd::hadd(a);
    s1 += xsimd::hadd(b);
  }
  for (; i < len; ++i) {
    s0 += double(g[i]);
    s1 += double(g[i]) * (double(x[i]) - double(shift));
  }
}

// y = (x - shift) * k + c
template <class Arch, class T>
void affine(const T* x, index_t len, T shift, T k, T c, T* y) {
  using V = xsimd::batch<T, Arch>;
  constexpr index_t w = V::size;
  const V vs(shift), vk(k), vc(c);
  index_t i = 0;
  for (; i + w <= len; i += w) xsimd::fma(V::load_unaligned(x + i) - vs, vk, vc).store_unaligned(y + i);
  for (; i < len; ++i) y[i] = (x[i] - shift) * k + c;
}

// gx = a * g + (x - shift) * k + c
template <class Arch, class T>
void input_grad(const T* g, const T* x, index_t len, T a, T shift, T k, T c, T* gx) {
  using V = xsimd::batch<T, Arch>;
  constexpr index_t w = V::size;
  const V va(a), vs(shift), vk(k), vc(c);
  index_t i = 0;
  for (; i + w <= len; i += w) {
    const V t = xsimd::fma(V::load_unaligned(x + i) - vs, vk, vc);
    xsimd::fma(va, V::load_unaligned(g + i), t).store_unaligned(gx + i);
  }
  for (; i < len; ++i) gx[i] = a * g[i] + (x[i] - shift) * k + c;
}

// Channels per task: enough values that a task outweighs the hand-off.
inline index_t channel_grain(const kernels::norm_geom& g) {
  return std::max<index_t>(1, elementwise_grain / std::max<index_t>(1, g.count()));
}

}  // namespace norm_detail

template <class Arch, class T>
void norm_stats_simd(Arch, const kernels::norm_geom& g, const T* x, T* mean, T* var) {
  parallel_for(0, g.c, norm_detail::channel_grain(g), [&](index_t c0, index_t c1) {
    for (index_t c = c0; c < c1; ++c) {
      // Pass 1 gives the mean; pass 2 sums squares around its rounded value and corrects for
      // the rounding, so the variance does not cancel catastrophically when |mean| >> std.
      double s0 = 0, s1 = 0;
      for (index_t n = 0; n < g.n; ++n) norm_detail::centred_sums<Arch>(x + (n * g.c + c) * g.s, g.s, T(0), s0, s1);
      const double cnt = double(g.count());
      const T m = T(s0 / cnt);
      s0 = s1 = 0;
      for (index_t n = 0; n < g.n; ++n) norm_detail::centred_sums<Arch>(x + (n * g.c + c) * g.s, g.s, m, s0, s1);
      const double dm = s0 / cnt;
      mean[c] = T(double(m) + dm);
      var[c] = T(std::max(0.0, s1 / cnt - dm * dm));
    }
  });
}

template <class Arch, class T>
void norm_forward_simd(Arch, const kernels::norm_geom& g, const T* x, const T* mean, const T* var, const T* weight,
                       const T* bias, double eps, T* y) {
  parallel_for(0, g.c, norm_detail::channel_grain(g), [&](index_t c0, index_t c1) {
    for (index_t c = c0; c < c1; ++c) {
      const double inv = 1.0 / std::sqrt(double(var[c]) + eps);
      const T k = T(inv * (weight ? double(weight[c]) : 1.0)), b = bias ? bias[c] : T(0);
      for (index_t n = 0; n < g.n; ++n) {
        const index_t off = (n * g.c + c) * g.s;
        norm_detail::affine<Arch>(x + off, g.s, mean[c], k, b, y + off);
      }
    }
  });
}

template <class Arch, class T>
void norm_backward_simd(Arch, const kernels::norm_geom& g, const T* gy, const T* x, const T* mean, const T* var,
                        const T* weight, double eps, bool batch_stats, T* gx, T* gweight, T* gbias) {
  parallel_for(0, g.c, norm_detail::channel_grain(g), [&](index_t c0, index_t c1) {
    for (index_t c = c0; c < c1; ++c) {
      const double inv = 1.0 / std::sqrt(double(var[c]) + eps), w = weight ? double(weight[c]) : 1.0;
      const T m = mean[c];
      double sg = 0, sgx = 0;
      if (gweight || gbias || (gx && batch_stats))
        for (index_t n = 0; n < g.n; ++n) {
          const index_t off = (n * g.c + c) * g.s;
          norm_detail::grad_sums<Arch>(gy + off, x + off, g.s, m, sg, sgx);
        }
      const double sgxhat = sgx * inv;  // sum of gy * xhat
      if (gbias) gbias[c] = T(sg);
      if (gweight) gweight[c] = T(sgxhat);
      if (!gx) continue;
      // gx = w * inv * (gy - [sg + xhat * sgxhat] / count) = a * gy + k * (x - mean) + d
      const double a = w * inv, cnt = double(g.count());
      const double k = batch_stats ? -a * inv * sgxhat / cnt : 0.0, d = batch_stats ? -a * sg / cnt : 0.0;
      for (index_t n = 0; n < g.n; ++n) {
        const index_t off = (n * g.c + c) * g.s;
        norm_detail::input_grad<Arch>(gy + off, x + off, g.s, T(a), m, T(k), T(d), gx + off);
      }
    }
  });
}

#define KPT_NORM_INSTANTIATE(T)                                                                                \
  template void norm_stats_simd<KPT_CPU_ARCH, T>(KPT_CPU_ARCH, const kernels::norm_geom&, const T*, T*, T*);   \
  template void norm_forward_simd<KPT_CPU_ARCH, T>(KPT_CPU_ARCH, const kernels::norm_geom&, const T*, const T*, \
                                                   const T*, const T*, const T*, double, T*);                  \
  template void norm_backward_simd<KPT_CPU_ARCH, T>(KPT_CPU_ARCH, const kernels::norm_geom&, const T*,         \
                                                    const T*, const T*, const T*, const T*, double, bool, T*,  \
                                                    T*, T*);
KPT_NORM_INSTANTIATE(float)
KPT_NORM_INSTANTIATE(double)
#undef KPT_NORM_INSTANTIATE

}  // namespace kpt::cpu_detail
#endif
