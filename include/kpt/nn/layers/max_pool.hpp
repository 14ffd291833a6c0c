#pragma once
// nn::max_pool<K, S = K, P = 0>: 2-D max pooling over K x K windows with stride S and padding P
// (torch.nn.MaxPool2d, ceil_mode false). No state; channels unchanged.
#include "kpt/nn/module.hpp"
#include "kpt/ops/pool.hpp"

namespace kpt::nn {

template <int K, int S = K, int P = 0>
struct max_pool {
  static_assert(K >= 1 && S >= 1 && P >= 0 && 2 * P <= K,
                "nn::max_pool<K, S, P>: needs K >= 1, S >= 1 and 0 <= P <= K / 2");
  template <int In>
  static constexpr int out_channels = In;
  template <int In, class T, class B>
  struct layer {
    tensor<T, B> forward(const tensor<T, B>& x) const { return kpt::max_pool2d(x, K, S, P); }
  };
};

}  // namespace kpt::nn
