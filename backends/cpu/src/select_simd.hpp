#pragma once
// Select kernels of kpt::cpu: argmax / argmin (row-wise updates, contiguous along the inner axis)
// and topk (partial sort per row), parallel over rows. Same order as the reference: NaN is the
// largest value, ties go to the smallest index.
#include <cstdint>

#include "kpt/kernels/select.hpp"

namespace kpt::cpu_detail {

template <class Arch, class T>
void arg_extreme_simd(Arch, const kernels::axis_geom& g, bool largest, const T* x, std::int64_t* idx);
template <class Arch, class T>
void topk_rows_simd(Arch, const kernels::axis_geom& g, index_t k, bool largest, const T* x, T* values,
                    std::int64_t* idx);

}  // namespace kpt::cpu_detail

#ifdef KPT_CPU_ARCH
#include <xsimd/xsimd.hpp>  // the arch types named by KPT_CPU_ARCH

#include <algorithm>
#include <cmath>
#include <memory>

#include "parallel.hpp"

namespace kpt::cpu_detail {

// (Helpers are templates on Arch so that each arch's translation unit has its own copy.)
template <class Arch, class T>
struct select_item {
  T v;
  index_t i;
};

// Whether a (at ia) beats b (at ib); b never sits at a larger index than a in the scans below,
// so a tie keeps b. NaN beats every number and the first NaN is kept.
template <class Arch, class T>
inline bool select_beats(bool largest, T a, T b) {
  if (std::isnan(b)) return false;
  if (std::isnan(a)) return true;
  return largest ? a > b : a < b;
}

template <class Arch, class T>
inline bool select_before(bool largest, const select_item<Arch, T>& a, const select_item<Arch, T>& b) {
  const bool an = std::isnan(a.v), bn = std::isnan(b.v);
  if (an || bn) return an && bn ? a.i < b.i : (largest ? an : bn);
  if (a.v != b.v) return largest ? a.v > b.v : a.v < b.v;
  return a.i < b.i;
}

template <class Arch, class T>
void arg_extreme_simd(Arch, const kernels::axis_geom& g, bool largest, const T* x, std::int64_t* idx) {
  const index_t n = g.n, inner = g.inner;
  if (g.outer * inner == 0) return;
  const index_t per_outer = n * inner;
  const index_t grain = std::max<index_t>(1, elementwise_grain / std::max<index_t>(per_outer, 1));
  parallel_for(0, g.outer, grain, [&](index_t lo, index_t hi) {
    std::unique_ptr<T[]> best(new T[std::size_t(inner)]);
    for (index_t o = lo; o < hi; ++o) {
      const T* xo = x + o * per_outer;
      std::int64_t* io = idx + o * inner;
      // Row 0 starts as the best everywhere; each later row updates, in place, the positions it beats.
      for (index_t i = 0; i < inner; ++i) {
        best[i] = xo[i];
        io[i] = 0;
      }
      for (index_t j = 1; j < n; ++j) {
        const T* row = xo + j * inner;
        for (index_t i = 0; i < inner; ++i)
          if (select_beats<Arch>(largest, row[i], best[i])) {
            best[i] = row[i];
            io[i] = j;
          }
      }
    }
  });
}

template <class Arch, class T>
void topk_rows_simd(Arch, const kernels::axis_geom& g, index_t k, bool largest, const T* x, T* values,
                    std::int64_t* idx) {
  const index_t n = g.n, inner = g.inner, rows = g.outer * inner;
  if (rows == 0 || k == 0) return;
  const index_t grain = std::max<index_t>(1, elementwise_grain / (4 * n));
  parallel_for(0, rows, grain, [&](index_t lo, index_t hi) {
    std::unique_ptr<select_item<Arch, T>[]> items(new select_item<Arch, T>[std::size_t(n)]);
    const auto before = [largest](const select_item<Arch, T>& a, const select_item<Arch, T>& b) {
      return select_before<Arch>(largest, a, b);
    };
    for (index_t r = lo; r < hi; ++r) {
      const index_t o = r / inner, i = r % inner;
      const T* src = x + o * n * inner + i;
      for (index_t j = 0; j < n; ++j) items[j] = {src[j * inner], j};
      // A strict total order (ties broken by index), so any sort gives the reference's result.
      std::partial_sort(items.get(), items.get() + k, items.get() + n, before);
      for (index_t j = 0; j < k; ++j) {
        values[(o * k + j) * inner + i] = items[j].v;
        idx[(o * k + j) * inner + i] = items[j].i;
      }
    }
  });
}

#define KPT_SELECT_INST(T)                                                                                     \
  template void arg_extreme_simd<KPT_CPU_ARCH, T>(KPT_CPU_ARCH, const kernels::axis_geom&, bool, const T*,     \
                                                  std::int64_t*);                                              \
  template void topk_rows_simd<KPT_CPU_ARCH, T>(KPT_CPU_ARCH, const kernels::axis_geom&, index_t, bool,         \
                                                const T*, T*, std::int64_t*);
KPT_SELECT_INST(float)
KPT_SELECT_INST(double)
#undef KPT_SELECT_INST

}  // namespace kpt::cpu_detail
#endif
