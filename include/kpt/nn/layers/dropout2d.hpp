#pragma once
// nn::dropout2d<P = 0.2>: torch.nn.Dropout2d: in training mode each (sample, channel) plane is
// zeroed with probability p and the others scaled by 1 / (1 - p); identity in eval mode.
// Masks are reproducible: the layer draws a seed from the construction rng, and forward call k
// uses the mask of seed splitmix64(seed + k) (kpt::dropout2d), with any thread count. `options.p`
// may be changed at run time (0 disables the layer); `calls` may be reset to replay masks.
#include "kpt/nn/module.hpp"
#include "kpt/ops/dropout.hpp"

namespace kpt::nn {

struct dropout_options {
  double p = 0.5;
};

template <double P = 0.2>
struct dropout2d {
  static_assert(P >= 0 && P < 1, "nn::dropout2d<P>: P must be in [0, 1)");
  template <int In>
  static constexpr int out_channels = In;

  template <int In, class T, class B>
  struct layer {
    dropout_options options{P};
    bool training = true;
    std::uint64_t seed = 0, calls = 0;

    explicit layer(rng& g) : seed(g()) {}
    explicit layer(rng&& g) : layer(g) {}
    layer() : layer(rng(0)) {}  // initialised from kpt::rng(0)
    void reset_parameters(rng& g) {
      seed = g();
      calls = 0;
    }
    void train(bool on = true) { training = on; }
    tensor<T, B> forward(const tensor<T, B>& x) {
      if (!training || options.p == 0.0) return x;
      return kpt::dropout2d(x, options.p, splitmix64(seed + calls++), true);
    }
  };
};

}  // namespace kpt::nn
