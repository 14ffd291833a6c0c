#pragma once
// Cross-entropy kernels of kpt::cpu. Logits are [n, classes, inner]: SIMD lanes run along the
// contiguous inner (pixel) axis, each lane a separate item, with the class loop outside; tasks are
// (batch, block of pixels) in parallel. Logits [n, classes] (inner = 1) vectorise along the classes.
#include <cstdint>

#include "kpt/kernels/loss.hpp"

namespace kpt::cpu_detail {

template <class Arch, class T>
void cross_entropy_forward_simd(Arch, const kernels::cross_entropy_geom& g, const T* logits,
                                const std::int64_t* target, T* lse, T* ce);
template <class Arch, class T>
kernels::weighted_sum cross_entropy_sums_simd(Arch, index_t items, const T* ce, const T* weight);
template <class Arch, class T>
void cross_entropy_backward_simd(Arch, const kernels::cross_entropy_geom& g, const T* logits,
                                 const std::int64_t* target, const T* weight, const T* lse, T scale, T* grad);

}  // namespace kpt::cpu_detail

#ifdef KPT_CPU_ARCH
#include <xsimd/xsimd.hpp>

#include <algorithm>
#include <cmath>

#include "parallel.hpp"

namespace kpt::cpu_detail {

// Pixels per task: a multiple of every SIMD width.
inline constexpr index_t ce_block = 256;

// log sum_c exp(x[c * stride]) with the maximum subtracted, one item.
template <class Arch, class T>
T ce_lse_scalar(const T* x, index_t classes, index_t stride) {
  T m = x[0];
  for (index_t c = 1; c < classes; ++c) m = std::max(m, x[c * stride]);
  T sum = 0;
  for (index_t c = 0; c < classes; ++c) sum += std::exp(x[c * stride] - m);
  return m + std::log(sum);
}

// The same over a contiguous row (logits [n, classes]), exponentials in SIMD.
template <class Arch, class T>
T ce_lse_row(const T* x, index_t classes) {
  using V = xsimd::batch<T, Arch>;
  constexpr index_t w = V::size;
  T m = x[0];
  for (index_t c = 1; c < classes; ++c) m = std::max(m, x[c]);
  V acc(T(0));
  const V vm(m);
  index_t c = 0;
  for (; c + w <= classes; c += w) acc += xsimd::exp(V::load_unaligned(x + c) - vm);
  T sum = xsimd::hadd(acc);
  for (; c < classes; ++c) sum += std::exp(x[c] - m);
  return m + std::log(sum);
}

template <class Arch, class T>
void cross_entropy_forward_simd(Arch, const kernels::cross_entropy_geom& g, const T* logits,
                                const std::int64_t* target, T* lse, T* ce) {
  using V = xsimd::batch<T, Arch>;
  constexpr index_t w = V::size;
  const index_t C = g.classes, S = g.inner;
  if (g.items() == 0) return;
  if (S == 1) {
    parallel_for(0, g.n, std::max<index_t>(1, elementwise_grain / C), [&](index_t lo, index_t hi) {
      for (index_t b = lo; b < hi; ++b) {
        const T* row = logits + b * C;
        lse[b] = ce_lse_row<Arch>(row, C);
        ce[b] = lse[b] - row[target[b]];
      }
    });
    return;
  }
  const index_t blocks = (S + ce_block - 1) / ce_block;
  parallel_for(0, g.n * blocks, std::max<index_t>(1, elementwise_grain / (ce_block * C)), [&](index_t lo, index_t hi) {
    for (index_t t = lo; t < hi; ++t) {
      const index_t b = t / blocks, s0 = (t % blocks) * ce_block, s1 = std::min(S, s0 + ce_block);
      const T* xb = logits + b * C * S;
      T* lb = lse + b * S;
      T* cb = ce + b * S;
      const std::int64_t* tb = target + b * S;
      index_t s = s0;
      for (; s + w <= s1; s += w) {
        V m = V::load_unaligned(xb + s);
        for (index_t c = 1; c < C; ++c) m = xsimd::max(m, V::load_unaligned(xb + c * S + s));
        V sum(T(0));
        for (index_t c = 0; c < C; ++c) sum += xsimd::exp(V::load_unaligned(xb + c * S + s) - m);
        (m + xsimd::log(sum)).store_unaligned(lb + s);
        for (index_t l = s; l < s + w; ++l) cb[l] = lb[l] - xb[tb[l] * S + l];
      }
      for (; s < s1; ++s) {
        lb[s] = ce_lse_scalar<Arch>(xb + s, C, S);
        cb[s] = lb[s] - xb[tb[s] * S + s];
      }
    }
  });
}

template <class Arch, class T>
kernels::weighted_sum cross_entropy_sums_simd(Arch, index_t items, const T* ce, const T* weight) {
  // Serial, in double: a few thousand items, and the same result with any thread count.
  kernels::weighted_sum r;
  if (weight) {
    for (index_t i = 0; i < items; ++i) {
      r.weighted += double(weight[i]) * double(ce[i]);
      r.weight += double(weight[i]);
    }
  } else {
    for (index_t i = 0; i < items; ++i) r.weighted += double(ce[i]);
    r.weight = double(items);
  }
  return r;
}

template <class Arch, class T>
void cross_entropy_backward_simd(Arch, const kernels::cross_entropy_geom& g, const T* logits,
                                 const std::int64_t* target, const T* weight, const T* lse, T scale, T* grad) {
  using V = xsimd::batch<T, Arch>;
  constexpr index_t w = V::size;
  const index_t C = g.classes, S = g.inner;
  if (g.items() == 0) return;
  // Per item: grad = sw * softmax, then sw subtracted at the target class.
  const index_t blocks = (S + ce_block - 1) / ce_block;
  const index_t grain = std::max<index_t>(1, elementwise_grain / (std::min(S, ce_block) * C));
  parallel_for(0, g.n * blocks, grain, [&](index_t lo, index_t hi) {
    for (index_t t = lo; t < hi; ++t) {
      const index_t b = t / blocks, s0 = (t % blocks) * ce_block, s1 = std::min(S, s0 + ce_block);
      const T* xb = logits + b * C * S;
      T* gb = grad + b * C * S;
      const T* lb = lse + b * S;
      const T* wb = weight ? weight + b * S : nullptr;
      const std::int64_t* tb = target + b * S;
      index_t s = s0;
      if (S == 1) {  // one item per batch row: the classes are contiguous
        const T sw = scale * (wb ? wb[0] : T(1));
        const V vsw(sw), vl(lb[0]);
        index_t c = 0;
        for (; c + w <= C; c += w) (vsw * xsimd::exp(V::load_unaligned(xb + c) - vl)).store_unaligned(gb + c);
        for (; c < C; ++c) gb[c] = sw * std::exp(xb[c] - lb[0]);
        gb[tb[0]] -= sw;
        continue;
      }
      for (; s + w <= s1; s += w) {
        const V vl = V::load_unaligned(lb + s);
        const V vsw = wb ? V(scale) * V::load_unaligned(wb + s) : V(scale);
        for (index_t c = 0; c < C; ++c)
          (vsw * xsimd::exp(V::load_unaligned(xb + c * S + s) - vl)).store_unaligned(gb + c * S + s);
        for (index_t l = s; l < s + w; ++l) gb[tb[l] * S + l] -= scale * (wb ? wb[l] : T(1));
      }
      for (; s < s1; ++s) {
        const T sw = scale * (wb ? wb[s] : T(1));
        for (index_t c = 0; c < C; ++c) gb[c * S + s] = sw * std::exp(xb[c * S + s] - lb[s]);
        gb[tb[s] * S + s] -= sw;
      }
    }
  });
}

#define KPT_LOSS_INST(T)                                                                                       \
  template void cross_entropy_forward_simd<KPT_CPU_ARCH, T>(KPT_CPU_ARCH, const kernels::cross_entropy_geom&,  \
                                                            const T*, const std::int64_t*, T*, T*);            \
  template kernels::weighted_sum cross_entropy_sums_simd<KPT_CPU_ARCH, T>(KPT_CPU_ARCH, index_t, const T*,     \
                                                                          const T*);                           \
  template void cross_entropy_backward_simd<KPT_CPU_ARCH, T>(KPT_CPU_ARCH, const kernels::cross_entropy_geom&, \
                                                             const T*, const std::int64_t*, const T*,          \
                                                             const T*, T, T*);
KPT_LOSS_INST(float)
KPT_LOSS_INST(double)
#undef KPT_LOSS_INST

}  // namespace kpt::cpu_detail
#endif
