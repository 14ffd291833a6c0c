#pragma once
// models::superpoint<Config, T, B>: SuperPoint (DeTone et al. 2018) and MagicPoint as one type per
// config (SPEC 1.1-1.2). The network is a flat nn stack: a VGG-style encoder (four stages of two
// 3x3 convs, 2x2 max pools between them: cell = 8) forked into a detector head (cell*cell + 1 logits
// per cell, "semi") and, unless the config turns it off, a descriptor head (L2-normalised over the
// channels, at 1/8 resolution). forward returns the raw head outputs; decoding to keypoints is
// separate.
//
// Two state_dict layouts, chosen by Config::batch_norm:
//  - false: magicleap's SuperPointNet (superpoint_v1.pth): conv1a ... conv4b, convPa, convPb, convDa,
//    convDb, each with weight and bias. 1,300,865 parameters; MagicPoint 939,905.
//  - true: rpautrat's PyTorch port (superpoint_pytorch.py): every conv is a VGGBlock
//    conv -> ReLU -> BatchNorm(eps 1e-3) (the final 1x1 convs without ReLU), keys
//    backbone.{stage}.{0,1}.{conv,bn}.*, detector.{0,1}.*, descriptor.{0,1}.*. 1,304,067 parameters
//    plus BN buffers. Config::bn_before_relu = true gives eric-yyjau's order conv -> BN -> ReLU.
#include <array>
#include <cstdint>
#include <tuple>

#include "kpt/nn/fork.hpp"
#include "kpt/nn/layers/batch_norm.hpp"
#include "kpt/nn/layers/conv2d.hpp"
#include "kpt/nn/layers/l2_normalize.hpp"
#include "kpt/nn/layers/max_pool.hpp"
#include "kpt/nn/layers/relu.hpp"
#include "kpt/nn/named.hpp"
#include "kpt/nn/seq.hpp"
#include "kpt/models/model_base.hpp"

namespace kpt::models {

// magicleap's released SuperPoint (no BatchNorm).
struct superpoint_magicleap {
  static constexpr int in_channels = 1;                           // grayscale in [0, 1]
  static constexpr std::array<int, 4> widths = {64, 64, 128, 128};  // encoder stages 1-4
  static constexpr int head_width = 256;                          // convPa / convDa
  static constexpr int descriptor_size = 256;                     // convDb
  static constexpr int cell = 8;                                  // 2^3: three 2x2 pools
  static constexpr bool descriptor_head = true;                   // false: MagicPoint
  static constexpr bool batch_norm = false;                       // true: rpautrat layout with BN
  static constexpr bool bn_before_relu = false;                   // BN layout only: conv-BN-ReLU order
  static constexpr double bn_momentum = 0.1;                      // BN layout only
  static constexpr double bn_eps = 1e-3;                          // BN layout only (TF default)
};
// SuperPoint with BatchNorm after every conv (rpautrat's PyTorch port; loads superpoint_v6_from_tf.pth).
struct superpoint_bn : superpoint_magicleap {
  static constexpr bool batch_norm = true;
};
// MagicPoint: encoder + detector head (SuperPoint's first training stage).
struct magicpoint : superpoint_magicleap {
  static constexpr bool descriptor_head = false;
};
struct magicpoint_bn : superpoint_bn {
  static constexpr bool descriptor_head = false;
};

template <class C>
concept superpoint_config = requires {
  { C::in_channels } -> std::convertible_to<int>;
  { C::widths[3] } -> std::convertible_to<int>;
  { C::head_width } -> std::convertible_to<int>;
  { C::descriptor_size } -> std::convertible_to<int>;
  { C::cell } -> std::convertible_to<int>;
  { C::descriptor_head } -> std::convertible_to<bool>;
  { C::batch_norm } -> std::convertible_to<bool>;
  { C::bn_before_relu } -> std::convertible_to<bool>;
  { C::bn_momentum } -> std::convertible_to<double>;
  { C::bn_eps } -> std::convertible_to<double>;
};

namespace superpoint_detail {


// magicleap layout: named convs, ReLU applied by forward.
template <class C>
struct plain {
  static constexpr auto w = C::widths;
  using encoder = nn::seq<nn::named<"conv1a", nn::conv2d<w[0], 3>>, nn::relu, nn::named<"conv1b", nn::conv2d<w[0], 3>>, nn::relu, nn::max_pool<2>,
                      nn::named<"conv2a", nn::conv2d<w[1], 3>>, nn::relu, nn::named<"conv2b", nn::conv2d<w[1], 3>>, nn::relu, nn::max_pool<2>,
                      nn::named<"conv3a", nn::conv2d<w[2], 3>>, nn::relu, nn::named<"conv3b", nn::conv2d<w[2], 3>>, nn::relu, nn::max_pool<2>,
                      nn::named<"conv4a", nn::conv2d<w[3], 3>>, nn::relu, nn::named<"conv4b", nn::conv2d<w[3], 3>>, nn::relu>;
  using detector = nn::seq<nn::named<"convPa", nn::conv2d<C::head_width, 3>>, nn::relu, nn::named<"convPb", nn::conv2d<C::cell * C::cell + 1, 1>>>;
  using descriptor = nn::seq<nn::named<"convDa", nn::conv2d<C::head_width, 3>>, nn::relu,
                         nn::named<"convDb", nn::conv2d<C::descriptor_size, 1>>, nn::l2_normalize<1>>;
};

// rpautrat layout: VGGBlock = Sequential(conv, activation, bn) with named children.
template <class C, int Out, int K, bool Relu>
struct vgg_block_impl {
  using bn = nn::named<"bn", nn::batch_norm<C::bn_momentum, C::bn_eps>>;
  using conv = nn::named<"conv", nn::conv2d<Out, K>>;
  using type = std::conditional_t<!Relu, nn::seq<conv, bn>,
                                  std::conditional_t<C::bn_before_relu, nn::seq<conv, bn, nn::relu>, nn::seq<conv, nn::relu, bn>>>;
};
template <class C, int Out, int K, bool Relu = true>
using vgg_block = typename vgg_block_impl<C, Out, K, Relu>::type;

template <class C>
struct with_bn {
  static constexpr auto w = C::widths;
  using encoder = nn::named<"backbone", nn::seq<nn::seq<vgg_block<C, w[0], 3>, vgg_block<C, w[0], 3>, nn::max_pool<2>>,
                                       nn::seq<vgg_block<C, w[1], 3>, vgg_block<C, w[1], 3>, nn::max_pool<2>>,
                                       nn::seq<vgg_block<C, w[2], 3>, vgg_block<C, w[2], 3>, nn::max_pool<2>>,
                                       nn::seq<vgg_block<C, w[3], 3>, vgg_block<C, w[3], 3>>>>;
  using detector = nn::named<"detector", nn::seq<vgg_block<C, C::head_width, 3>, vgg_block<C, C::cell * C::cell + 1, 1, false>>>;
  using descriptor = nn::seq<nn::named<"descriptor", nn::seq<vgg_block<C, C::head_width, 3>, vgg_block<C, C::descriptor_size, 1, false>>>,
                         nn::l2_normalize<1>>;
};

template <class C>
struct spec {
  using parts = std::conditional_t<C::batch_norm, with_bn<C>, plain<C>>;
  using type = std::conditional_t<C::descriptor_head, nn::fork<typename parts::encoder, typename parts::detector, typename parts::descriptor>,
                                  nn::fork<typename parts::encoder, typename parts::detector>>;
};

}  // namespace superpoint_detail

template <superpoint_config Config, class T = float, class B = cpu>
class superpoint : public model_base<typename superpoint_detail::spec<Config>::type, Config::in_channels, T, B> {
  using base = model_base<typename superpoint_detail::spec<Config>::type, Config::in_channels, T, B>;

  static_assert(Config::cell == 8,
                "models::superpoint<Config>: Config::cell must be 8 (the encoder has three 2x2 max pools)");
  static_assert(Config::in_channels == 1 || Config::in_channels == 3,
                "models::superpoint<Config>: Config::in_channels must be 1 (gray) or 3");

 public:
  using config = Config;
  using typename base::tensor_type;
  using base::net;
  static constexpr bool has_descriptor = Config::descriptor_head;

  struct output {
    tensor_type semi;  // [N, cell*cell + 1, H/8, W/8] detector logits (the last channel is the dustbin)
    tensor_type desc;  // [N, descriptor_size, H/8, W/8] unit-norm descriptors (undefined for MagicPoint)
  };

  explicit superpoint(rng& g) : base(g) {}
  explicit superpoint(std::uint64_t seed = 0) : base(seed) {}

  // x: [N, in_channels, H, W], gray (or RGB when in_channels is 3) in [0, 1] (SPEC 1.3).
  output forward(const tensor_type& x) {
    require<shape_error>(x.defined() && x.rank() == 4 && x.size(1) == Config::in_channels, "superpoint: expects ",
                         "an image batch [N, ", Config::in_channels, ", H, W], got ",
                         x.defined() ? x.shape().str() : std::string("an undefined tensor"));
    require<shape_error>(x.size(2) >= Config::cell && x.size(3) >= Config::cell, "superpoint: the image ",
                         x.shape().str(), " is smaller than one ", Config::cell, "x", Config::cell, " cell");
    auto heads = net.forward(x);
    if constexpr (has_descriptor) return {std::get<0>(heads), std::get<1>(heads)};
    else return {std::get<0>(heads), tensor_type{}};
  }
  output operator()(const tensor_type& x) { return forward(x); }
};

}  // namespace kpt::models
