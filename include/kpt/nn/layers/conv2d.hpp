#pragma once
// nn::conv2d<Out, K, options...>: a 2-D convolution with Out output channels and a K x K kernel;
// the input channel count comes from the previous layer. Options (types, any order):
//   nn::no_bias        no bias tensor (PyTorch bias=False)
//   nn::stride<S>      stride S (default 1)
//   nn::pad<P>         zero padding P (default K / 2: "same" for odd K; PyTorch's default is 0)
// Parameters: weight [Out, In, K, K], bias [Out] (names "weight", "bias" as torch.nn.Conv2d),
// initialised as PyTorch does (nn::init_conv).
#include "kpt/nn/module.hpp"
#include "kpt/ops/conv.hpp"

namespace kpt::nn {

struct no_bias {};
template <int S>
struct stride {
  static constexpr int value = S;
};
template <int P>
struct pad {
  static constexpr int value = P;
};

namespace detail {
template <template <int> class Opt, int Default, class... Opts>
struct int_option {
  static constexpr int value = Default;
};
template <template <int> class Opt, int Default, int V, class... Rest>
struct int_option<Opt, Default, Opt<V>, Rest...> {
  static constexpr int value = V;
};
template <template <int> class Opt, int Default, class First, class... Rest>
struct int_option<Opt, Default, First, Rest...> : int_option<Opt, Default, Rest...> {};

template <class O>
constexpr bool is_conv_option = std::is_same_v<O, no_bias>;
template <int S>
constexpr bool is_conv_option<stride<S>> = true;
template <int P>
constexpr bool is_conv_option<pad<P>> = true;

// The parts shared by conv1d and conv2d layers.
template <class T, class B>
struct conv_params {
  tensor<T, B> weight, bias;

  conv_params(const kpt::shape& w, index_t out, bool with_bias, rng& g) {
    weight = make_parameter<T, B>(w);
    if (with_bias) bias = make_parameter<T, B>({out});
    init_conv(weight, bias, g);
  }
  void reset_parameters(rng& g) { init_conv(weight, bias, g); }
  template <class F>
  void visit(path& p, F& f) {
    f(p.join("weight"), weight, param_kind::parameter);
    if (bias.defined()) f(p.join("bias"), bias, param_kind::parameter);
  }
};
}  // namespace detail

template <int Out, int K, class... Opts>
struct conv2d {
  static_assert(Out > 0 && K > 0, "nn::conv2d<Out, K>: Out and K must be positive");
  static_assert((detail::is_conv_option<Opts> && ...),
                "nn::conv2d<Out, K, options...>: options are nn::no_bias, nn::stride<S>, nn::pad<P>");
  static constexpr bool has_bias = !(std::is_same_v<Opts, no_bias> || ...);
  static constexpr int stride_v = detail::int_option<stride, 1, Opts...>::value;
  static constexpr int pad_v = detail::int_option<pad, K / 2, Opts...>::value;
  static_assert(stride_v >= 1 && pad_v >= 0, "nn::conv2d: stride must be >= 1 and padding >= 0");
  static_assert(K % 2 == 1 || (detail::int_option<pad, -1, Opts...>::value >= 0),
                "nn::conv2d<Out, K>: 'same' padding needs an odd K; give the padding with nn::pad<P>");

  template <int In>
  static constexpr int out_channels = Out;

  template <int In, class T, class B>
  struct layer : detail::conv_params<T, B> {
    static constexpr int in_channels = In, out_channels = Out, kernel = K;
    conv2d_options options{stride_v, pad_v};

    explicit layer(rng& g) : detail::conv_params<T, B>({Out, In, K, K}, Out, has_bias, g) {}
    explicit layer(rng&& g) : layer(g) {}
    layer() : layer(rng(0)) {}  // initialised from kpt::rng(0)
    tensor<T, B> forward(const tensor<T, B>& x) const { return kpt::conv2d(x, this->weight, this->bias, options); }
  };
};

}  // namespace kpt::nn
