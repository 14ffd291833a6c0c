#pragma once
// Selection along one axis: argmax, argmin and topk. Indices are int64 tensors on the same backend.
// Ties go to the smallest index; argmax / argmin return the first NaN if there is one; topk is
// sorted (best first) and counts NaN as the largest value (as PyTorch).
//
//   argmax(x, axis, keepdim = false), argmin(...)   no gradient
//   topk(x, k, axis = -1, largest = true) -> {values, indices}
//     The indices have no gradient. The values are gather(x, axis, indices) when x records a
//     gradient (so d values / d x flows to the chosen entries), a plain copy otherwise.
#include <cstdint>
#include <utility>

#include "kpt/core/tensor.hpp"
#include "kpt/kernels/select.hpp"
#include "kpt/ops/index.hpp"

namespace kpt {

namespace ops_detail {

template <class T, class B>
tensor<std::int64_t, B> arg_extreme_along(const char* op, bool largest, const tensor<T, B>& x, int axis,
                                          bool keepdim) {
  require<shape_error>(x.defined(), op, ": the input is an undefined tensor");
  const auto& s = x.shape();
  require<shape_error>(s.rank() >= 1, op, ": the input is a scalar; it needs at least one axis");
  const int ax = s.axis(axis, op);
  require<shape_error>(s[ax] > 0, op, ": axis ", ax, " of shape ", s.str(), " is empty; there is no extreme to find");
  std::array<index_t, max_rank> dims{};
  int r = 0;
  for (int d = 0; d < s.rank(); ++d)
    if (d != ax) dims[r++] = s[d];
    else if (keepdim) dims[r++] = 1;
  auto idx = tensor<std::int64_t, B>::empty(kpt::shape(std::span<const index_t>(dims.data(), std::size_t(r))));
  if (idx.numel() > 0) arg_extreme(B{}, kernels::make_axis_geom(s, ax), largest, x.data(), idx.data());
  return idx;
}

}  // namespace ops_detail

template <class T, class B>
tensor<std::int64_t, B> argmax(const tensor<T, B>& x, int axis, bool keepdim = false) {
  return ops_detail::arg_extreme_along("argmax", true, x, axis, keepdim);
}
template <class T, class B>
tensor<std::int64_t, B> argmin(const tensor<T, B>& x, int axis, bool keepdim = false) {
  return ops_detail::arg_extreme_along("argmin", false, x, axis, keepdim);
}

template <class T, class B>
std::pair<tensor<T, B>, tensor<std::int64_t, B>> topk(const tensor<T, B>& x, index_t k, int axis = -1,
                                                      bool largest = true) {
  require<shape_error>(x.defined(), "topk: the input is an undefined tensor");
  const auto& s = x.shape();
  require<shape_error>(s.rank() >= 1, "topk: the input is a scalar; it needs at least one axis");
  const int ax = s.axis(axis, "topk");
  require<value_error>(k >= 0 && k <= s[ax], "topk: k = ", k, " is out of range for axis ", ax, " of shape ", s.str(),
                       " (valid: 0 to ", s[ax], ")");
  kpt::shape out = s;
  out[ax] = k;
  auto values = tensor<T, B>::empty(out);
  auto idx = tensor<std::int64_t, B>::empty(out);
  if (values.numel() > 0) topk_rows(B{}, kernels::make_axis_geom(s, ax), k, largest, x.data(), values.data(), idx.data());
  if constexpr (Real<T>) {
    if (x.requires_grad() && grad_enabled()) values = gather(x, ax, idx);
  }
  return {std::move(values), std::move(idx)};
}

}  // namespace kpt
