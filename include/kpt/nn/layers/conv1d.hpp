#pragma once
// nn::conv1d<Out, K, options...>: a 1-D convolution over [N, C, L] with Out output channels and
// kernel K; options as nn::conv2d (nn::no_bias, nn::stride<S>, nn::pad<P>; default padding K / 2).
// Parameters: weight [Out, In, K], bias [Out] (torch.nn.Conv1d's names and initialisation).
#include "kpt/nn/layers/conv2d.hpp"

namespace kpt::nn {

template <int Out, int K, class... Opts>
struct conv1d {
  static_assert(Out > 0 && K > 0, "nn::conv1d<Out, K>: Out and K must be positive");
  static_assert((detail::is_conv_option<Opts> && ...),
                "nn::conv1d<Out, K, options...>: options are nn::no_bias, nn::stride<S>, nn::pad<P>");
  static constexpr bool has_bias = !(std::is_same_v<Opts, no_bias> || ...);
  static constexpr int stride_v = detail::int_option<stride, 1, Opts...>::value;
  static constexpr int pad_v = detail::int_option<pad, K / 2, Opts...>::value;
  static_assert(K % 2 == 1 || (detail::int_option<pad, -1, Opts...>::value >= 0),
                "nn::conv1d<Out, K>: 'same' padding needs an odd K; give the padding with nn::pad<P>");

  template <int In>
  static constexpr int out_channels = Out;

  template <int In, class T, class B>
  struct layer : detail::conv_params<T, B> {
    static constexpr int in_channels = In, out_channels = Out, kernel = K;
    conv1d_options options{stride_v, pad_v};

    explicit layer(rng& g) : detail::conv_params<T, B>({Out, In, K}, Out, has_bias, g) {}
    explicit layer(rng&& g) : layer(g) {}
    layer() : layer(rng(0)) {}  // initialised from kpt::rng(0)
    tensor<T, B> forward(const tensor<T, B>& x) const { return kpt::conv1d(x, this->weight, this->bias, options); }
  };
};

}  // namespace kpt::nn
