#pragma once
// models::ionet<Config, T, B>: KP2D's IO-Net (InlierNet(blocks=4), adapted from NG-RANSAC; SPEC
// 5.2) with TRI-ML/KP2D's state_dict: p_in.0.weight (conv 1x1, no bias), p_in.1.* (BatchNorm,
// momentum 0.9), then per block i: {i}s0 (conv), {i}s1 (BatchNorm), {i}s2 (conv), {i}s3 (BatchNorm),
// and p_out.weight / p_out.bias. 135,169 parameters.
//
// Input [N, 5, P, 1] as the reference (1x1 Conv2d over P points; [N, 5, P] is accepted and
// reshaped); output the raw logits [N, 1, P, 1], as InlierNet.forward returns them.
// Each residual block: x + relu(bn(in(conv(relu(bn(in(conv(x))))))) with in = instance norm.
#include <cstdint>
#include <utility>

#include "kpt/nn/layers/batch_norm.hpp"
#include "kpt/nn/layers/conv2d.hpp"
#include "kpt/nn/layers/instance_norm.hpp"
#include "kpt/nn/layers/relu.hpp"
#include "kpt/nn/layers/residual.hpp"
#include "kpt/nn/named.hpp"
#include "kpt/nn/seq.hpp"
#include "kpt/models/model_base.hpp"
#include "kpt/ops/shape.hpp"

namespace kpt::models {

struct ionet_kp2d {
  static constexpr int in_channels = 5;          // u_s, v_s, u_t, v_t, descriptor distance
  static constexpr int width = 128;
  static constexpr int blocks = 4;
  static constexpr double in_bn_momentum = 0.9;  // p_in's BatchNorm (as the reference)
  static constexpr double bn_momentum = 0.1;     // the blocks' BatchNorms
};

template <class C>
concept ionet_config = requires {
  { C::in_channels } -> std::convertible_to<int>;
  { C::width } -> std::convertible_to<int>;
  { C::blocks } -> std::convertible_to<int>;
  { C::in_bn_momentum } -> std::convertible_to<double>;
  { C::bn_momentum } -> std::convertible_to<double>;
};

namespace ionet_detail {


template <class C, unsigned I>
using block = nn::residual<nn::named<nn::number_name<I, "s0">(), nn::conv2d<C::width, 1>>, nn::instance_norm<>,
                       nn::named<nn::number_name<I, "s1">(), nn::batch_norm<C::bn_momentum>>, nn::relu,
                       nn::named<nn::number_name<I, "s2">(), nn::conv2d<C::width, 1>>, nn::instance_norm<>,
                       nn::named<nn::number_name<I, "s3">(), nn::batch_norm<C::bn_momentum>>, nn::relu>;

template <class C, class Blocks>
struct spec_impl;
template <class C, std::size_t... I>
struct spec_impl<C, std::index_sequence<I...>> {
  using type = nn::seq<nn::named<"p_in", nn::seq<nn::conv2d<C::width, 1, nn::no_bias>, nn::batch_norm<C::in_bn_momentum>>>, nn::relu,
                   block<C, unsigned(I)>..., nn::named<"p_out", nn::conv2d<1, 1>>>;
};

template <class C>
using spec = typename spec_impl<C, std::make_index_sequence<std::size_t(C::blocks)>>::type;

}  // namespace ionet_detail

template <ionet_config Config, class T = float, class B = cpu>
class ionet : public model_base<ionet_detail::spec<Config>, Config::in_channels, T, B> {
  using base = model_base<ionet_detail::spec<Config>, Config::in_channels, T, B>;

  static_assert(Config::blocks >= 0, "models::ionet<Config>: Config::blocks must be >= 0");

 public:
  using config = Config;
  using typename base::tensor_type;
  using base::net;

  explicit ionet(rng& g) : base(g) {}
  explicit ionet(std::uint64_t seed = 0) : base(seed) {}

  // x: [N, in_channels, P, 1] or [N, in_channels, P] -> logits [N, 1, P, 1].
  tensor_type forward(const tensor_type& x) {
    require<shape_error>(x.defined() && (x.rank() == 4 || x.rank() == 3) && x.size(1) == Config::in_channels &&
                             (x.rank() == 3 || x.size(3) == 1),
                         "ionet: expects [N, ", Config::in_channels, ", P, 1] or [N, ", Config::in_channels,
                         ", P], got ", x.defined() ? x.shape().str() : std::string("an undefined tensor"));
    if (x.rank() == 3) return net.forward(reshape(x, {x.size(0), x.size(1), x.size(2), 1}));
    return net.forward(x);
  }
  tensor_type operator()(const tensor_type& x) { return forward(x); }
};

}  // namespace kpt::models
