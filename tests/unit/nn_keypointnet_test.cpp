// models::keypointnet: parameter counts of V0-V4 and the gray variant, state_dict keys equal to
// KP2D's KeypointNet, forward shapes in training and eval, score mask, coordinate ranges.
#include "support.hpp"
#include "nn_entries.hpp"

#include "kpt/models/keypointnet.hpp"

using namespace kpt;
using kpt::test::entries;
using kpt::test::random_tensor;
using kpt::test::split;

namespace {

// torch 1.13 KeypointNet state_dicts ("key:shape"), SPEC 5.1 / Appendix B.
const std::string kp_v4_keys =
    "conv1a.0.weight:32x3x3x3 ""conv1a.1.weight:32 ""conv1a.1.bias:32 ""conv1a.1.running_mean:32 "
    "conv1a.1.running_var:32 ""conv1a.1.num_batches_tracked: ""conv1b.0.weight:32x32x3x3 "
    "conv1b.1.weight:32 ""conv1b.1.bias:32 ""conv1b.1.running_mean:32 ""conv1b.1.running_var:32 "
    "conv1b.1.num_batches_tracked: ""conv2a.0.weight:64x32x3x3 ""conv2a.1.weight:64 ""conv2a.1.bias:64 "
    "conv2a.1.running_mean:64 ""conv2a.1.running_var:64 ""conv2a.1.num_batches_tracked: "
    "conv2b.0.weight:64x64x3x3 ""conv2b.1.weight:64 ""conv2b.1.bias:64 ""conv2b.1.running_mean:64 "
    "conv2b.1.running_var:64 ""conv2b.1.num_batches_tracked: ""conv3a.0.weight:128x64x3x3 "
    "conv3a.1.weight:128 ""conv3a.1.bias:128 ""conv3a.1.running_mean:128 ""conv3a.1.running_var:128 "
    "conv3a.1.num_batches_tracked: ""conv3b.0.weight:128x128x3x3 ""conv3b.1.weight:128 "
    "conv3b.1.bias:128 ""conv3b.1.running_mean:128 ""conv3b.1.running_var:128 "
    "conv3b.1.num_batches_tracked: ""conv4a.0.weight:256x128x3x3 ""conv4a.1.weight:256 "
    "conv4a.1.bias:256 ""conv4a.1.running_mean:256 ""conv4a.1.running_var:256 "
    "conv4a.1.num_batches_tracked: ""conv4b.0.weight:256x256x3x3 ""conv4b.1.weight:256 "
    "conv4b.1.bias:256 ""conv4b.1.running_mean:256 ""conv4b.1.running_var:256 "
    "conv4b.1.num_batches_tracked: ""convDa.0.weight:256x256x3x3 ""convDa.1.weight:256 "
    "convDa.1.bias:256 ""convDa.1.running_mean:256 ""convDa.1.running_var:256 "
    "convDa.1.num_batches_tracked: ""convDb.weight:1x256x3x3 ""convDb.bias:1 "
    "convPa.0.weight:256x256x3x3 ""convPa.1.weight:256 ""convPa.1.bias:256 ""convPa.1.running_mean:256 "
    "convPa.1.running_var:256 ""convPa.1.num_batches_tracked: ""convPb.weight:2x256x3x3 "
    "convPb.bias:2 ""convFa.0.weight:256x256x3x3 ""convFa.1.weight:256 ""convFa.1.bias:256 "
    "convFa.1.running_mean:256 ""convFa.1.running_var:256 ""convFa.1.num_batches_tracked: "
    "convFb.0.weight:512x256x3x3 ""convFb.1.weight:512 ""convFb.1.bias:512 ""convFb.1.running_mean:512 "
    "convFb.1.running_var:512 ""convFb.1.num_batches_tracked: ""convFaa.0.weight:256x256x3x3 "
    "convFaa.1.weight:256 ""convFaa.1.bias:256 ""convFaa.1.running_mean:256 "
    "convFaa.1.running_var:256 ""convFaa.1.num_batches_tracked: ""convFbb.weight:256x256x3x3 "
    "convFbb.bias:256 ";
const std::string kp_gray_keys =
    "conv1a.0.weight:32x1x3x3 ""conv1a.1.weight:32 ""conv1a.1.bias:32 ""conv1a.1.running_mean:32 "
    "conv1a.1.running_var:32 ""conv1a.1.num_batches_tracked: ""conv1b.0.weight:32x32x3x3 "
    "conv1b.1.weight:32 ""conv1b.1.bias:32 ""conv1b.1.running_mean:32 ""conv1b.1.running_var:32 "
    "conv1b.1.num_batches_tracked: ""conv2a.0.weight:64x32x3x3 ""conv2a.1.weight:64 ""conv2a.1.bias:64 "
    "conv2a.1.running_mean:64 ""conv2a.1.running_var:64 ""conv2a.1.num_batches_tracked: "
    "conv2b.0.weight:64x64x3x3 ""conv2b.1.weight:64 ""conv2b.1.bias:64 ""conv2b.1.running_mean:64 "
    "conv2b.1.running_var:64 ""conv2b.1.num_batches_tracked: ""conv3a.0.weight:128x64x3x3 "
    "conv3a.1.weight:128 ""conv3a.1.bias:128 ""conv3a.1.running_mean:128 ""conv3a.1.running_var:128 "
    "conv3a.1.num_batches_tracked: ""conv3b.0.weight:128x128x3x3 ""conv3b.1.weight:128 "
    "conv3b.1.bias:128 ""conv3b.1.running_mean:128 ""conv3b.1.running_var:128 "
    "conv3b.1.num_batches_tracked: ""conv4a.0.weight:256x128x3x3 ""conv4a.1.weight:256 "
    "conv4a.1.bias:256 ""conv4a.1.running_mean:256 ""conv4a.1.running_var:256 "
    "conv4a.1.num_batches_tracked: ""conv4b.0.weight:256x256x3x3 ""conv4b.1.weight:256 "
    "conv4b.1.bias:256 ""conv4b.1.running_mean:256 ""conv4b.1.running_var:256 "
    "conv4b.1.num_batches_tracked: ""convDa.0.weight:256x256x3x3 ""convDa.1.weight:256 "
    "convDa.1.bias:256 ""convDa.1.running_mean:256 ""convDa.1.running_var:256 "
    "convDa.1.num_batches_tracked: ""convDb.weight:1x256x3x3 ""convDb.bias:1 "
    "convPa.0.weight:256x256x3x3 ""convPa.1.weight:256 ""convPa.1.bias:256 ""convPa.1.running_mean:256 "
    "convPa.1.running_var:256 ""convPa.1.num_batches_tracked: ""convPb.weight:2x256x3x3 "
    "convPb.bias:2 ""convFa.0.weight:256x256x3x3 ""convFa.1.weight:256 ""convFa.1.bias:256 "
    "convFa.1.running_mean:256 ""convFa.1.running_var:256 ""convFa.1.num_batches_tracked: "
    "convFb.0.weight:512x256x3x3 ""convFb.1.weight:512 ""convFb.1.bias:512 ""convFb.1.running_mean:512 "
    "convFb.1.running_var:512 ""convFb.1.num_batches_tracked: ""convFaa.0.weight:256x256x3x3 "
    "convFaa.1.weight:256 ""convFaa.1.bias:256 ""convFaa.1.running_mean:256 "
    "convFaa.1.running_var:256 ""convFaa.1.num_batches_tracked: ""convFbb.weight:256x256x3x3 "
    "convFbb.bias:256 ";

// Half-width KeyPointNet with 128-d descriptors (as examples/custom_variant.cpp).
struct half : models::keypointnet_v4 {
  static constexpr std::array<int, 4> widths = {16, 32, 64, 128};
  static constexpr int head_width = 128;
  static constexpr int upsample_width = 256;
  static constexpr int descriptor_size = 128;
};

using F = tensor<float, cpu>;

}  // namespace

BOOST_AUTO_TEST_CASE(nn_keypointnet_parameter_counts) {
  models::keypointnet<models::keypointnet_v4> v4;
  BOOST_TEST(nn::count_parameters(v4) == 5312227);
  BOOST_TEST(nn::count_buffers(v4) == 4992 + 13);  // running stats + one num_batches_tracked per BN
  models::keypointnet<models::keypointnet_v4_gray> gray;
  BOOST_TEST(nn::count_parameters(gray) == 5311651);
  // The ablations change the forward, not the parameters (convFb exists without upsampling too).
  models::keypointnet<models::keypointnet_v0> v0;
  models::keypointnet<models::keypointnet_v1> v1;
  models::keypointnet<models::keypointnet_v2> v2;
  models::keypointnet<models::keypointnet_v3> v3;
  for (index_t n : {nn::count_parameters(v0), nn::count_parameters(v1), nn::count_parameters(v2), nn::count_parameters(v3)})
    BOOST_TEST(n == 5312227);
  // Half width: convs 3*9*16 + 16*9*16 + 16*9*32 + 32*9*32 + 32*9*64 + 64*9*64 + 64*9*128 + 128*9*128
  // (encoder) + heads, BN 2 per channel; computed by hand from the layer shapes.
  models::keypointnet<half> h;
  const index_t enc = 9 * (3 * 16 + 16 * 16 + 16 * 32 + 32 * 32 + 32 * 64 + 64 * 64 + 64 * 128 + 128 * 128) +
                      2 * (16 + 16 + 32 + 32 + 64 + 64 + 128 + 128);
  const index_t score = 9 * 128 * 128 + 2 * 128 + 9 * 128 + 1;
  const index_t loc = 9 * 128 * 128 + 2 * 128 + 9 * 128 * 2 + 2;
  const index_t desc = 9 * 128 * 128 + 2 * 128 + 9 * 128 * 256 + 2 * 256 + 9 * 128 * 128 + 2 * 128 + 9 * 128 * 128 + 128;
  BOOST_TEST(nn::count_parameters(h) == enc + score + loc + desc);
}

BOOST_AUTO_TEST_CASE(nn_keypointnet_state_dict_keys_equal_pytorch) {
  models::keypointnet<models::keypointnet_v4> v4;
  BOOST_TEST(entries(v4) == split(kp_v4_keys), boost::test_tools::per_element());
  models::keypointnet<models::keypointnet_v4_gray> gray;
  BOOST_TEST(entries(gray) == split(kp_gray_keys), boost::test_tools::per_element());
  models::keypointnet<models::keypointnet_v0> v0;
  BOOST_TEST(entries(v0) == split(kp_v4_keys), boost::test_tools::per_element());
  BOOST_TEST(nn::at<1>(nn::get<"convFb">(v4.net)).options.momentum == 0.1);
}

BOOST_AUTO_TEST_CASE(nn_keypointnet_forward_shapes_train_and_eval) {
  auto rgb = random_tensor<float, cpu>({1, 3, 64, 80}, 1, 0.0, 1.0);
  models::keypointnet<models::keypointnet_v4> v4(2);
  auto x = v4.normalize_input(rgb);
  auto t = v4.forward(x);
  BOOST_TEST(t.score.shape() == (shape{1, 1, 8, 10}));
  BOOST_TEST(t.coord.shape() == (shape{1, 2, 8, 10}));
  BOOST_TEST(t.desc.shape() == (shape{1, 256, 16, 20}));
  v4.eval();
  auto e = v4.forward(x);
  BOOST_TEST(e.score.shape() == (shape{1, 1, 8, 10}));
  BOOST_TEST(e.desc.shape() == (shape{1, 256, 8, 10}));
  // Eval descriptors are unit vectors.
  for (index_t k = 0; k < 80; ++k) {
    double s = 0;
    for (index_t c = 0; c < 256; ++c) s += std::pow(double(e.desc.at({0, c, k / 10, k % 10})), 2);
    BOOST_TEST(std::abs(s - 1) < 1e-5);
  }

  models::keypointnet<models::keypointnet_v0> v0;
  BOOST_TEST(v0.forward(x).desc.shape() == (shape{1, 256, 8, 10}));  // no upsampling

  models::keypointnet<models::keypointnet_v4_gray> gray;
  auto g = gray.normalize_input(rgb);
  BOOST_TEST(g.shape() == (shape{1, 1, 64, 80}));
  BOOST_TEST(std::abs(g.at({0, 0, 3, 5}) - (rgb.at({0, 0, 3, 5}) + rgb.at({0, 1, 3, 5}) + rgb.at({0, 2, 3, 5}) - 1.5f) * 0.225f / 3) < 1e-6);
  auto go = gray.forward(g);
  BOOST_TEST(go.desc.shape() == (shape{1, 256, 16, 20}));

  models::keypointnet<half> h;
  auto ho = h.forward(x);
  BOOST_TEST(ho.desc.shape() == (shape{1, 128, 16, 20}));
}

BOOST_AUTO_TEST_CASE(nn_keypointnet_score_mask_and_coordinate_ranges) {
  auto x = random_tensor<float, cpu>({2, 3, 64, 80}, 7, -0.2, 0.2);
  auto check = [&](auto& model, double reach) {
    auto o = model.forward(x);
    for (index_t b = 0; b < 2; ++b)
      for (index_t i = 0; i < 8; ++i)
        for (index_t j = 0; j < 10; ++j) {
          const float s = o.score.at({b, 0, i, j});
          if (i == 0 || j == 0 || i == 7 || j == 9) BOOST_TEST(s == 0.0f);
          else BOOST_TEST((s > 0.0f && s < 1.0f));
          const double cx = o.coord.at({b, 0, i, j}), cy = o.coord.at({b, 1, i, j});
          BOOST_TEST((cx >= 0 && cx <= 79 && cy >= 0 && cy <= 63));
          BOOST_TEST(std::abs(cx - (8 * j + 3.5)) <= reach + 1e-4);
          BOOST_TEST(std::abs(cy - (8 * i + 3.5)) <= reach + 1e-4);
        }
  };
  models::keypointnet<models::keypointnet_v4> v4;
  check(v4, 7.0);   // cross-border: up to one cell beyond
  models::keypointnet<models::keypointnet_v0> v0;
  check(v0, 3.5);   // inside the cell
}

BOOST_AUTO_TEST_CASE(nn_keypointnet_train_eval_switches_bn_and_dropout) {
  models::keypointnet<models::keypointnet_v4> m;
  auto& bn = nn::at<1>(nn::get<"conv4b">(m.net));
  auto& drop = std::get<4>(m.net.trunk.layers);  // conv1b's dropout
  static_assert(std::is_same_v<std::remove_cvref_t<decltype(drop)>, nn::dropout2d<0.2>::layer<32, float, cpu>>);
  BOOST_TEST(bn.options.training);
  BOOST_TEST(drop.training);
  m.eval();
  BOOST_TEST(!bn.options.training);
  BOOST_TEST(!drop.training);
  // Eval is deterministic; training draws dropout masks.
  auto x = random_tensor<float, cpu>({1, 3, 32, 32}, 3, -0.1, 0.1);
  BOOST_TEST(kpt::test::max_rel_diff(m.forward(x).score, m.forward(x).score) == 0.0);
  m.train();
  BOOST_TEST(bn.options.training);
  BOOST_TEST(kpt::test::max_rel_diff(m.forward(x).desc, m.forward(x).desc) > 0.0);
}

BOOST_AUTO_TEST_CASE(nn_keypointnet_rejects_bad_inputs) {
  models::keypointnet<models::keypointnet_v4> m;
  BOOST_CHECK_EXCEPTION(m.forward(F::zeros({1, 1, 64, 80})), shape_error, [](const shape_error& e) {
    return std::string(e.what()).find("keypointnet: expects a batch [N, 3, H, W], got [1, 1, 64, 80]") != std::string::npos;
  });
  BOOST_CHECK_THROW(m.normalize_input(F::zeros({1, 1, 64, 80})), shape_error);
}
