#pragma once
// nn::relu: the element-wise map max(x, 0) (torch.nn.ReLU). No state; channels unchanged.
#include "kpt/nn/module.hpp"
#include "kpt/ops/pointwise.hpp"

namespace kpt::nn {

struct relu {
  template <int In>
  static constexpr int out_channels = In;
  template <int In, class T, class B>
  struct layer {
    tensor<T, B> forward(const tensor<T, B>& x) const { return kpt::relu(x); }
    // A conv2d before it applies it in its own kernel (nn/conv_fusion.hpp).
    static constexpr double fused_slope() { return 0; }
  };
};

}  // namespace kpt::nn
