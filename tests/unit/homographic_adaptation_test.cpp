// Homographic adaptation (include/kpt/train/homographic_adaptation.hpp, SPEC 4.2): the identity
// term alone is the plain prediction, a hand-made translation gives the mean / max / counts by
// hand, an exactly equivariant "network" is recovered, counts, determinism, errors.
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <numbers>
#include <vector>

#include "kpt/train/homographic_adaptation.hpp"

using namespace kpt;
using namespace kpt::geometry;
using ftensor = tensor<float, cpu_ref>;
namespace ha = kpt::train;

namespace {

ftensor random_image(index_t h, index_t w, std::uint64_t seed) {
  auto img = ftensor::empty({h, w});
  rng g(seed);
  for (auto& v : std::span<float>(img.data(), std::size_t(h * w))) v = float(g.uniform());
  return img;
}

// A smooth image (periods of 80 and 64 px): bilinear interpolation of it is accurate to ~1e-3.
ftensor smooth_image(index_t h, index_t w) {
  auto img = ftensor::empty({h, w});
  for (index_t y = 0; y < h; ++y)
    for (index_t x = 0; x < w; ++x)
      img.data()[y * w + x] = float(0.5 + 0.4 * std::sin(2 * std::numbers::pi * double(x) / 80.0) *
                                              std::cos(2 * std::numbers::pi * double(y) / 64.0));
  return img;
}

// A pointwise function of the image: exactly equivariant to any warp.
ftensor squared(const ftensor& x) {
  const index_t h = x.size(-2), w = x.size(-1);
  auto out = ftensor::empty({h, w});
  for (index_t i = 0; i < h * w; ++i) out.data()[i] = x.data()[i] * x.data()[i];
  return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(homographic_adaptation)

// num = 1: only the identity term, so the result is the single forward, bit for bit, counts 1.
BOOST_AUTO_TEST_CASE(num_one_is_the_single_forward) {
  const auto img = random_image(24, 32, 1);
  // Not equivariant and nonlinear, so nothing but the identity term can give it back.
  auto net = [](const ftensor& x) {
    BOOST_TEST_REQUIRE((x.shape() == kpt::shape{1, 1, 24, 32}));
    auto out = ftensor::empty({24, 32});
    for (index_t i = 0; i < 24 * 32; ++i) out.data()[i] = std::sin(3.f * x.data()[i]) * float(i % 32) / 31.f;
    return out;
  };
  const auto direct = net(img.view_as({1, 1, 24, 32}));
  for (auto agg : {ha::ha_aggregation::mean, ha::ha_aggregation::max}) {
    ha::homographic_adaptation_options o;
    o.num = 1;
    o.aggregation = agg;
    const auto r = ha::homographic_adaptation(img, net, o);
    BOOST_TEST((r.prob.shape() == kpt::shape{24, 32}));
    BOOST_TEST(r.prob.to_vector() == direct.to_vector());
    BOOST_TEST(r.counts.to_vector() == std::vector<float>(24 * 32, 1.f));
  }
}

// One translation by 5 columns (warped(x, y) = image(x + 5, y)), no erosion, and a "network" whose
// k-th call returns the constant k + 1: everything can be worked out by hand.
BOOST_AUTO_TEST_CASE(translation_by_hand_mean_max_counts) {
  const index_t h = 12, w = 20;
  const auto img = random_image(h, w, 2);
  homography T = homography::Identity();
  T(0, 2) = 5;
  std::vector<ftensor> inputs;
  auto net = [&](const ftensor& x) {
    inputs.push_back(ftensor::from(kpt::shape{h, w}, std::span<const float>(x.data(), std::size_t(h * w))));
    return ftensor::full({h, w}, float(inputs.size()));
  };
  ha::homographic_adaptation_options o;
  o.valid_border_margin = 0;
  const std::vector<homography> hs = {T};

  const auto mean = ha::homographic_adaptation(img, net, std::span<const homography>(hs), o);
  BOOST_TEST_REQUIRE(inputs.size() == 2u);
  // The network saw the image, then the image shifted left by 5 (zeros where it has no data).
  BOOST_TEST(inputs[0].to_vector() == img.to_vector());
  for (index_t y = 0; y < h; ++y)
    for (index_t x = 0; x < w; ++x)
      BOOST_TEST(inputs[1].data()[y * w + x] == (x + 5 < w ? img.data()[y * w + x + 5] : 0.f));
  // Columns 0-4 are seen by the identity only (1 / 1); columns 5.. by both ((1 + 2) / 2).
  for (index_t y = 0; y < h; ++y)
    for (index_t x = 0; x < w; ++x) {
      BOOST_TEST(mean.counts.data()[y * w + x] == (x < 5 ? 1.f : 2.f));
      BOOST_TEST(mean.prob.data()[y * w + x] == (x < 5 ? 1.f : 1.5f));
    }

  inputs.clear();
  o.aggregation = ha::ha_aggregation::max;
  const auto best = ha::homographic_adaptation(img, net, std::span<const homography>(hs), o);
  for (index_t y = 0; y < h; ++y)
    for (index_t x = 0; x < w; ++x) BOOST_TEST(best.prob.data()[y * w + x] == (x < 5 ? 1.f : 2.f));

  // filter_counts 2: the pixels only the identity saw are dropped.
  inputs.clear();
  o.aggregation = ha::ha_aggregation::mean;
  o.filter_counts = 2;
  const auto filtered = ha::homographic_adaptation(img, net, std::span<const homography>(hs), o);
  for (index_t y = 0; y < h; ++y)
    for (index_t x = 0; x < w; ++x) BOOST_TEST(filtered.prob.data()[y * w + x] == (x < 5 ? 0.f : 1.5f));
}

// With erosion (border 3, OpenCV's 6x6 ellipse: offsets -3..+2) both masks shrink. Original frame:
// the view starts at column 5, eroded to 8 (the image border itself does not erode). Warped frame:
// data up to column w - 6, eroded to w - 8, i.e. column w - 3 once moved back; beyond it the
// translated term contributes 0 but still counts.
BOOST_AUTO_TEST_CASE(translation_with_erosion) {
  const index_t h = 16, w = 24;
  const auto img = random_image(h, w, 3);
  homography T = homography::Identity();
  T(0, 2) = 5;
  int calls = 0;
  auto net = [&](const ftensor&) { return ftensor::full({h, w}, float(++calls)); };
  ha::homographic_adaptation_options o;  // valid_border_margin 3
  const std::vector<homography> hs = {T};
  const auto r = ha::homographic_adaptation(img, net, std::span<const homography>(hs), o);
  for (index_t y = 0; y < h; ++y)
    for (index_t x = 0; x < w; ++x) {
      BOOST_TEST(r.counts.data()[y * w + x] == (x < 8 ? 1.f : 2.f));
      BOOST_TEST(r.prob.data()[y * w + x] == (x < 8 ? 1.f : x <= w - 3 ? 1.5f : 0.5f));
    }
}

// Counts: 1 (the identity) + the eroded view of each homography in the original frame; a pixel every
// homography sees (the centre, with the no-artifact HA defaults) has count num.
BOOST_AUTO_TEST_CASE(counts_of_random_homographies) {
  const index_t h = 48, w = 64;
  const auto img = random_image(h, w, 4);
  auto zero = [&](const ftensor&) { return ftensor::zeros({h, w}); };
  for (bool artifacts : {false, true}) {
    ha::homographic_adaptation_options o;
    o.num = 12;
    o.seed = 9;
    o.homographies = artifacts ? superpoint_homography_config::ha_export() : superpoint_homography_config::ha_default();
    const auto r = ha::homographic_adaptation(img, zero, o);
    const auto hs = ha::adaptation_homographies(o, {h, w});
    BOOST_TEST_REQUIRE(hs.size() == 11u);
    std::vector<float> expected(std::size_t(h * w), 1.f);
    for (const auto& H : hs) {
      const auto v = valid_mask<float, cpu_ref>({h, w}, invert(H), 3);
      for (index_t i = 0; i < h * w; ++i) expected[std::size_t(i)] += v.data()[i];
    }
    BOOST_TEST(r.counts.to_vector() == expected);
    for (float c : r.counts.to_vector()) BOOST_TEST((c >= 1.f && c <= 12.f));
    if (!artifacts) BOOST_TEST(r.counts.data()[(h / 2) * w + w / 2] == 12.f);
    // Some pixels are missed by some warps (else the test would not test the counts).
    BOOST_TEST(*std::min_element(expected.begin(), expected.end()) < 12.f);
  }
}

// An exactly equivariant network (a pointwise function of the image): the aggregate equals its
// single prediction up to interpolation error wherever every warp saw the pixel well inside its
// view (near a view's edge the bilinear projection blends in the masked zeros, as RP's does). A
// network that depends on the absolute position is not recovered, so the comparison does test the
// warps.
BOOST_AUTO_TEST_CASE(equivariant_network_is_recovered) {
  const index_t h = 96, w = 128;
  const auto img = smooth_image(h, w);
  ha::homographic_adaptation_options o;
  o.num = 10;
  o.seed = 5;
  const auto r = ha::homographic_adaptation(img, [](const ftensor& x) { return squared(x); }, o);
  const auto single = squared(img);
  auto not_equivariant = [&](const ftensor& x) {
    auto y = squared(x);
    for (index_t i = 0; i < h * w; ++i) y.data()[i] *= float(i % w) / float(w);
    return y;
  };
  const auto r2 = ha::homographic_adaptation(img, not_equivariant, o);
  // Pixels at least 8 px inside every warp's view and the image.
  std::vector<std::uint8_t> deep(std::size_t(h * w), 1);
  for (const auto& H : ha::adaptation_homographies(o, {h, w})) {
    const auto v = valid_mask<float, cpu_ref>({h, w}, invert(H), 8);
    for (index_t i = 0; i < h * w; ++i) deep[std::size_t(i)] &= v.data()[i] != 0;
  }
  double worst = 0, worst2 = 0, sum = 0;
  int n = 0;
  for (index_t y = 8; y < h - 8; ++y)
    for (index_t x = 8; x < w - 8; ++x) {
      const index_t i = y * w + x;
      if (!deep[std::size_t(i)]) continue;
      BOOST_TEST(r.counts.data()[i] == float(o.num));
      ++n;
      const double e = std::abs(double(r.prob.data()[i]) - double(single.data()[i]));
      worst = std::max(worst, e);
      sum += e;
      worst2 = std::max(worst2, std::abs(double(r2.prob.data()[i]) - double(single.data()[i]) * double(x) / double(w)));
    }
  BOOST_TEST_MESSAGE("equivariant: " << n << " pixels deep inside every view, error max " << worst << " mean "
                                     << sum / std::max(n, 1) << " (position-dependent network: max " << worst2 << ")");
  BOOST_TEST_REQUIRE(n > 200);
  BOOST_TEST(worst < 5e-3);  // measured 2.5e-3 (values span 0.01-0.81)
  BOOST_TEST(sum / n < 1e-3);  // measured 4.7e-4
  BOOST_TEST(worst2 > 0.1);
}

// Deterministic given the seed; another seed gives other homographies; the batch size (how many
// terms are warped in parallel) does not change a bit.
BOOST_AUTO_TEST_CASE(deterministic_for_a_seed) {
  const index_t h = 32, w = 40;
  const auto img = random_image(h, w, 6);
  auto net = [](const ftensor& x) { return squared(x); };
  ha::homographic_adaptation_options o;
  o.num = 9;
  o.seed = 11;
  const auto a = ha::homographic_adaptation(img, net, o);
  const auto b = ha::homographic_adaptation(img, net, o);
  BOOST_TEST(a.prob.to_vector() == b.prob.to_vector());
  BOOST_TEST(a.counts.to_vector() == b.counts.to_vector());
  o.batch = 1;
  const auto c = ha::homographic_adaptation(img, net, o);
  BOOST_TEST(a.prob.to_vector() == c.prob.to_vector());
  o.seed = 12;
  std::vector<int> done;
  o.on_term = [&](int k, int num) {
    BOOST_TEST(num == 9);
    done.push_back(k);
  };
  const auto d = ha::homographic_adaptation(img, net, o);
  BOOST_TEST(a.prob.to_vector() != d.prob.to_vector());
  BOOST_TEST(done == (std::vector<int>{1, 2, 3, 4, 5, 6, 7, 8, 9}));  // once per network call, in order
}

BOOST_AUTO_TEST_CASE(errors) {
  const auto img = random_image(16, 16, 7);
  auto net = [](const ftensor& x) { return squared(x); };
  ha::homographic_adaptation_options o;
  o.num = 0;
  BOOST_CHECK_THROW(ha::homographic_adaptation(img, net, o), value_error);
  o.num = 3;
  auto wrong = [](const ftensor&) { return ftensor::zeros({8, 8}); };
  BOOST_CHECK_THROW(ha::homographic_adaptation(img, wrong, o), shape_error);
  BOOST_CHECK_THROW(ha::homographic_adaptation(ftensor::zeros({2, 16, 16}), net, o), shape_error);
}

// The export decoding: box NMS of side 4 (a weaker neighbour 2 px away goes, one 4 px away stays),
// threshold 0.015 (kept at equality), no border removal, top-k.
BOOST_AUTO_TEST_CASE(export_decoding) {
  auto prob = ftensor::zeros({16, 16});
  auto at = [&](index_t x, index_t y) -> float& { return prob.data()[y * 16 + x]; };
  at(5, 5) = 0.9f;
  at(7, 5) = 0.5f;   // suppressed by (5, 5)
  at(9, 5) = 0.4f;   // 4 px away: kept
  at(0, 0) = 0.3f;   // on the border: kept
  at(12, 12) = 0.015f;
  at(14, 2) = 0.0149f;
  const auto k = decode::superpoint_keypoints(prob, ftensor{}, ha::homographic_adaptation_decode());
  BOOST_TEST(k.xys().to_vector() == (std::vector<float>{5, 5, 0.9f, 9, 5, 0.4f, 0, 0, 0.3f, 12, 12, 0.015f}));
  const auto top2 = decode::superpoint_keypoints(prob, ftensor{}, ha::homographic_adaptation_decode(0.015, 4, 2));
  BOOST_TEST(top2.size() == 2);
}

BOOST_AUTO_TEST_SUITE_END()
