#pragma once
// models::keypointnet<Config, T, B>: KP2D's KeyPointNet (Tang et al., ICLR 2020; SPEC 5.1) as one
// type per config, with the state_dict of TRI-ML/KP2D's KeypointNet (master): conv1a ... conv4b,
// convDa, convDb, convPa, convPb, convFa, convFb, convFaa, convFbb; conv + BatchNorm blocks are
// two-element Sequentials ("conv1a.0.weight", "conv1a.1.running_mean", ...).
//
// forward(x) returns what KeypointNet.forward returns:
//   score [N, 1, H/8, W/8]  sigmoid, multiplied by the border-cell mask (first/last row and column 0)
//   coord [N, 2, H/8, W/8]  (x, y) pixels: cell centre + cross_ratio * 3.5 * tanh offset, clamped to
//                           [0, W-1] x [0, H-1]
//   desc  training: dense raw descriptors [N, D, H/4, W/4] (H/8 without upsampling);
//         eval: sampled at coord (bilinear, align_corners = true) and L2-normalised: [N, D, H/8, W/8].
// The input is the normalised image (normalize_input: (x - 0.5) * 0.225, and the channel mean for
// a gray config).
#include <array>
#include <cstdint>
#include <tuple>
#include <vector>

#include "kpt/nn/fork.hpp"
#include "kpt/nn/layers/batch_norm.hpp"
#include "kpt/nn/layers/conv2d.hpp"
#include "kpt/nn/layers/dropout2d.hpp"
#include "kpt/nn/layers/identity.hpp"
#include "kpt/nn/layers/leaky_relu.hpp"
#include "kpt/nn/layers/max_pool.hpp"
#include "kpt/nn/layers/pixel_shuffle.hpp"
#include "kpt/nn/layers/sigmoid.hpp"
#include "kpt/nn/layers/tanh.hpp"
#include "kpt/nn/named.hpp"
#include "kpt/nn/seq.hpp"
#include "kpt/nn/tap.hpp"
#include "kpt/models/model_base.hpp"
#include "kpt/ops/distance.hpp"
#include "kpt/ops/grid_sample.hpp"
#include "kpt/ops/pointwise.hpp"
#include "kpt/ops/reduce.hpp"
#include "kpt/ops/shape.hpp"

namespace kpt::models {

// KP2D V4, the paper's model: cross-border keypoints, descriptor upsampling, IO-Net, descriptor loss.
struct keypointnet_v4 {
  static constexpr bool color = true;                            // 3 input channels (false: 1)
  static constexpr std::array<int, 4> widths = {32, 64, 128, 256};  // encoder stages (c1..c4)
  static constexpr int head_width = 256;                         // convDa, convPa, convFa, convFaa (c5)
  static constexpr int upsample_width = 512;                     // convFb (d1); pixel shuffle -> d1 / 4
  static constexpr int descriptor_size = 256;                    // convFbb
  static constexpr int cell = 8;                                 // 2^3: three 2x2 pools
  static constexpr double cross_ratio = 2.0;                     // do_cross: 2 (offsets up to +-7 px); off: 1
  static constexpr bool upsample = true;                         // do_upsample
  static constexpr bool dropout = true;                          // with_drop
  static constexpr double dropout_p = 0.2;
  static constexpr double bn_momentum = 0.1;
  static constexpr double leaky_slope = 0.01;
  // Training switches (read by the KP2D losses and trainer, not by the network):
  static constexpr bool with_io = true;                          // IO-Net and its loss
  static constexpr bool descriptor_loss = true;
};
// The paper's ablations (KP2D configs v0-v3).
struct keypointnet_v0 : keypointnet_v4 {  // no IO-Net, no upsampling, no cross-border
  static constexpr double cross_ratio = 1.0;
  static constexpr bool upsample = false;
  static constexpr bool with_io = false;
};
struct keypointnet_v1 : keypointnet_v0 {  // + cross-border
  static constexpr double cross_ratio = 2.0;
};
struct keypointnet_v2 : keypointnet_v1 {  // + descriptor upsampling
  static constexpr bool upsample = true;
};
struct keypointnet_v3 : keypointnet_v2 {  // + IO-Net, without the descriptor loss
  static constexpr bool with_io = true;
  static constexpr bool descriptor_loss = false;
};
// V4 on grayscale input (use_color = False).
struct keypointnet_v4_gray : keypointnet_v4 {
  static constexpr bool color = false;
};

template <class C>
concept keypointnet_config = requires {
  { C::color } -> std::convertible_to<bool>;
  { C::widths[3] } -> std::convertible_to<int>;
  { C::head_width } -> std::convertible_to<int>;
  { C::upsample_width } -> std::convertible_to<int>;
  { C::descriptor_size } -> std::convertible_to<int>;
  { C::cell } -> std::convertible_to<int>;
  { C::cross_ratio } -> std::convertible_to<double>;
  { C::upsample } -> std::convertible_to<bool>;
  { C::dropout } -> std::convertible_to<bool>;
  { C::dropout_p } -> std::convertible_to<double>;
  { C::bn_momentum } -> std::convertible_to<double>;
  { C::leaky_slope } -> std::convertible_to<double>;
};

namespace keypointnet_detail {


template <class C>
struct spec {
  static constexpr auto w = C::widths;
  // KP2D's conv block: Sequential(Conv2d 3x3 no bias, BatchNorm2d); the LeakyReLU is applied by forward.
  template <int Out>
  using block = nn::seq<nn::conv2d<Out, 3, nn::no_bias>, nn::batch_norm<C::bn_momentum>>;
  using act = nn::leaky_relu<C::leaky_slope>;
  using drop = std::conditional_t<C::dropout, nn::dropout2d<C::dropout_p>, nn::identity>;

  using trunk = nn::seq<nn::named<"conv1a", block<w[0]>>, act, nn::named<"conv1b", block<w[0]>>, act, drop, nn::max_pool<2>,
                    nn::named<"conv2a", block<w[1]>>, act, nn::named<"conv2b", block<w[1]>>, act, drop, nn::max_pool<2>,
                    nn::named<"conv3a", block<w[2]>>, act, nn::named<"conv3b", block<w[2]>>, act, drop, nn::tag<"skip">, nn::max_pool<2>,
                    nn::named<"conv4a", block<w[3]>>, act, nn::named<"conv4b", block<w[3]>>, act, drop>;
  using score = nn::seq<nn::named<"convDa", block<C::head_width>>, act, drop, nn::named<"convDb", nn::conv2d<1, 3>>, nn::sigmoid>;
  using location = nn::seq<nn::named<"convPa", block<C::head_width>>, act, drop, nn::named<"convPb", nn::conv2d<2, 3>>, nn::tanh>;
  using convFb = nn::named<"convFb", block<C::upsample_width>>;
  // Without upsampling KP2D still allocates convFb (so it is in the state_dict) but never calls it.
  using descriptor =
      std::conditional_t<C::upsample,
                         nn::seq<nn::named<"convFa", block<C::head_width>>, act, drop, convFb, nn::pixel_shuffle<2>,
                             nn::concat<nn::from<"skip">>, nn::named<"convFaa", block<C::head_width>>, act,
                             nn::named<"convFbb", nn::conv2d<C::descriptor_size, 3>>>,
                         nn::seq<nn::named<"convFa", block<C::head_width>>, act, drop, nn::unused<convFb>,
                             nn::named<"convFaa", block<C::head_width>>, act, nn::named<"convFbb", nn::conv2d<C::descriptor_size, 3>>>>;
  using type = nn::fork<trunk, score, location, descriptor>;
};

}  // namespace keypointnet_detail

template <keypointnet_config Config, class T = float, class B = cpu>
class keypointnet : public model_base<typename keypointnet_detail::spec<Config>::type, Config::color ? 3 : 1, T, B> {
  using base = model_base<typename keypointnet_detail::spec<Config>::type, Config::color ? 3 : 1, T, B>;

  static_assert(Config::cell == 8,
                "models::keypointnet<Config>: Config::cell must be 8 (the encoder has three 2x2 max pools)");

 public:
  using config = Config;
  static constexpr int in_channels = Config::color ? 3 : 1;
  using typename base::tensor_type;
  using base::net;

  struct output {
    tensor_type score;  // [N, 1, Hc, Wc]
    tensor_type coord;  // [N, 2, Hc, Wc], (x, y) in pixels
    tensor_type desc;   // training: [N, D, H/4, W/4] (H/8 without upsampling); eval: [N, D, Hc, Wc]
  };

  explicit keypointnet(rng& g) : base(g) {}
  explicit keypointnet(std::uint64_t seed = 0) : base(seed) {}

  // KP2D's input normalisation of an RGB batch [N, 3, H, W] in [0, 1]: (x - 0.5) * 0.225, then, for
  // a gray config, the mean over the channels.
  static tensor_type normalize_input(const tensor_type& rgb) {
    require<shape_error>(rgb.defined() && rgb.rank() == 4 && rgb.size(1) == 3,
                         "keypointnet::normalize_input: expects an RGB batch [N, 3, H, W], got ",
                         rgb.defined() ? rgb.shape().str() : std::string("an undefined tensor"));
    auto x = mul_scalar(sub_scalar(rgb, 0.5), 0.225);
    if constexpr (Config::color) return x;
    else return mean(x, {1}, true);
  }

  // x: the normalised batch [N, in_channels, H, W].
  output forward(const tensor_type& x) {
    require<shape_error>(x.defined() && x.rank() == 4 && x.size(1) == in_channels, "keypointnet: expects a batch [N, ",
                         in_channels, ", H, W], got ", x.defined() ? x.shape().str() : std::string("an undefined tensor"));
    require<shape_error>(x.size(2) >= Config::cell && x.size(3) >= Config::cell, "keypointnet: the image ",
                         x.shape().str(), " is smaller than one ", Config::cell, "x", Config::cell, " cell");
    const index_t H = x.size(2), W = x.size(3);
    auto [score, shift, feat] = net.forward(x);
    const index_t hc = score.size(2), wc = score.size(3);

    score = mul(score, border_mask(hc, wc));

    const double step = (Config::cell - 1) / 2.0;
    auto coord_un = add(cell_centres(hc, wc, step), mul_scalar(shift, Config::cross_ratio * step));
    auto coord = concat({clamp(slice(coord_un, 1, 0, 1), 0.0, double(W - 1)),
                         clamp(slice(coord_un, 1, 1, 2), 0.0, double(H - 1))},
                        1);

    if (!this->is_training()) {
      // Normalised sampling positions, as KP2D: x / ((W - 1) / 2) - 1 (align_corners = true).
      auto gx = sub_scalar(div_scalar(slice(coord, 1, 0, 1), double(W - 1) / 2.0), 1.0);
      auto gy = sub_scalar(div_scalar(slice(coord, 1, 1, 2), double(H - 1) / 2.0), 1.0);
      auto grid = permute(concat({gx, gy}, 1), {0, 2, 3, 1});
      feat = l2_normalize(grid_sample(feat, grid, true), 1);
    }
    return {score, coord, feat};
  }
  output operator()(const tensor_type& x) { return forward(x); }

 private:
  // [1, 1, hc, wc]: 0 on the first and last cell row and column, 1 elsewhere.
  static tensor_type border_mask(index_t hc, index_t wc) {
    std::vector<T> m(std::size_t(hc * wc), T(1));
    for (index_t i = 0; i < hc; ++i)
      for (index_t j = 0; j < wc; ++j)
        if (i == 0 || j == 0 || i == hc - 1 || j == wc - 1) m[std::size_t(i * wc + j)] = T(0);
    return tensor_type::from({1, 1, hc, wc}, m);
  }
  // [1, 2, hc, wc]: channel 0 = cell * j + step (x), channel 1 = cell * i + step (y).
  static tensor_type cell_centres(index_t hc, index_t wc, double step) {
    std::vector<T> c(std::size_t(2 * hc * wc));
    for (index_t i = 0; i < hc; ++i)
      for (index_t j = 0; j < wc; ++j) {
        c[std::size_t(i * wc + j)] = T(double(Config::cell * j) + step);
        c[std::size_t(hc * wc + i * wc + j)] = T(double(Config::cell * i) + step);
      }
    return tensor_type::from({1, 2, hc, wc}, c);
  }

};

}  // namespace kpt::models
