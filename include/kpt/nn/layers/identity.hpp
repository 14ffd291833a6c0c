#pragma once
// nn::identity: passes x through (torch.nn.Identity); a placeholder where a config switches a
// layer off (KeyPointNet without dropout). No state; channels unchanged.
#include "kpt/nn/module.hpp"

namespace kpt::nn {

struct identity {
  template <int In>
  static constexpr int out_channels = In;
  template <int In, class T, class B>
  struct layer {
    tensor<T, B> forward(const tensor<T, B>& x) const { return x; }
  };
};

}  // namespace kpt::nn
