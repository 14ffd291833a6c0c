#pragma once
// Kernel interface of the select family: argmax / argmin and topk along one axis of a tensor seen
// as [outer, n, inner]. Ordering rules shared by every backend, so their results are identical
// (and PyTorch's): equal values keep index order (the smallest index wins a tie; topk lists equal
// values by increasing index); argmax and argmin return the first NaN if there is one; topk counts
// NaN as larger than every number (first with largest = true, last otherwise).
#include <cmath>
#include <cstdint>
#include <type_traits>

#include "kpt/kernels/shape.hpp"

namespace kpt::kernels {

// argmax (largest) or argmin: idx[o * inner + i] = position along the axis of the first extreme.
//   void arg_extreme(B, const axis_geom&, bool largest, const T* x, std::int64_t* idx);
// topk: values and idx are [outer, k, inner], sorted best first.
//   void topk_rows(B, const axis_geom&, index_t k, bool largest, const T* x, T* values, std::int64_t* idx);

// Whether a, met after b in a scan, replaces b as argmax (largest) / argmin.
template <class T>
constexpr bool arg_beats(bool largest, T a, T b) {
  if constexpr (std::is_floating_point_v<T>) {
    if (std::isnan(b)) return false;
    if (std::isnan(a)) return true;
  }
  return largest ? a > b : a < b;
}

// Whether (a at position ia) comes before (b at ib) in topk's order. A strict total order.
template <class T>
constexpr bool topk_before(bool largest, T a, index_t ia, T b, index_t ib) {
  if constexpr (std::is_floating_point_v<T>) {
    const bool an = std::isnan(a), bn = std::isnan(b);
    if (an || bn) return an && bn ? ia < ib : (largest ? an : bn);
  }
  if (a != b) return largest ? a > b : a < b;
  return ia < ib;
}

}  // namespace kpt::kernels
