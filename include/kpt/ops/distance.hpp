#pragma once
// l2_normalize(x, axis, eps = 1e-12): x / max(||x||, eps) along axis
//     (= torch.nn.functional.normalize(x, p=2, dim=axis, eps)).
// pairwise_distance(a [N, D] or [Bt, N, D], b [M, D] or [Bt, M, D]) -> [N, M] or [Bt, N, M]:
//     Euclidean distances (= torch.cdist(a, b, p=2)); the gradient is 0 where a distance is 0.
#include <cmath>

#include "kpt/autograd/apply.hpp"
#include "kpt/kernels/distance.hpp"

namespace kpt {

namespace ops_detail {

template <class T, class B>
struct l2_normalize_op {
  static constexpr std::string_view name = "l2_normalize";
  kernels::axis_geom geom;
  double eps = 1e-12;
  tensor<T, B> y, norm;  // the output (detached) and the unclamped norms [outer * inner]

  tensor<T, B> forward(const autograd::op_context<1>& ctx, const tensor<T, B>& x) {
    auto out = tensor<T, B>::empty(x.shape());
    auto n = tensor<T, B>::empty(kpt::shape{geom.outer * geom.inner});
    l2_normalize_forward(B{}, geom, eps, x.data(), out.data(), n.data());
    if (ctx.recording) {
      y = out.detach();
      norm = std::move(n);
    }
    return out;
  }

  void backward(const autograd::op_context<1>& ctx, const tensor<T, B>& g, std::array<tensor<T, B>, 1>& grads) {
    if (!ctx.needs(0)) return;
    auto dx = tensor<T, B>::empty(g.shape());
    l2_normalize_backward(B{}, geom, eps, y.data(), norm.data(), g.data(), dx.data());
    grads[0] = std::move(dx);
  }
};

template <class T, class B>
struct pairwise_distance_op {
  static constexpr std::string_view name = "pairwise_distance";
  kernels::cdist_geom geom;
  tensor<T, B> a, b, dist;  // dist detached (it is this op's output)

  tensor<T, B> forward(const autograd::op_context<2>& ctx, const tensor<T, B>& x, const tensor<T, B>& z) {
    const kpt::shape out_shape = x.rank() == 2 ? kpt::shape{geom.n, geom.m} : kpt::shape{geom.batch, geom.n, geom.m};
    auto out = tensor<T, B>::empty(out_shape);
    pairwise_distance_forward(B{}, geom, x.data(), z.data(), out.data());
    if (ctx.recording) {
      a = x;
      b = z;
      dist = out.detach();
    }
    return out;
  }

  void backward(const autograd::op_context<2>& ctx, const tensor<T, B>& g, std::array<tensor<T, B>, 2>& grads) {
    tensor<T, B> da, db;
    if (ctx.needs(0)) da = tensor<T, B>::empty(a.shape());
    if (ctx.needs(1)) db = tensor<T, B>::empty(b.shape());
    pairwise_distance_backward(B{}, geom, a.data(), b.data(), dist.data(), g.data(), da.data(), db.data());
    grads[0] = std::move(da);
    grads[1] = std::move(db);
  }
};

}  // namespace ops_detail

template <class T, class B>
tensor<T, B> l2_normalize(const tensor<T, B>& x, int axis, double eps = 1e-12) {
  require<shape_error>(x.defined(), "l2_normalize: the input is an undefined tensor");
  require<value_error>(eps >= 0 && std::isfinite(eps), "l2_normalize: eps must be finite and >= 0, got ", eps);
  ops_detail::l2_normalize_op<T, B> op;
  op.geom = kernels::make_axis_geom(x.shape(), x.shape().axis(axis, "l2_normalize"));
  op.eps = eps;
  return autograd::apply(std::move(op), x);
}

template <class T, class B>
tensor<T, B> pairwise_distance(const tensor<T, B>& a, const tensor<T, B>& b) {
  require<shape_error>(a.defined() && b.defined(), "pairwise_distance: an operand is an undefined tensor");
  const kpt::shape &sa = a.shape(), &sb = b.shape();
  require<shape_error>((sa.rank() == 2 || sa.rank() == 3) && sa.rank() == sb.rank(), "pairwise_distance: a ",
                       sa.str(), " and b ", sb.str(), " must both be [N, D] and [M, D] or both [Bt, N, D] and [Bt, M, D]");
  const int r = sa.rank();
  require<shape_error>(sa[r - 1] == sb[r - 1], "pairwise_distance: a ", sa.str(), " and b ", sb.str(),
                       " have different feature sizes (last axis ", sa[r - 1], " vs ", sb[r - 1], ")");
  require<shape_error>(r == 2 || sa[0] == sb[0], "pairwise_distance: a ", sa.str(), " and b ", sb.str(),
                       " have different batch sizes (", sa[0], " vs ", sb[0], ")");
  ops_detail::pairwise_distance_op<T, B> op;
  op.geom = {r == 3 ? sa[0] : 1, sa[r - 2], sb[r - 2], sa[r - 1]};
  return autograd::apply(std::move(op), a, b);
}

}  // namespace kpt
