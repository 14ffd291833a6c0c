#pragma once
// What nn::seq runs as one convolution (seq.hpp finds the patterns, this header runs them):
//  - conv2d then batch_norm in eval mode (KP2D's conv blocks, rpautrat's SuperPoint blocks with
//    BatchNorm before the ReLU): with running statistics BatchNorm is an affine map per channel,
//    y = s * conv(x) + (beta - s * mean) with s = gamma / sqrt(var + eps), so scaling the weights
//    by s and using the shift as the bias gives the same result in one pass over the activations
//    instead of two. The folded weights are rebuilt per call (O(weights), against
//    O(weights x pixels) for the convolution) from ops, so gradients still reach the conv and
//    BatchNorm parameters when autograd records.
//  - a convolution (conv2d, such a folded pair, or a nested seq that is exactly one) then relu, or
//    leaky_relu with a slope >= 0, under no_grad (inference): the convolution kernel applies the
//    activation as it stores each output (kpt::conv2d_leaky_relu), so the activation costs no pass
//    of its own over the output (SuperPoint's conv-ReLU pairs; KeyPointNet's blocks in eval mode).
//    With gradients on, the two ops run apart: the fused op's backward would hold its output and
//    two gradients at once (+200 MB at the peak of a SuperPoint training step, bench/macro), for a
//    forward pass saved.
#include <concepts>
#include <optional>
#include <span>
#include <tuple>
#include <type_traits>

#include "kpt/ops/binary.hpp"
#include "kpt/ops/conv.hpp"
#include "kpt/ops/norm.hpp"
#include "kpt/ops/pointwise.hpp"
#include "kpt/ops/shape.hpp"

namespace kpt::nn::detail {

// The layer inside nn::named wrappers (which only add a state_dict name).
template <class L>
auto& unwrap_named(L& l) {
  if constexpr (requires { L::name; l.inner; }) return unwrap_named(l.inner);
  else return l;
}
template <class L>
using unwrapped_t = std::remove_cvref_t<decltype(unwrap_named(std::declval<L&>()))>;

template <class L>
concept conv2d_layer = requires(L& l) {
  { l.options } -> std::same_as<conv2d_options&>;
  l.weight;
  l.bias;
};
template <class L>
concept batch_norm_layer = requires(L& l) {
  { l.options } -> std::same_as<batch_norm_options&>;
  l.weight;
  l.bias;
  l.running_mean;
  l.running_var;
};
template <class A, class B>
concept conv_bn_pair = conv2d_layer<unwrapped_t<A>> && batch_norm_layer<unwrapped_t<B>>;

// An activation a convolution can absorb says so with fused_slope() (nn::relu: 0, nn::leaky_relu:
// its slope, absorbed only when >= 0).
template <class L>
concept activation_layer = requires(const L& l) {
  { l.fused_slope() } -> std::convertible_to<double>;
};

// A nested stack that is exactly conv2d, batch_norm (KeyPointNet's block).
template <class L>
consteval bool is_conv_bn_stack() {
  if constexpr (requires { typename L::tuple_type; }) {
    using tuple = typename L::tuple_type;
    if constexpr (std::tuple_size_v<tuple> == 2)
      return conv_bn_pair<std::tuple_element_t<0, tuple>, std::tuple_element_t<1, tuple>>;
    else return false;
  } else {
    return false;
  }
}

// conv's convolution of x with weights w and bias b (undefined: none), then in the same op the
// activation of the given slope (std::nullopt: none).
template <class Conv, class T, class B>
tensor<T, B> conv_activated(const Conv& conv, const tensor<T, B>& x, const tensor<T, B>& w, const tensor<T, B>& b,
                            std::optional<double> slope) {
  return slope ? kpt::conv2d_leaky_relu(x, w, b, conv.options, *slope) : kpt::conv2d(x, w, b, conv.options);
}

// conv followed by bn (in eval mode) as one convolution, then the activation of the given slope.
template <class Conv, class BN, class T, class B>
tensor<T, B> conv_bn_eval(const Conv& conv, const BN& bn, const tensor<T, B>& x, std::optional<double> slope) {
  const auto scale = div(bn.weight, sqrt(add_scalar(bn.running_var, bn.options.eps)));
  auto shift = sub(bn.bias, mul(bn.running_mean, scale));
  if (conv.bias.defined()) shift = add(shift, mul(conv.bias, scale));
  // As [O, C*KH*KW] rows times [O, 1]: broadcasting runs along the last axis, and [O, C, KH, KW]
  // would make rows of KW elements (that cost 13 % of a KeyPointNet inference).
  const index_t O = conv.weight.size(0);
  const kpt::shape& ws = conv.weight.shape();
  const auto w = reshape(mul(reshape(conv.weight, {O, -1}), reshape(scale, {O, 1})), std::span(ws.begin(), ws.end()));
  return conv_activated(conv, x, w, shift, slope);
}

}  // namespace kpt::nn::detail
