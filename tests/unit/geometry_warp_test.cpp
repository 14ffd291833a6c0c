// Warping points and images, valid masks, resizing.
#include <boost/test/unit_test.hpp>

#include <cmath>

#include "kpt/core/random.hpp"
#include "kpt/geometry/points.hpp"
#include "kpt/geometry/resize.hpp"
#include "kpt/geometry/superpoint_homography.hpp"
#include "kpt/geometry/warp.hpp"

using namespace kpt;
using namespace kpt::geometry;
using ftensor = tensor<float, cpu_ref>;

namespace {

// An image of Gaussian dots (sigma 1.5 px) at the given sub-pixel positions.
ftensor render_dots(const std::vector<point2>& dots, image_size s) {
  auto img = ftensor::zeros({s.height, s.width});
  for (const auto& d : dots)
    for (index_t y = 0; y < s.height; ++y)
      for (index_t x = 0; x < s.width; ++x) {
        const double dx = double(x) - d.x(), dy = double(y) - d.y();
        if (dx * dx + dy * dy < 64) img.data()[y * s.width + x] += float(std::exp(-(dx * dx + dy * dy) / (2 * 1.5 * 1.5)));
      }
  return img;
}

// Intensity-weighted centroid in a window of radius 5 around a guess.
point2 centroid_near(const ftensor& img, const point2& guess) {
  const index_t w = img.size(1);
  double sx = 0, sy = 0, sw = 0;
  for (index_t y = index_t(std::lround(guess.y())) - 5; y <= index_t(std::lround(guess.y())) + 5; ++y)
    for (index_t x = index_t(std::lround(guess.x())) - 5; x <= index_t(std::lround(guess.x())) + 5; ++x) {
      const double v = img.data()[y * w + x];
      sx += v * double(x);
      sy += v * double(y);
      sw += v;
    }
  return {sx / sw, sy / sw};
}

}  // namespace

BOOST_AUTO_TEST_SUITE(geometry_warp)

// The point and image warps agree: dots rendered in the original image, image warped with H
// (warped -> original), dot centres found in the warped image = original dots moved with H^-1.
BOOST_AUTO_TEST_CASE(points_agree_with_warped_dot_images) {
  const image_size s{120, 160};
  rng g(11);
  int checked = 0;
  double worst = 0;
  for (int trial = 0; trial < 20; ++trial) {
    std::vector<point2> dots;
    while (dots.size() < 25) {
      const point2 p(g.uniform(10, 150), g.uniform(10, 110));
      bool far = true;
      for (const auto& q : dots) far = far && (p - q).norm() > 14;
      if (far) dots.push_back(p);
    }
    const auto img = render_dots(dots, s);
    const auto smp = sample_homography(superpoint_homography_config::ha_default(), s, g);
    const auto warped = warp_image(img, smp.H);
    const auto moved = warp_points(dots, smp.H_inv);
    // Same through the tensor interface.
    const auto moved_t = warp_points(to_tensor<float>(dots), smp.H_inv);
    for (std::size_t i = 0; i < dots.size(); ++i) {
      BOOST_TEST_REQUIRE(std::abs(moved_t.at({index_t(i), 0}) - moved[i].x()) < 1e-3);
      if (!is_in_view(moved[i], s, view_bounds::closed, 12)) continue;
      // The warp shrinks or stretches a dot; skip dots that another dot's tail reaches.
      bool isolated = true;
      for (std::size_t j = 0; j < dots.size(); ++j)
        if (j != i && (moved[j] - moved[i]).norm() < 12) isolated = false;
      if (!isolated) continue;
      const double err = (centroid_near(warped, moved[i]) - moved[i]).norm();
      worst = std::max(worst, err);
      BOOST_TEST_REQUIRE(err < 0.5);
      ++checked;
    }
  }
  BOOST_TEST_MESSAGE("dot centroids vs warped points: " << checked << " dots, worst " << worst << " px");
  BOOST_TEST(checked > 200);
}

BOOST_AUTO_TEST_CASE(image_warp_basics) {
  rng g(12);
  auto img = ftensor::empty({2, 6, 7});
  for (auto& v : img.values()) v = float(g.uniform());
  // Identity and integer translations are exact; zeros come in from outside.
  const auto same = warp_image(img, homography::Identity());
  BOOST_TEST(same.to_vector() == img.to_vector());
  const auto shifted = warp_image(img, translation(2, 1));  // out(x, y) = in(x + 2, y + 1)
  for (index_t c = 0; c < 2; ++c)
    for (index_t y = 0; y < 6; ++y)
      for (index_t x = 0; x < 7; ++x) {
        const float want = (x + 2 < 7 && y + 1 < 6) ? img.at({c, y + 1, x + 2}) : 0.f;
        BOOST_TEST_REQUIRE(shifted.at({c, y, x}) == want);
      }
  // Half-pixel shift: the mean of the two neighbours.
  const auto half = warp_image(img, translation(0.5, 0));
  BOOST_TEST(std::abs(half.at({1, 3, 2}) - 0.5f * (img.at({1, 3, 2}) + img.at({1, 3, 3}))) < 1e-6);
  // Far away: all zeros. Other output size.
  const auto far = warp_image(img, translation(1000, 0));
  for (float v : far.values()) BOOST_TEST_REQUIRE(v == 0.f);
  BOOST_TEST(warp_image(img, homography::Identity(), image_size{3, 4}).shape() == (kpt::shape{2, 3, 4}));
  // uint8 images round.
  auto u = tensor<std::uint8_t, cpu_ref>::from({1, 2}, {10, 21});
  BOOST_TEST(int(warp_image(u, translation(0.5, 0)).at({0, 0})) == 16);  // 15.5 rounds up
  BOOST_CHECK_THROW(warp_image(ftensor::zeros({5}), homography::Identity()), shape_error);
}

BOOST_AUTO_TEST_CASE(points_in_view_and_select) {
  auto pts = ftensor::from({4, 2}, {0.f, 0.f, 9.f, 4.f, 9.5f, 1.f, -0.1f, 2.f});
  const image_size s{5, 10};
  BOOST_TEST((in_view(pts, s).to_vector() == std::vector<std::uint8_t>{1, 1, 0, 0}));
  BOOST_TEST((in_view(pts, s, view_bounds::half_open).to_vector() == std::vector<std::uint8_t>{1, 1, 1, 0}));
  const auto kept = select_points(pts, in_view(pts, s));
  BOOST_TEST(kept.shape() == (kpt::shape{2, 2}));
  BOOST_TEST(kept.at({1, 0}) == 9.f);
  BOOST_CHECK_THROW(warp_points(ftensor::zeros({3, 3}), homography::Identity()), shape_error);
}

BOOST_AUTO_TEST_CASE(ellipse_element_matches_opencv) {
  // cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (4, 4)) = [[0,0,1,0],[1,1,1,1],[1,1,1,1],[1,1,1,1]]
  const auto se = ellipse_element(2);
  BOOST_TEST_REQUIRE(se.size() == 4u);
  BOOST_TEST((se[0].dy == -2 && se[0].dx_lo == 0 && se[0].dx_hi == 0));
  for (int i = 1; i < 4; ++i) BOOST_TEST((se[i].dy == i - 2 && se[i].dx_lo == -2 && se[i].dx_hi == 1));
}

BOOST_AUTO_TEST_CASE(valid_masks) {
  const image_size s{20, 30};
  // Identity: all valid, and the image border does not erode.
  const auto all = valid_mask(s, homography::Identity(), 3);
  for (float v : all.values()) BOOST_TEST_REQUIRE(v == 1.f);
  // out(x) = in(x + 10): the last 10 columns see nothing; erosion by r = 2 takes 2 more
  // (the element reaches dx = +1 ... and -2: columns 18, 19 lose a right neighbour at x = 20).
  const auto m0 = valid_mask(s, translation(10, 0), 0), m2 = valid_mask(s, translation(10, 0), 2);
  for (index_t x = 0; x < 30; ++x) {
    BOOST_TEST_REQUIRE(m0.at({5, x}) == (x < 20 ? 1.f : 0.f));
    BOOST_TEST_REQUIRE(m2.at({5, x}) == (x < 19 ? 1.f : 0.f));
  }
  // Translation to the left: the element reaches 2 pixels to the left.
  const auto ml = valid_mask(s, translation(-10, 0), 2);
  for (index_t x = 0; x < 30; ++x) BOOST_TEST_REQUIRE(ml.at({5, x}) == (x >= 12 ? 1.f : 0.f));
  BOOST_CHECK_THROW(valid_mask(s, homography::Identity(), -1), value_error);
}

BOOST_AUTO_TEST_CASE(resize_modes) {
  // 2x downscale of a ramp: bilinear and area both give the mean of the two inputs.
  auto ramp = ftensor::empty({1, 4, 8});
  for (index_t y = 0; y < 4; ++y)
    for (index_t x = 0; x < 8; ++x) ramp.at({0, y, x}) = float(x + 10 * y);
  for (auto mode : {resize_mode::bilinear, resize_mode::area}) {
    const auto r = resize(ramp, {2, 4}, mode);
    BOOST_TEST(r.shape() == (kpt::shape{1, 2, 4}));
    for (index_t y = 0; y < 2; ++y)
      for (index_t x = 0; x < 4; ++x) BOOST_TEST_REQUIRE(std::abs(r.at({0, y, x}) - float(2 * x + 0.5 + 10 * (2 * y + 0.5))) < 1e-5);
  }
  // Constant images stay constant at any size.
  for (auto mode : {resize_mode::bilinear, resize_mode::area}) {
    const auto r = resize(ftensor::full({3, 7, 5}, 0.25f), {11, 3}, mode);
    for (float v : r.values()) BOOST_TEST_REQUIRE(std::abs(v - 0.25f) < 1e-6);
  }
  // Area downscale by 3 of a checker gives exact block means.
  auto chk = ftensor::empty({6, 6});
  for (index_t i = 0; i < 36; ++i) chk.data()[i] = float((i / 6 + i % 6) % 2);
  const auto a = resize(chk, {2, 2}, resize_mode::area);
  BOOST_TEST(std::abs(a.at({0, 0}) - 4.f / 9.f) < 1e-6);
  // The pixel-centre convention moves a dot where the resized image has it.
  const image_size big{96, 128}, small{48, 64};
  const auto dots = render_dots({point2(40.3, 50.7)}, big);
  const auto rd = resize(dots, small, resize_mode::area);
  const point2 want = apply(resize_matrix(big, small, resize_convention::pixel_centers), point2(40.3, 50.7));
  BOOST_TEST((centroid_near(rd, want) - want).norm() < 0.1);
}

BOOST_AUTO_TEST_SUITE_END()
