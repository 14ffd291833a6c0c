#pragma once
// dropout(x, p, seed, training) and dropout2d(x [N, C, ...], p, seed, training). Kept values are
// scaled by 1 / (1 - p). The mask is drawn from kpt::counter_uniform(seed, k) (k = element, or
// plane n * C + c for dropout2d), so it is the same with any thread count and a given seed
// always drops the same positions. Identity when !training or p == 0.
#include <cstdint>

#include "kpt/autograd/apply.hpp"
#include "kpt/kernels/dropout.hpp"

namespace kpt {

namespace ops_detail {

template <class T, class B>
tensor<T, B> dropout_map(const kernels::dropout_geom& g, const tensor<T, B>& x) {
  auto y = tensor<T, B>::empty(x.shape());
  dropout_apply(B{}, g, x.data(), y.data());
  return y;
}

template <bool Planes, class T, class B>
struct dropout_op {
  static constexpr std::string_view name = Planes ? "dropout2d" : "dropout";
  kernels::dropout_geom geom{};

  tensor<T, B> forward(const autograd::op_context<1>&, const tensor<T, B>& x) { return dropout_map(geom, x); }
  // The same seed gives the same mask: backward is the forward map on the gradient.
  void backward(const autograd::op_context<1>& ctx, const tensor<T, B>& g, std::array<tensor<T, B>, 1>& grads) {
    if (ctx.needs(0)) grads[0] = dropout_map(geom, g);
  }
};

inline void check_dropout_p(const char* op, double p) {
  require<value_error>(p >= 0.0 && p < 1.0, op, ": p must be in [0, 1), got ", p);
}

}  // namespace ops_detail

template <class T, class B>
tensor<T, B> dropout(const tensor<T, B>& x, double p, std::uint64_t seed, bool training = true) {
  ops_detail::check_dropout_p("dropout", p);
  require<shape_error>(x.defined(), "dropout: x is an undefined tensor");
  if (!training || p == 0.0) return x;
  ops_detail::dropout_op<false, T, B> op;
  op.geom = {x.numel(), 1, p, seed};
  return autograd::apply(std::move(op), x);
}

// Drops whole (sample, channel) planes of x [N, C, ...].
template <class T, class B>
tensor<T, B> dropout2d(const tensor<T, B>& x, double p, std::uint64_t seed, bool training = true) {
  ops_detail::check_dropout_p("dropout2d", p);
  require<shape_error>(x.defined(), "dropout2d: x is an undefined tensor");
  require<shape_error>(x.rank() >= 2, "dropout2d: expects x of shape [N, C, ...], got ", x.shape().str());
  if (!training || p == 0.0) return x;
  const index_t planes = x.size(0) * x.size(1);
  ops_detail::dropout_op<true, T, B> op;
  op.geom = {planes, planes ? x.numel() / planes : 0, p, seed};
  return autograd::apply(std::move(op), x);
}

}  // namespace kpt
