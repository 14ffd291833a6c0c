// models::superpoint: parameter counts, state_dict keys and shapes equal to the PyTorch reference
// modules (magicleap SuperPointNet; rpautrat superpoint_pytorch.SuperPoint for the BN layout),
// forward shapes, train/eval.
#include "support.hpp"
#include "nn_entries.hpp"

#include "kpt/models/superpoint.hpp"

using namespace kpt;
using kpt::test::entries;
using kpt::test::random_tensor;
using kpt::test::split;

namespace {

// PyTorch state_dicts ("key:shape", from torch 1.13 modules built as SPEC 1.1 / Appendix B says).
const std::string sp_magicleap_keys =
    "conv1a.weight:64x1x3x3 ""conv1a.bias:64 ""conv1b.weight:64x64x3x3 ""conv1b.bias:64 "
    "conv2a.weight:64x64x3x3 ""conv2a.bias:64 ""conv2b.weight:64x64x3x3 ""conv2b.bias:64 "
    "conv3a.weight:128x64x3x3 ""conv3a.bias:128 ""conv3b.weight:128x128x3x3 ""conv3b.bias:128 "
    "conv4a.weight:128x128x3x3 ""conv4a.bias:128 ""conv4b.weight:128x128x3x3 ""conv4b.bias:128 "
    "convPa.weight:256x128x3x3 ""convPa.bias:256 ""convPb.weight:65x256x1x1 ""convPb.bias:65 "
    "convDa.weight:256x128x3x3 ""convDa.bias:256 ""convDb.weight:256x256x1x1 ""convDb.bias:256 ";
const std::string magicpoint_keys =
    "conv1a.weight:64x1x3x3 ""conv1a.bias:64 ""conv1b.weight:64x64x3x3 ""conv1b.bias:64 "
    "conv2a.weight:64x64x3x3 ""conv2a.bias:64 ""conv2b.weight:64x64x3x3 ""conv2b.bias:64 "
    "conv3a.weight:128x64x3x3 ""conv3a.bias:128 ""conv3b.weight:128x128x3x3 ""conv3b.bias:128 "
    "conv4a.weight:128x128x3x3 ""conv4a.bias:128 ""conv4b.weight:128x128x3x3 ""conv4b.bias:128 "
    "convPa.weight:256x128x3x3 ""convPa.bias:256 ""convPb.weight:65x256x1x1 ""convPb.bias:65 ";
const std::string sp_bn_keys =
    "backbone.0.0.conv.weight:64x1x3x3 ""backbone.0.0.conv.bias:64 ""backbone.0.0.bn.weight:64 "
    "backbone.0.0.bn.bias:64 ""backbone.0.0.bn.running_mean:64 ""backbone.0.0.bn.running_var:64 "
    "backbone.0.0.bn.num_batches_tracked: ""backbone.0.1.conv.weight:64x64x3x3 "
    "backbone.0.1.conv.bias:64 ""backbone.0.1.bn.weight:64 ""backbone.0.1.bn.bias:64 "
    "backbone.0.1.bn.running_mean:64 ""backbone.0.1.bn.running_var:64 "
    "backbone.0.1.bn.num_batches_tracked: ""backbone.1.0.conv.weight:64x64x3x3 "
    "backbone.1.0.conv.bias:64 ""backbone.1.0.bn.weight:64 ""backbone.1.0.bn.bias:64 "
    "backbone.1.0.bn.running_mean:64 ""backbone.1.0.bn.running_var:64 "
    "backbone.1.0.bn.num_batches_tracked: ""backbone.1.1.conv.weight:64x64x3x3 "
    "backbone.1.1.conv.bias:64 ""backbone.1.1.bn.weight:64 ""backbone.1.1.bn.bias:64 "
    "backbone.1.1.bn.running_mean:64 ""backbone.1.1.bn.running_var:64 "
    "backbone.1.1.bn.num_batches_tracked: ""backbone.2.0.conv.weight:128x64x3x3 "
    "backbone.2.0.conv.bias:128 ""backbone.2.0.bn.weight:128 ""backbone.2.0.bn.bias:128 "
    "backbone.2.0.bn.running_mean:128 ""backbone.2.0.bn.running_var:128 "
    "backbone.2.0.bn.num_batches_tracked: ""backbone.2.1.conv.weight:128x128x3x3 "
    "backbone.2.1.conv.bias:128 ""backbone.2.1.bn.weight:128 ""backbone.2.1.bn.bias:128 "
    "backbone.2.1.bn.running_mean:128 ""backbone.2.1.bn.running_var:128 "
    "backbone.2.1.bn.num_batches_tracked: ""backbone.3.0.conv.weight:128x128x3x3 "
    "backbone.3.0.conv.bias:128 ""backbone.3.0.bn.weight:128 ""backbone.3.0.bn.bias:128 "
    "backbone.3.0.bn.running_mean:128 ""backbone.3.0.bn.running_var:128 "
    "backbone.3.0.bn.num_batches_tracked: ""backbone.3.1.conv.weight:128x128x3x3 "
    "backbone.3.1.conv.bias:128 ""backbone.3.1.bn.weight:128 ""backbone.3.1.bn.bias:128 "
    "backbone.3.1.bn.running_mean:128 ""backbone.3.1.bn.running_var:128 "
    "backbone.3.1.bn.num_batches_tracked: ""detector.0.conv.weight:256x128x3x3 "
    "detector.0.conv.bias:256 ""detector.0.bn.weight:256 ""detector.0.bn.bias:256 "
    "detector.0.bn.running_mean:256 ""detector.0.bn.running_var:256 "
    "detector.0.bn.num_batches_tracked: ""detector.1.conv.weight:65x256x1x1 ""detector.1.conv.bias:65 "
    "detector.1.bn.weight:65 ""detector.1.bn.bias:65 ""detector.1.bn.running_mean:65 "
    "detector.1.bn.running_var:65 ""detector.1.bn.num_batches_tracked: "
    "descriptor.0.conv.weight:256x128x3x3 ""descriptor.0.conv.bias:256 ""descriptor.0.bn.weight:256 "
    "descriptor.0.bn.bias:256 ""descriptor.0.bn.running_mean:256 ""descriptor.0.bn.running_var:256 "
    "descriptor.0.bn.num_batches_tracked: ""descriptor.1.conv.weight:256x256x1x1 "
    "descriptor.1.conv.bias:256 ""descriptor.1.bn.weight:256 ""descriptor.1.bn.bias:256 "
    "descriptor.1.bn.running_mean:256 ""descriptor.1.bn.running_var:256 "
    "descriptor.1.bn.num_batches_tracked: ";
const std::string magicpoint_bn_keys =
    "backbone.0.0.conv.weight:64x1x3x3 ""backbone.0.0.conv.bias:64 ""backbone.0.0.bn.weight:64 "
    "backbone.0.0.bn.bias:64 ""backbone.0.0.bn.running_mean:64 ""backbone.0.0.bn.running_var:64 "
    "backbone.0.0.bn.num_batches_tracked: ""backbone.0.1.conv.weight:64x64x3x3 "
    "backbone.0.1.conv.bias:64 ""backbone.0.1.bn.weight:64 ""backbone.0.1.bn.bias:64 "
    "backbone.0.1.bn.running_mean:64 ""backbone.0.1.bn.running_var:64 "
    "backbone.0.1.bn.num_batches_tracked: ""backbone.1.0.conv.weight:64x64x3x3 "
    "backbone.1.0.conv.bias:64 ""backbone.1.0.bn.weight:64 ""backbone.1.0.bn.bias:64 "
    "backbone.1.0.bn.running_mean:64 ""backbone.1.0.bn.running_var:64 "
    "backbone.1.0.bn.num_batches_tracked: ""backbone.1.1.conv.weight:64x64x3x3 "
    "backbone.1.1.conv.bias:64 ""backbone.1.1.bn.weight:64 ""backbone.1.1.bn.bias:64 "
    "backbone.1.1.bn.running_mean:64 ""backbone.1.1.bn.running_var:64 "
    "backbone.1.1.bn.num_batches_tracked: ""backbone.2.0.conv.weight:128x64x3x3 "
    "backbone.2.0.conv.bias:128 ""backbone.2.0.bn.weight:128 ""backbone.2.0.bn.bias:128 "
    "backbone.2.0.bn.running_mean:128 ""backbone.2.0.bn.running_var:128 "
    "backbone.2.0.bn.num_batches_tracked: ""backbone.2.1.conv.weight:128x128x3x3 "
    "backbone.2.1.conv.bias:128 ""backbone.2.1.bn.weight:128 ""backbone.2.1.bn.bias:128 "
    "backbone.2.1.bn.running_mean:128 ""backbone.2.1.bn.running_var:128 "
    "backbone.2.1.bn.num_batches_tracked: ""backbone.3.0.conv.weight:128x128x3x3 "
    "backbone.3.0.conv.bias:128 ""backbone.3.0.bn.weight:128 ""backbone.3.0.bn.bias:128 "
    "backbone.3.0.bn.running_mean:128 ""backbone.3.0.bn.running_var:128 "
    "backbone.3.0.bn.num_batches_tracked: ""backbone.3.1.conv.weight:128x128x3x3 "
    "backbone.3.1.conv.bias:128 ""backbone.3.1.bn.weight:128 ""backbone.3.1.bn.bias:128 "
    "backbone.3.1.bn.running_mean:128 ""backbone.3.1.bn.running_var:128 "
    "backbone.3.1.bn.num_batches_tracked: ""detector.0.conv.weight:256x128x3x3 "
    "detector.0.conv.bias:256 ""detector.0.bn.weight:256 ""detector.0.bn.bias:256 "
    "detector.0.bn.running_mean:256 ""detector.0.bn.running_var:256 "
    "detector.0.bn.num_batches_tracked: ""detector.1.conv.weight:65x256x1x1 ""detector.1.conv.bias:65 "
    "detector.1.bn.weight:65 ""detector.1.bn.bias:65 ""detector.1.bn.running_mean:65 "
    "detector.1.bn.running_var:65 ""detector.1.bn.num_batches_tracked: ";

// Every descriptor vector (over the channels) has unit length.
template <class Tn>
double worst_norm_error(const Tn& d) {
  const auto v = d.to_vector();
  const index_t n = d.size(0), c = d.size(1), hw = d.size(2) * d.size(3);
  double worst = 0;
  for (index_t b = 0; b < n; ++b)
    for (index_t k = 0; k < hw; ++k) {
      double s = 0;
      for (index_t ch = 0; ch < c; ++ch) s += double(v[std::size_t((b * c + ch) * hw + k)]) * v[std::size_t((b * c + ch) * hw + k)];
      worst = std::max(worst, std::abs(std::sqrt(s) - 1));
    }
  return worst;
}

// The same network on RGB input.
struct rgb_superpoint : models::superpoint_magicleap {
  static constexpr int in_channels = 3;
};

}  // namespace

BOOST_AUTO_TEST_CASE(nn_superpoint_parameter_counts) {
  models::superpoint<models::superpoint_magicleap> sp;
  BOOST_TEST(nn::count_parameters(sp) == 1300865);
  BOOST_TEST(nn::count_buffers(sp) == 0);
  models::superpoint<models::magicpoint> mp;
  BOOST_TEST(nn::count_parameters(mp) == 939905);
  models::superpoint<models::superpoint_bn> bn;
  BOOST_TEST(nn::count_parameters(bn) == 1304067);
  BOOST_TEST(nn::count_buffers(bn) == 3202 + 12);  // running stats + one num_batches_tracked per BN
}

BOOST_AUTO_TEST_CASE(nn_superpoint_state_dict_keys_equal_pytorch) {
  models::superpoint<models::superpoint_magicleap> sp;
  BOOST_TEST(entries(sp) == split(sp_magicleap_keys), boost::test_tools::per_element());
  models::superpoint<models::magicpoint> mp;
  BOOST_TEST(entries(mp) == split(magicpoint_keys), boost::test_tools::per_element());
  models::superpoint<models::superpoint_bn> bn;
  BOOST_TEST(entries(bn) == split(sp_bn_keys), boost::test_tools::per_element());
  models::superpoint<models::magicpoint_bn> mbn;
  BOOST_TEST(entries(mbn) == split(magicpoint_bn_keys), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(nn_superpoint_forward_shapes) {
  auto x = random_tensor<float, cpu>({1, 1, 64, 80}, 1, 0.0, 1.0);
  models::superpoint<models::superpoint_magicleap> sp(3);
  auto out = sp.forward(x);
  BOOST_TEST(out.semi.shape() == (shape{1, 65, 8, 10}));
  BOOST_TEST(out.desc.shape() == (shape{1, 256, 8, 10}));
  BOOST_TEST(worst_norm_error(out.desc) < 1e-5);

  models::superpoint<models::magicpoint> mp;
  auto m = mp.forward(x);
  BOOST_TEST(m.semi.shape() == (shape{1, 65, 8, 10}));
  BOOST_TEST(!m.desc.defined());

  models::superpoint<models::superpoint_bn> bn;
  for (bool training : {true, false}) {
    bn.train(training);
    auto b = bn.forward(random_tensor<float, cpu>({2, 1, 64, 80}, 2, 0.0, 1.0));
    BOOST_TEST(b.semi.shape() == (shape{2, 65, 8, 10}));
    BOOST_TEST(b.desc.shape() == (shape{2, 256, 8, 10}));
    BOOST_TEST(worst_norm_error(b.desc) < 1e-5);
  }
  // The first BN saw one training batch.
  BOOST_TEST(nn::get<"backbone">(bn.net).template get<"bn">().num_batches_tracked.item() == 1);

  models::superpoint<rgb_superpoint> c;
  BOOST_TEST(c.forward(random_tensor<float, cpu>({1, 3, 64, 80}, 4)).semi.shape() == (shape{1, 65, 8, 10}));
}

BOOST_AUTO_TEST_CASE(nn_superpoint_train_eval_reaches_every_batch_norm) {
  models::superpoint<models::superpoint_bn> bn;
  auto count_training = [&] {
    int n = 0;
    // Reach each BatchNorm through its state_dict name.
    auto& bb = nn::get<"backbone">(bn.net);
    n += nn::at<0>(nn::at<0>(bb)).template get<"bn">().options.training;
    n += nn::at<1>(nn::at<3>(bb)).template get<"bn">().options.training;
    n += nn::at<1>(nn::get<"detector">(bn.net)).template get<"bn">().options.training;
    n += nn::at<1>(nn::get<"descriptor">(bn.net)).template get<"bn">().options.training;
    return n;
  };
  BOOST_TEST(bn.is_training());
  BOOST_TEST(count_training() == 4);
  bn.eval();
  BOOST_TEST(!bn.is_training());
  BOOST_TEST(count_training() == 0);
  bn.train();
  BOOST_TEST(count_training() == 4);
}

BOOST_AUTO_TEST_CASE(nn_superpoint_rejects_bad_inputs) {
  models::superpoint<models::superpoint_magicleap> sp;
  BOOST_CHECK_EXCEPTION(sp.forward(tensor<float, cpu>::zeros({1, 3, 64, 80})), shape_error, [](const shape_error& e) {
    return std::string(e.what()).find("superpoint: expects an image batch [N, 1, H, W], got [1, 3, 64, 80]") !=
           std::string::npos;
  });
  BOOST_CHECK_THROW(sp.forward(tensor<float, cpu>::zeros({1, 1, 4, 80})), shape_error);
}
