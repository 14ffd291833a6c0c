#pragma once
// nn::l2_normalize<Axis = 1>: x / max(||x||_2, eps) along Axis (channels by default), as
// torch.nn.functional.normalize(x, p=2, dim=Axis, eps=1e-12). No state; `eps` may be changed.
#include "kpt/nn/module.hpp"
#include "kpt/ops/distance.hpp"

namespace kpt::nn {

template <int Axis = 1>
struct l2_normalize {
  template <int In>
  static constexpr int out_channels = In;
  template <int In, class T, class B>
  struct layer {
    double eps = 1e-12;
    tensor<T, B> forward(const tensor<T, B>& x) const { return kpt::l2_normalize(x, Axis, eps); }
  };
};

}  // namespace kpt::nn
