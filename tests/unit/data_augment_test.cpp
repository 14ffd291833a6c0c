// Photometric (SPEC 3.5, 4.4) and spatial augmentation.
#include <boost/test/unit_test.hpp>

#include <cmath>

#include "kpt/data/augment.hpp"
#include "kpt/data/synthetic_shapes.hpp"

using namespace kpt;
using namespace kpt::data;
using ftensor = tensor<float, cpu_ref>;

namespace {

ftensor test_image(index_t c = 1, index_t h = 60, index_t w = 80) {
  auto t = ftensor::empty({c, h, w});
  for (index_t i = 0; i < t.numel(); ++i) t.data()[i] = float(0.4 + 0.3 * std::sin(double(i % w) / 7.0) * std::cos(double(i / w) / 5.0));
  return t;
}
double mean(const ftensor& t) {
  double s = 0;
  for (float v : t.values()) s += v;
  return s / double(t.numel());
}
photometric_config only(int step) {
  photometric_config c;
  c.brightness = step == 0;
  c.contrast = step == 1;
  c.speckle_noise = step == 2;
  c.gaussian_noise = step == 3;
  c.shade = step == 4;
  c.motion_blur = step == 5;
  return c;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(data_augment)

BOOST_AUTO_TEST_CASE(superpoint_photometric_is_seeded_and_in_range) {
  const auto img = test_image(1);
  for (const auto& c : {photometric_config::magicpoint_synthetic(), photometric_config::magicpoint_coco(),
                        photometric_config::superpoint_coco()}) {
    rng a(5), b(5), d(6);
    const auto x = photometric_augment(img, c, a), y = photometric_augment(img, c, b), z = photometric_augment(img, c, d);
    BOOST_TEST(x.shape() == img.shape());
    BOOST_TEST(x.to_vector() == y.to_vector());
    BOOST_TEST(x.to_vector() != z.to_vector());
    for (float v : x.values()) BOOST_TEST_REQUIRE((v >= 0.f && v <= 1.f));
  }
}

BOOST_AUTO_TEST_CASE(each_step) {
  const auto img = test_image(1);
  const double m0 = mean(img);
  rng g(1);
  // Brightness: a shift of at most 75/255 (before clipping; the image stays inside [0, 1] here
  // for small shifts, so the mean moves by the shift).
  for (int t = 0; t < 20; ++t) {
    const auto x = photometric_augment(img, only(0), g);
    BOOST_TEST_REQUIRE(std::abs(mean(x) - m0) <= 75.0 / 255.0 + 1e-6);
  }
  // Contrast keeps the mean when nothing clips: strength within [0.3, 1.8].
  auto mild = only(1);
  mild.contrast_range = {0.5, 0.9};
  const auto c = photometric_augment(img, mild, g);
  BOOST_TEST(std::abs(mean(c) - m0) < 1e-5);
  // Speckle: about 2p of the pixels become 0 or 1.
  auto sp = only(2);
  sp.speckle_prob_range = {0.05, 0.05};
  const auto s = photometric_augment(img, sp, g);
  int extreme = 0;
  for (float v : s.values()) extreme += v == 0.f || v == 1.f;
  BOOST_TEST(std::abs(extreme / double(img.numel()) - 0.1) < 0.02);
  // Gaussian noise: the residual's std is at most 15/255.
  const auto n = photometric_augment(img, only(3), g);
  double var = 0;
  for (index_t i = 0; i < img.numel(); ++i) var += std::pow(double(n.data()[i] - img.data()[i]), 2) / double(img.numel());
  BOOST_TEST(std::sqrt(var) <= 15.0 / 255.0 * 1.1);
  // Shade with zero transparency and motion blur of a constant image change nothing.
  auto sh = only(4);
  sh.shade_transparency_range = {0, 0};
  BOOST_TEST(photometric_augment(img, sh, g).to_vector() == img.to_vector());
  const auto flat = ftensor::full({1, 30, 40}, 0.4f);
  for (int t = 0; t < 5; ++t) {
    const auto mb = photometric_augment(flat, only(5), g);
    for (float v : mb.values()) BOOST_TEST_REQUIRE(std::abs(v - 0.4f) < 1e-5);
  }
  // Shade darkens or brightens smoothly, within [0, 1].
  const auto shaded = photometric_augment(img, only(4), g);
  for (float v : shaded.values()) BOOST_TEST_REQUIRE((v >= 0.f && v <= 1.f));
  BOOST_CHECK_THROW(photometric_augment(ftensor::zeros({5}), only(0), g), shape_error);
}

BOOST_AUTO_TEST_CASE(kp2d_pair_and_image_steps) {
  const auto img = test_image(3, 40, 50);
  kp2d_photometric_config none;
  none.p_noise = 0;
  none.blur_kernels = {0};
  none.quantize = false;
  rng g(3);
  // Nothing enabled: identity.
  BOOST_TEST(kp2d_photometric(img, none, kp2d_pair_decision{}, g).to_vector() == img.to_vector());
  // Channel order: a permutation of the channels.
  kp2d_pair_decision order;
  order.channel_order = {2, 0, 1};
  const auto perm = kp2d_photometric(img, none, order, g);
  BOOST_TEST(perm.at({0, 5, 7}) == img.at({2, 5, 7}));
  BOOST_TEST(perm.at({1, 5, 7}) == img.at({0, 5, 7}));
  // Gray: three equal channels.
  kp2d_pair_decision gray;
  gray.gray = true;
  const auto gr = kp2d_photometric(img, none, gray, g);
  BOOST_TEST(gr.at({0, 3, 3}) == gr.at({2, 3, 3}));
  // Defaults: quantised to 8 bits, seeded, in range.
  const kp2d_photometric_config def;
  rng a(4), b(4);
  const auto pa = kp2d_pair_decisions(def, a), pb = kp2d_pair_decisions(def, b);
  BOOST_TEST(pa.channel_order == pb.channel_order);
  const auto x = kp2d_photometric(img, def, pa, a), y = kp2d_photometric(img, def, pb, b);
  BOOST_TEST(x.to_vector() == y.to_vector());
  for (float v : x.values()) BOOST_TEST_REQUIRE(std::abs(v * 255.f - std::round(v * 255.f)) < 1e-3);
  // Pair decisions: shuffle and gray each about half of the time.
  rng h(5);
  int shuffled = 0, grays = 0;
  for (int t = 0; t < 2000; ++t) {
    const auto d = kp2d_pair_decisions(def, h);
    shuffled += d.channel_order != std::array<int, 3>{0, 1, 2};
    grays += d.gray;
  }
  BOOST_TEST(std::abs(grays - 1000) < 120);
  BOOST_TEST(std::abs(shuffled - 2000 * 0.5 * 5 / 6) < 120);  // a random permutation is the identity 1 time in 6
  // The paper's colour jitter, when enabled, changes the image but keeps it in range.
  kp2d_photometric_config jit = none;
  jit.color_jitter = true;
  const auto j = kp2d_photometric(img, jit, kp2d_pair_decision{}, g);
  BOOST_TEST(j.to_vector() != img.to_vector());
  for (float v : j.values()) BOOST_TEST_REQUIRE((v >= 0.f && v <= 1.f));
}

BOOST_AUTO_TEST_CASE(kp2d_spatial_moves_pixels_with_its_homography) {
  auto img = ftensor::zeros({1, 60, 80});
  rng g(8);
  for (int t = 0; t < 20; ++t) {
    const auto r = kp2d_spatial_augment(img, kp2d_spatial_config{}, g);
    // A single bright pixel lands where H sends it.
    auto dot = ftensor::zeros({1, 60, 80});
    dot.at({0, 30, 40}) = 1.f;
    rng g2(t);
    const auto moved = kp2d_spatial_augment(dot, kp2d_spatial_config{}, g2);
    const auto q = geometry::apply(moved.H, geometry::point2(40, 30));
    double best = 1e9;
    for (index_t y = 0; y < 60; ++y)
      for (index_t x = 0; x < 80; ++x)
        if (moved.image.at({0, y, x}) > 0.5f) best = std::min(best, std::hypot(double(x) - q.x(), double(y) - q.y()));
    BOOST_TEST_REQUIRE(best < 1.0);
    BOOST_TEST_REQUIRE(r.image.shape() == img.shape());
  }
}

BOOST_AUTO_TEST_SUITE_END()
