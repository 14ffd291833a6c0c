#pragma once
// nn::leaky_relu<Slope = 0.01>: x for x >= 0, Slope * x otherwise (torch.nn.LeakyReLU's default
// slope). No state; channels unchanged; `slope` may be changed at run time.
#include "kpt/nn/module.hpp"
#include "kpt/ops/pointwise.hpp"

namespace kpt::nn {

template <double Slope = 0.01>
struct leaky_relu {
  template <int In>
  static constexpr int out_channels = In;
  template <int In, class T, class B>
  struct layer {
    double slope = Slope;
    tensor<T, B> forward(const tensor<T, B>& x) const { return kpt::leaky_relu(x, slope); }
    // A conv2d before it applies it in its own kernel when slope >= 0 (nn/conv_fusion.hpp).
    double fused_slope() const { return slope; }
  };
};

}  // namespace kpt::nn
