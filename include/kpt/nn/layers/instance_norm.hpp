#pragma once
// nn::instance_norm<Eps = 1e-5>: torch.nn.functional.instance_norm without affine map or running
// statistics: each (sample, channel) plane normalised with its own mean and biased variance, in
// training and eval alike. No state.
#include "kpt/nn/module.hpp"
#include "kpt/ops/norm.hpp"

namespace kpt::nn {

template <double Eps = 1e-5>
struct instance_norm {
  static_assert(Eps >= 0, "nn::instance_norm<Eps>: Eps must be >= 0");
  template <int In>
  static constexpr int out_channels = In;

  template <int In, class T, class B>
  struct layer {
    double eps = Eps;
    tensor<T, B> forward(const tensor<T, B>& x) const { return kpt::instance_norm(x, eps); }
  };
};

}  // namespace kpt::nn
