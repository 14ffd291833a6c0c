#pragma once
// nn::sigmoid: the element-wise map 1 / (1 + exp(-x)) (torch.nn.Sigmoid). No state; channels unchanged.
#include "kpt/nn/module.hpp"
#include "kpt/ops/pointwise.hpp"

namespace kpt::nn {

struct sigmoid {
  template <int In>
  static constexpr int out_channels = In;
  template <int In, class T, class B>
  struct layer {
    tensor<T, B> forward(const tensor<T, B>& x) const { return kpt::sigmoid(x); }
  };
};

}  // namespace kpt::nn
