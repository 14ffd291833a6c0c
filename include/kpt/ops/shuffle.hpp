#pragma once
// pixel_shuffle(x [N, C*r*r, H, W], r) -> [N, C, H*r, W*r] and its exact inverse
// space_to_depth(x [N, C, H*r, W*r], r) -> [N, C*r*r, H, W] (torch pixel_shuffle / pixel_unshuffle).
#include "kpt/autograd/apply.hpp"
#include "kpt/kernels/shuffle.hpp"

namespace kpt {

namespace ops_detail {

template <class T, class B>
tensor<T, B> shuffle_lo_to_hi(const kernels::shuffle_geom& g, const tensor<T, B>& lo) {
  auto hi = tensor<T, B>::empty({g.n, g.c, g.h * g.r, g.w * g.r});
  pixel_shuffle(B{}, g, lo.data(), hi.data());
  return hi;
}
template <class T, class B>
tensor<T, B> shuffle_hi_to_lo(const kernels::shuffle_geom& g, const tensor<T, B>& hi) {
  auto lo = tensor<T, B>::empty({g.n, g.c * g.r * g.r, g.h, g.w});
  space_to_depth(B{}, g, hi.data(), lo.data());
  return lo;
}

inline void check_shuffle_args(const char* op, bool defined, const kpt::shape& s, index_t r) {
  require<shape_error>(defined, op, ": x is an undefined tensor");
  require<shape_error>(s.rank() == 4, op, ": expects x of shape [N, C, H, W], got ", s.str());
  require<value_error>(r >= 1, op, ": the factor r must be at least 1, got ", r);
}

// to_hi = true: pixel_shuffle; false: space_to_depth. Each is the other's backward.
template <bool ToHi, class T, class B>
struct shuffle_op {
  static constexpr std::string_view name = ToHi ? "pixel_shuffle" : "space_to_depth";
  kernels::shuffle_geom geom{};

  tensor<T, B> forward(const autograd::op_context<1>&, const tensor<T, B>& x) {
    return ToHi ? shuffle_lo_to_hi(geom, x) : shuffle_hi_to_lo(geom, x);
  }
  void backward(const autograd::op_context<1>& ctx, const tensor<T, B>& g, std::array<tensor<T, B>, 1>& grads) {
    if (ctx.needs(0)) grads[0] = ToHi ? shuffle_hi_to_lo(geom, g) : shuffle_lo_to_hi(geom, g);
  }
};

}  // namespace ops_detail

template <class T, class B>
tensor<T, B> pixel_shuffle(const tensor<T, B>& x, index_t r) {
  ops_detail::check_shuffle_args("pixel_shuffle", x.defined(), x.defined() ? x.shape() : kpt::shape{}, r);
  const auto& s = x.shape();
  require<shape_error>(s[1] % (r * r) == 0, "pixel_shuffle: channels of x ", s.str(),
                       " must be divisible by r * r = ", r * r);
  ops_detail::shuffle_op<true, T, B> op;
  op.geom = {s[0], s[1] / (r * r), s[2], s[3], r};
  return autograd::apply(std::move(op), x);
}

template <class T, class B>
tensor<T, B> space_to_depth(const tensor<T, B>& x, index_t r) {
  ops_detail::check_shuffle_args("space_to_depth", x.defined(), x.defined() ? x.shape() : kpt::shape{}, r);
  const auto& s = x.shape();
  require<shape_error>(s[2] % r == 0 && s[3] % r == 0, "space_to_depth: height and width of x ", s.str(),
                       " must be divisible by r = ", r);
  ops_detail::shuffle_op<false, T, B> op;
  op.geom = {s[0], s[1], s[2] / r, s[3] / r, r};
  return autograd::apply(std::move(op), x);
}

}  // namespace kpt
