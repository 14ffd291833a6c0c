#pragma once
// nn::pixel_shuffle<R>: [N, C*R*R, H, W] -> [N, C, H*R, W*R] (torch.nn.PixelShuffle). The layer
// before it must output a multiple of R*R channels (checked at compile time).
#include "kpt/nn/module.hpp"
#include "kpt/ops/shuffle.hpp"

namespace kpt::nn {

template <int R>
struct pixel_shuffle {
  static_assert(R >= 1, "nn::pixel_shuffle<R>: R must be >= 1");

  template <class Prev, int In>
  static consteval bool check() {
    static_assert(In % (R * R) == 0,
                  "kpt::nn channel mismatch: nn::pixel_shuffle<R> needs the previous layer to output a multiple of "
                  "R*R channels; change the previous layer's output channels (e.g. conv2d<C*R*R, ...>) or R");
    return true;
  }
  template <int In>
  static constexpr int out_channels = In / (R * R);

  template <int In, class T, class B>
  struct layer {
    tensor<T, B> forward(const tensor<T, B>& x) const { return kpt::pixel_shuffle(x, R); }
  };
};

}  // namespace kpt::nn
