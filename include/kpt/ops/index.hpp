#pragma once
// Index ops: index_select and gather (torch.gather); the gradient to x is a scatter-add (entries
// chosen several times add up). Indices are int64 tensors on the same backend and must lie in
// [0, size) (negative indices are an error, not counted from the end). Works for float, double and
// int64 x; only float and double record gradients.
//
//   index_select(x, axis, idx)  idx 1-D [k]: y has x's shape with size k along axis, y[.., j, ..] = x[.., idx[j], ..]
//   gather(x, axis, idx)        idx of x's rank, no larger than x except along axis: y has idx's shape,
//                               y[i][j][k] = x[i][idx[i][j][k]][k] for axis 1
#include <cstdint>

#include "kpt/autograd/apply.hpp"
#include "kpt/kernels/index.hpp"

namespace kpt {

namespace ops_detail {

// Throws value_error naming the op when an index lies outside [0, limit).
template <class B>
void check_indices(const char* op, const tensor<std::int64_t, B>& idx, index_t limit, const char* what) {
  const index_t bad = idx.numel() > 0 ? find_out_of_range(B{}, idx.data(), idx.numel(), limit) : -1;
  if (bad >= 0) {
    std::int64_t v = 0;
    B::copy_to_host(&v, idx.data() + bad, 1);
    throw value_error(detail::concat(op, ": index ", v, " at position ", bad, " of the index tensor of shape ",
                                     idx.shape().str(), " is out of range for ", what, " (valid: 0 to ", limit - 1,
                                     ")"));
  }
}

template <class T, class B>
struct index_select_op {
  static constexpr std::string_view name = "index_select";
  kernels::index_select_geom geom;
  kpt::shape in_shape, out_shape;
  tensor<std::int64_t, B> idx;

  tensor<T, B> forward(const autograd::op_context<1>&, const tensor<T, B>& x) {
    auto y = tensor<T, B>::empty(out_shape);
    if (y.numel() > 0) index_select_forward(B{}, geom, x.data(), idx.data(), y.data());
    return y;
  }
  void backward(const autograd::op_context<1>& ctx, const tensor<T, B>& g, std::array<tensor<T, B>, 1>& grads) {
    if (!ctx.needs(0)) return;
    auto gx = tensor<T, B>::zeros(in_shape);
    if (g.numel() > 0) index_select_backward(B{}, geom, g.data(), idx.data(), gx.data());
    grads[0] = std::move(gx);
  }
};

template <class T, class B>
struct gather_op {
  static constexpr std::string_view name = "gather";
  kernels::gather_geom geom;
  kpt::shape in_shape;
  tensor<std::int64_t, B> idx;

  tensor<T, B> forward(const autograd::op_context<1>&, const tensor<T, B>& x) {
    auto y = tensor<T, B>::empty(idx.shape());
    if (y.numel() > 0) gather_forward(B{}, geom, x.data(), idx.data(), y.data());
    return y;
  }
  void backward(const autograd::op_context<1>& ctx, const tensor<T, B>& g, std::array<tensor<T, B>, 1>& grads) {
    if (!ctx.needs(0)) return;
    auto gx = tensor<T, B>::empty(in_shape);
    if (gx.numel() > 0) gather_backward(B{}, geom, g.data(), idx.data(), gx.data());
    grads[0] = std::move(gx);
  }
};

}  // namespace ops_detail

template <class T, class B>
tensor<T, B> index_select(const tensor<T, B>& x, int axis, const tensor<std::int64_t, B>& idx) {
  require<shape_error>(x.defined(), "index_select: the input is an undefined tensor");
  require<shape_error>(idx.defined(), "index_select: the index tensor is undefined");
  const auto& s = x.shape();
  require<shape_error>(s.rank() >= 1, "index_select: the input is a scalar; it needs at least one axis");
  const int ax = s.axis(axis, "index_select");
  require<shape_error>(idx.rank() == 1, "index_select: the index tensor must be 1-D, its shape is ", idx.shape().str(),
                       " (input shape ", s.str(), ")");
  ops_detail::check_indices("index_select", idx, s[ax],
                            detail::concat("axis ", ax, " of shape ", s.str()).c_str());
  ops_detail::index_select_op<T, B> op;
  op.geom = {kernels::make_axis_geom(s, ax), idx.numel()};
  op.in_shape = s;
  op.out_shape = s;
  op.out_shape[ax] = idx.numel();
  op.idx = idx;
  return autograd::apply(std::move(op), x);
}

template <class T, class B>
tensor<T, B> gather(const tensor<T, B>& x, int axis, const tensor<std::int64_t, B>& idx) {
  require<shape_error>(x.defined(), "gather: the input is an undefined tensor");
  require<shape_error>(idx.defined(), "gather: the index tensor is undefined");
  const auto& s = x.shape();
  require<shape_error>(s.rank() >= 1, "gather: the input is a scalar; it needs at least one axis");
  const int ax = s.axis(axis, "gather");
  const auto& is = idx.shape();
  bool ok = is.rank() == s.rank();
  for (int d = 0; ok && d < s.rank(); ++d) ok = d == ax || is[d] <= s[d];
  require<shape_error>(ok, "gather: index shape ", is.str(), " does not fit input shape ", s.str(),
                       " (same rank, and no larger than the input except along axis ", ax, ")");
  ops_detail::check_indices("gather", idx, s[ax], detail::concat("axis ", ax, " of shape ", s.str()).c_str());
  ops_detail::gather_op<T, B> op;
  op.geom = kernels::make_gather(s, is, ax);
  op.in_shape = s;
  op.idx = idx;
  return autograd::apply(std::move(op), x);
}

}  // namespace kpt
