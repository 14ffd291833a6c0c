#pragma once
// Eval-mode BatchNorm folded into the convolution before it (used by nn::seq for a stack that
// starts with a conv2d and a batch_norm: KP2D's conv blocks, rpautrat's SuperPoint blocks with
// BatchNorm before the ReLU). With running statistics BatchNorm is an affine map per channel,
// y = s * conv(x) + (beta - s * mean) with s = gamma / sqrt(var + eps), so scaling the weights by s
// and using the shift as the bias gives the same result in one pass over the activations instead
// of two. The folded weights are rebuilt per call (O(weights), against O(weights x pixels) for the
// convolution) from ops, so gradients still reach the conv and BatchNorm parameters when autograd
// records.
#include <concepts>
#include <span>
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

// conv followed by bn (in eval mode) as one convolution.
template <class Conv, class BN, class T, class B>
tensor<T, B> conv_bn_eval(const Conv& conv, const BN& bn, const tensor<T, B>& x) {
  const auto scale = div(bn.weight, sqrt(add_scalar(bn.running_var, bn.options.eps)));
  auto shift = sub(bn.bias, mul(bn.running_mean, scale));
  if (conv.bias.defined()) shift = add(shift, mul(conv.bias, scale));
  // As [O, C*KH*KW] rows times [O, 1]: broadcasting runs along the last axis, and [O, C, KH, KW]
  // would make rows of KW elements (that cost 13 % of a KeyPointNet inference).
  const index_t O = conv.weight.size(0);
  const kpt::shape& ws = conv.weight.shape();
  const auto w = reshape(mul(reshape(conv.weight, {O, -1}), reshape(scale, {O, 1})), std::span(ws.begin(), ws.end()));
  return kpt::conv2d(x, w, shift, conv.options);
}

}  // namespace kpt::nn::detail
