#pragma once
// Dropout on the cpu backend. The mask is counter-based (kpt::counter_uniform of the group
// index), so any split of the loop over threads gives the same result. The definitions are
// compiled only in the per-arch translation units (KPT_CPU_ARCH set).
#include "kpt/kernels/dropout.hpp"

namespace kpt::cpu_detail {

template <class Arch, class T>
void dropout_apply_simd(Arch, const kernels::dropout_geom& g, const T* x, T* y);

}  // namespace kpt::cpu_detail

#ifdef KPT_CPU_ARCH
#include <xsimd/xsimd.hpp>

#include <algorithm>

#include "parallel.hpp"

namespace kpt::cpu_detail {

template <class Arch, class T>
void dropout_apply_simd(Arch, const kernels::dropout_geom& g, const T* x, T* y) {
  using V = xsimd::batch<T, Arch>;
  constexpr index_t w = V::size;
  const T scale = T(1.0 / (1.0 - g.p));
  const index_t grain = std::max<index_t>(1, elementwise_grain / std::max<index_t>(1, g.group_size));
  parallel_for(0, g.groups, grain, [&](index_t k0, index_t k1) {
    if (g.group_size == 1) {
      // The hash is the cost here; a branch-free float test (random outcomes defeat the branch
      // predictor) that the compiler can vectorise at -O3.
      // Everything in locals: as far as the compiler knows, stores through y could change the
      // captured variables, which would keep it from vectorising.
      const float thr = kernels::dropout_threshold(g.p);
      const std::uint64_t seed = g.seed;
      const T sc = scale;
      const T* xs = x;
      T* ys = y;
      for (index_t k = k0; k < k1; ++k) ys[k] = counter_uniform(seed, std::uint64_t(k)) >= thr ? xs[k] * sc : T(0);
      return;
    }
    const V vs(scale);
    for (index_t k = k0; k < k1; ++k) {
      const index_t off = k * g.group_size, len = g.group_size;
      if (!kernels::dropout_keep(g, k)) {
        std::fill(y + off, y + off + len, T(0));
        continue;
      }
      index_t i = 0;
      for (; i + w <= len; i += w) (V::load_unaligned(x + off + i) * vs).store_unaligned(y + off + i);
      for (; i < len; ++i) y[off + i] = x[off + i] * scale;
    }
  });
}

template void dropout_apply_simd<KPT_CPU_ARCH, float>(KPT_CPU_ARCH, const kernels::dropout_geom&, const float*,
                                                      float*);
template void dropout_apply_simd<KPT_CPU_ARCH, double>(KPT_CPU_ARCH, const kernels::dropout_geom&, const double*,
                                                       double*);

}  // namespace kpt::cpu_detail
#endif
