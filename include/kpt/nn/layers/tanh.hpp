#pragma once
// nn::tanh: the element-wise map tanh(x) (torch.nn.Tanh). No state; channels unchanged.
#include "kpt/nn/module.hpp"
#include "kpt/ops/pointwise.hpp"

namespace kpt::nn {

struct tanh {
  template <int In>
  static constexpr int out_channels = In;
  template <int In, class T, class B>
  struct layer {
    tensor<T, B> forward(const tensor<T, B>& x) const { return kpt::tanh(x); }
  };
};

}  // namespace kpt::nn
