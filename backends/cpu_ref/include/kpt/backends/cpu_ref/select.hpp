#pragma once
// Reference select kernels: argmax / argmin and topk by a full stable sort of every row.
#include <algorithm>
#include <cstdint>
#include <numeric>
#include <vector>

#include "kpt/core/backend.hpp"
#include "kpt/kernels/select.hpp"

namespace kpt::kernels {

template <class T>
void arg_extreme(cpu_ref, const axis_geom& g, bool largest, const T* x, std::int64_t* idx) {
  for (index_t o = 0; o < g.outer; ++o)
    for (index_t i = 0; i < g.inner; ++i) {
      index_t best = 0;
      for (index_t j = 1; j < g.n; ++j) {
        if (arg_beats(largest, x[(o * g.n + j) * g.inner + i], x[(o * g.n + best) * g.inner + i])) best = j;
      }
      idx[o * g.inner + i] = best;
    }
}

template <class T>
void topk_rows(cpu_ref, const axis_geom& g, index_t k, bool largest, const T* x, T* values, std::int64_t* idx) {
  std::vector<index_t> order(static_cast<std::size_t>(g.n));
  for (index_t o = 0; o < g.outer; ++o)
    for (index_t i = 0; i < g.inner; ++i) {
      auto at = [&](index_t j) { return x[(o * g.n + j) * g.inner + i]; };
      std::iota(order.begin(), order.end(), index_t(0));
      std::stable_sort(order.begin(), order.end(),
                       [&](index_t a, index_t b) { return topk_before(largest, at(a), a, at(b), b); });
      for (index_t j = 0; j < k; ++j) {
        values[(o * k + j) * g.inner + i] = at(order[j]);
        idx[(o * k + j) * g.inner + i] = order[j];
      }
    }
}

}  // namespace kpt::kernels
