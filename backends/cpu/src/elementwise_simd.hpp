#pragma once
// SIMD element-wise and reduction kernels, templated on the xsimd arch. The definitions are
// compiled only in the per-arch translation units (KPT_CPU_ARCH set, arch flags on).
#include "kpt/kernels/elementwise.hpp"

namespace kpt::cpu_detail {

template <class Arch, class T>
void binary_simd(Arch, kernels::binary_fn f, const kernels::broadcast_geom& g, const T* a, const T* b, T* y);
template <class Arch, class T>
void reduce_sum_simd(Arch, const kernels::reduce_geom& g, const T* x, T* y);

}  // namespace kpt::cpu_detail

#ifdef KPT_CPU_ARCH
#include <xsimd/xsimd.hpp>

#include <algorithm>
#include <vector>

#include "parallel.hpp"

namespace kpt::cpu_detail {

struct add_f { template <class V> V operator()(V a, V b) const { return a + b; } };
struct sub_f { template <class V> V operator()(V a, V b) const { return a - b; } };
struct mul_f { template <class V> V operator()(V a, V b) const { return a * b; } };
struct div_f { template <class V> V operator()(V a, V b) const { return a / b; } };

// One contiguous run of n outputs; sa, sb in {0, 1} say whether a, b advance or repeat.
template <class Arch, class T, class F>
void binary_row(F f, index_t n, const T* a, index_t sa, const T* b, index_t sb, T* y) {
  using V = xsimd::batch<T, Arch>;
  constexpr index_t w = V::size;
  index_t i = 0;
  if (sa && sb) {
    for (; i + w <= n; i += w) f(V::load_unaligned(a + i), V::load_unaligned(b + i)).store_unaligned(y + i);
  } else if (sa) {
    const V vb(b[0]);
    for (; i + w <= n; i += w) f(V::load_unaligned(a + i), vb).store_unaligned(y + i);
  } else if (sb) {
    const V va(a[0]);
    for (; i + w <= n; i += w) f(va, V::load_unaligned(b + i)).store_unaligned(y + i);
  }
  for (; i < n; ++i) y[i] = f(a[i * sa], b[i * sb]);
}

template <class Arch, class T, class F>
void binary_loop(F f, const kernels::broadcast_geom& g, const T* a, const T* b, T* y) {
  if (g.same_shape) {
    parallel_for(0, g.numel, elementwise_grain, [&](index_t lo, index_t hi) {
      binary_row<Arch>(f, hi - lo, a + lo, 1, b + lo, 1, y + lo);
    });
    return;
  }
  // Rows along the last axis; the outer four axes are walked by a flat row index.
  const auto& d = g.out_dims;
  const index_t row = d[4], rows = g.numel / std::max<index_t>(row, 1);
  const index_t sa = g.a_stride[4], sb = g.b_stride[4];
  const index_t grain = std::max<index_t>(1, elementwise_grain / std::max<index_t>(row, 1));
  parallel_for(0, rows, grain, [&](index_t lo, index_t hi) {
    for (index_t r = lo; r < hi; ++r) {
      index_t rest = r, oa = 0, ob = 0;
      for (int ax = 3; ax >= 0; --ax) {
        const index_t c = rest % d[ax];
        rest /= d[ax];
        oa += c * g.a_stride[ax];
        ob += c * g.b_stride[ax];
      }
      binary_row<Arch>(f, row, a + oa, sa, b + ob, sb, y + r * row);
    }
  });
}

template <class Arch, class T>
void binary_simd(Arch, kernels::binary_fn f, const kernels::broadcast_geom& g, const T* a, const T* b, T* y) {
  switch (f) {
    case kernels::binary_fn::add: return binary_loop<Arch>(add_f{}, g, a, b, y);
    case kernels::binary_fn::sub: return binary_loop<Arch>(sub_f{}, g, a, b, y);
    case kernels::binary_fn::mul: return binary_loop<Arch>(mul_f{}, g, a, b, y);
    case kernels::binary_fn::div: return binary_loop<Arch>(div_f{}, g, a, b, y);
  }
}

// Sums accumulate in SIMD registers over blocks of `sum_block` terms and in double across
// blocks, so the error does not grow with the length of the reduction.
inline constexpr index_t sum_block = 256;

template <class Arch, class T>
void reduce_sum_simd(Arch, const kernels::reduce_geom& g, const T* x, T* y) {
  using V = xsimd::batch<T, Arch>;
  constexpr index_t w = V::size;
  if (g.contiguous) {
    // [outer, reduced, inner]: for inner == 1 a horizontal sum per output, else column sums.
    const index_t R = g.reduced, I = g.inner;
    const index_t grain = std::max<index_t>(1, elementwise_grain / std::max<index_t>(R * I, 1));
    parallel_for(0, g.outer, grain, [&](index_t lo, index_t hi) {
      std::vector<double> acc(static_cast<std::size_t>(I));
      std::vector<T> block(static_cast<std::size_t>(I));
      for (index_t o = lo; o < hi; ++o) {
        const T* src = x + o * R * I;
        if (I == 1) {
          double total = 0;
          for (index_t r0 = 0; r0 < R; r0 += sum_block * w) {
            const index_t r1 = std::min(R, r0 + sum_block * w);
            V v(T(0));
            index_t r = r0;
            for (; r + w <= r1; r += w) v += V::load_unaligned(src + r);
            T s = xsimd::hadd(v);
            for (; r < r1; ++r) s += src[r];
            total += s;
          }
          y[o] = T(total);
          continue;
        }
        std::fill(acc.begin(), acc.end(), 0.0);
        for (index_t r0 = 0; r0 < R; r0 += sum_block) {
          std::fill(block.begin(), block.end(), T(0));
          for (index_t r = r0; r < std::min(R, r0 + sum_block); ++r) {
            const T* row = src + r * I;
            T* b = block.data();
            index_t i = 0;
            for (; i + w <= I; i += w) (V::load_unaligned(b + i) + V::load_unaligned(row + i)).store_unaligned(b + i);
            for (; i < I; ++i) b[i] += row[i];
          }
          for (index_t i = 0; i < I; ++i) acc[i] += block[i];
        }
        for (index_t i = 0; i < I; ++i) y[o * I + i] = T(acc[i]);
      }
    });
    return;
  }
  // Non-contiguous axis sets are rare (broadcast gradients like [1, C, 1, 1] of [N, C, H, W]):
  // a serial walk, linear in the input, over rows of the last axis.
  const auto& s = g.in;
  std::vector<double> acc(static_cast<std::size_t>(g.out_numel), 0.0);
  const index_t n = s.numel();
  const index_t last = s[s.rank() - 1];
  const bool last_reduced = g.axes_mask >> (s.rank() - 1) & 1u;
  for (index_t flat = 0; flat < n; flat += last) {
    index_t rest = flat / last, out = 0, scale = last_reduced ? 1 : last;
    for (int ax = s.rank() - 2; ax >= 0; --ax) {
      const index_t c = rest % s[ax];
      rest /= s[ax];
      if (!(g.axes_mask >> ax & 1u)) {
        out += c * scale;
        scale *= s[ax];
      }
    }
    if (last_reduced) {
      V v(T(0));
      index_t i = 0;
      for (; i + w <= last; i += w) v += V::load_unaligned(x + flat + i);
      T r = xsimd::hadd(v);
      for (; i < last; ++i) r += x[flat + i];
      acc[out] += r;
    } else {
      for (index_t i = 0; i < last; ++i) acc[out + i] += x[flat + i];
    }
  }
  for (index_t i = 0; i < g.out_numel; ++i) y[i] = T(acc[i]);
}

template void binary_simd<KPT_CPU_ARCH, float>(KPT_CPU_ARCH, kernels::binary_fn, const kernels::broadcast_geom&,
                                               const float*, const float*, float*);
template void binary_simd<KPT_CPU_ARCH, double>(KPT_CPU_ARCH, kernels::binary_fn, const kernels::broadcast_geom&,
                                                const double*, const double*, double*);
template void reduce_sum_simd<KPT_CPU_ARCH, float>(KPT_CPU_ARCH, const kernels::reduce_geom&, const float*, float*);
template void reduce_sum_simd<KPT_CPU_ARCH, double>(KPT_CPU_ARCH, const kernels::reduce_geom&, const double*,
                                                    double*);

}  // namespace kpt::cpu_detail
#endif
