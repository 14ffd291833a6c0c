#pragma once
// Reductions: sum and mean over all axes or a list of axes, max along one axis.
//   sum(x) -> scalar;  sum(x, {axes...}, keepdim = false);  same for mean
//   max(x, axis, keepdim = false): the gradient goes to the first maximum of each slice.
#include <initializer_list>
#include <span>
#include <vector>

#include "kpt/autograd/apply.hpp"
#include "kpt/kernels/pointwise.hpp"
#include "kpt/kernels/reduce.hpp"

namespace kpt {

namespace ops_detail {

// Bit i set for each listed axis (negative axes count from the end); no duplicates, not empty.
inline unsigned reduce_axes_mask(const char* op, const kpt::shape& s, std::span<const int> axes) {
  require<value_error>(!axes.empty(), op, ": the list of axes is empty (shape ", s.str(), "); call ", op,
                       "(x) to reduce over all axes");
  unsigned mask = 0;
  for (int a : axes) {
    const int ax = s.axis(a, op);
    require<value_error>(!(mask >> ax & 1u), op, ": axis ", a, " appears more than once in the list of axes for shape ",
                         s.str());
    mask |= 1u << ax;
  }
  return mask;
}

inline kpt::shape reduced_shape(const kpt::shape& s, unsigned mask, bool keepdim) {
  std::array<index_t, max_rank> d{};
  std::size_t r = 0;
  for (int i = 0; i < s.rank(); ++i) {
    if (!(mask >> i & 1u)) d[r++] = s[i];
    else if (keepdim) d[r++] = 1;
  }
  return kpt::shape(std::span<const index_t>(d.data(), r));
}

template <bool Mean, class T, class B>
struct sum_op {
  static constexpr std::string_view name = Mean ? "mean" : "sum";
  unsigned mask = 0;  // reduced axes
  bool keepdim = false;
  kernels::reduce_geom geom;

  tensor<T, B> forward(const autograd::op_context<1>&, const tensor<T, B>& x) {
    geom = kernels::make_reduce(x.shape(), mask);
    auto y = tensor<T, B>::empty(reduced_shape(x.shape(), mask, keepdim));
    reduce_sum(B{}, geom, x.data(), y.data());
    // mean of nothing is 0 / 0 = NaN, as torch
    if constexpr (Mean) unary(B{}, kernels::unary_params{kernels::unary_fn::div_scalar, double(geom.reduced)}, y.numel(), y.data(),
                                y.data());
    return y;
  }

  void backward(const autograd::op_context<1>& ctx, const tensor<T, B>& g, std::array<tensor<T, B>, 1>& grads) {
    if (!ctx.needs(0)) return;
    auto dx = tensor<T, B>::empty(geom.in);
    const T scale = Mean ? T(1.0 / double(geom.reduced)) : T(1);
    expand_reduced(B{}, geom, scale, g.data(), dx.data());
    grads[0] = std::move(dx);
  }
};

template <bool Mean, class T, class B>
tensor<T, B> sum_apply(const tensor<T, B>& x, std::span<const int> axes, bool all, bool keepdim) {
  const char* op = Mean ? "mean" : "sum";
  require<shape_error>(x.defined(), op, ": the input is an undefined tensor");
  sum_op<Mean, T, B> s;
  s.mask = all ? (1u << x.rank()) - 1u : reduce_axes_mask(op, x.shape(), axes);
  s.keepdim = keepdim;
  return autograd::apply(std::move(s), x);
}

template <class T, class B>
struct max_op {
  static constexpr std::string_view name = "max";
  int axis = 0;
  bool keepdim = false;
  kernels::axis_geom geom;
  kpt::shape in;
  tensor<std::int64_t, B> idx;  // position of the maximum of each slice

  tensor<T, B> forward(const autograd::op_context<1>& ctx, const tensor<T, B>& x) {
    in = x.shape();
    geom = kernels::make_axis_geom(in, axis);
    require<shape_error>(geom.n > 0, "max: axis ", axis, " of shape ", in.str(),
                         " is empty; a maximum needs at least one element");
    auto y = tensor<T, B>::empty(reduced_shape(in, 1u << axis, keepdim));
    auto i = tensor<std::int64_t, B>::empty(y.shape());
    max_axis(B{}, geom, x.data(), y.data(), i.data());
    if (ctx.recording) idx = std::move(i);
    return y;
  }

  void backward(const autograd::op_context<1>& ctx, const tensor<T, B>& g, std::array<tensor<T, B>, 1>& grads) {
    if (!ctx.needs(0)) return;
    auto dx = tensor<T, B>::empty(in);
    max_axis_backward(B{}, geom, idx.data(), g.data(), dx.data());
    grads[0] = std::move(dx);
  }
};

}  // namespace ops_detail

// Sum of all elements: a rank-0 tensor.
template <class T, class B>
tensor<T, B> sum(const tensor<T, B>& x) {
  return ops_detail::sum_apply<false>(x, {}, true, false);
}
// Sum over the listed axes (negative ones count from the end); keepdim keeps them as size 1.
template <class T, class B>
tensor<T, B> sum(const tensor<T, B>& x, std::initializer_list<int> axes, bool keepdim = false) {
  return ops_detail::sum_apply<false>(x, std::span<const int>(axes.begin(), axes.size()), false, keepdim);
}
template <class T, class B>
tensor<T, B> sum(const tensor<T, B>& x, const std::vector<int>& axes, bool keepdim = false) {
  return ops_detail::sum_apply<false>(x, std::span<const int>(axes), false, keepdim);
}

template <class T, class B>
tensor<T, B> mean(const tensor<T, B>& x) {
  return ops_detail::sum_apply<true>(x, {}, true, false);
}
template <class T, class B>
tensor<T, B> mean(const tensor<T, B>& x, std::initializer_list<int> axes, bool keepdim = false) {
  return ops_detail::sum_apply<true>(x, std::span<const int>(axes.begin(), axes.size()), false, keepdim);
}
template <class T, class B>
tensor<T, B> mean(const tensor<T, B>& x, const std::vector<int>& axes, bool keepdim = false) {
  return ops_detail::sum_apply<true>(x, std::span<const int>(axes), false, keepdim);
}

// Maximum along one axis. NaN counts as the largest value (it propagates, as in torch).
template <class T, class B>
tensor<T, B> max(const tensor<T, B>& x, int axis, bool keepdim = false) {
  require<shape_error>(x.defined(), "max: the input is an undefined tensor");
  ops_detail::max_op<T, B> op;
  op.axis = x.shape().axis(axis, "max");
  op.keepdim = keepdim;
  return autograd::apply(std::move(op), x);
}

}  // namespace kpt
