#pragma once
// max_pool2d(x [N, C, H, W], kernel, stride = kernel, padding = 0), as torch max_pool2d
// (ceil_mode = false, padding with -inf). The gradient goes to the first maximum of each window.
#include <cstdint>

#include "kpt/autograd/apply.hpp"
#include "kpt/kernels/pool.hpp"

namespace kpt {

namespace ops_detail {

template <class T, class B>
struct max_pool2d_op {
  static constexpr std::string_view name = "max_pool2d";
  index_t kernel = 1, stride = 0, padding = 0;
  kernels::pool2d_geom geom{};
  tensor<std::int64_t, B> argmax;  // saved for backward

  tensor<T, B> forward(const autograd::op_context<1>& ctx, const tensor<T, B>& x) {
    require<shape_error>(x.defined(), "max_pool2d: x is an undefined tensor");
    geom = kernels::make_pool2d("max_pool2d", x.shape(), kernel, stride, padding);
    auto y = tensor<T, B>::empty({geom.n, geom.c, geom.oh, geom.ow});
    std::int64_t* at = nullptr;
    if (ctx.recording) {
      argmax = tensor<std::int64_t, B>::empty(y.shape());
      at = argmax.data();
    }
    max_pool2d_forward(B{}, geom, x.data(), y.data(), at);
    return y;
  }

  void backward(const autograd::op_context<1>& ctx, const tensor<T, B>& g, std::array<tensor<T, B>, 1>& grads) {
    if (!ctx.needs(0)) return;
    auto gx = tensor<T, B>::empty({geom.n, geom.c, geom.h, geom.w});
    max_pool2d_backward(B{}, geom, g.data(), argmax.data(), gx.data());
    grads[0] = std::move(gx);
  }
};

}  // namespace ops_detail

// stride 0 means stride = kernel; padding must be at most kernel / 2.
template <class T, class B>
tensor<T, B> max_pool2d(const tensor<T, B>& x, index_t kernel, index_t stride = 0, index_t padding = 0) {
  ops_detail::max_pool2d_op<T, B> op;
  op.kernel = kernel;
  op.stride = stride;
  op.padding = padding;
  return autograd::apply(std::move(op), x);
}

}  // namespace kpt
