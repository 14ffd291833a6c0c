// Homography estimation for the evaluation (kpt/eval/homography_estimation.hpp): RANSAC with
// KP2D's settings on matches with outliers, and the corner error.
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cmath>
#include <vector>

#include "kpt/core/random.hpp"
#include "kpt/eval/homography_estimation.hpp"

using namespace kpt;
using namespace kpt::eval;
using geometry::homography;
using geometry::point2;

namespace {

homography known_h() {
  homography H;
  H << 1.1, 0.05, -20.0, -0.08, 0.97, 15.0, 3e-4, 2e-4, 1.0;
  return H;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(eval_homography)

BOOST_AUTO_TEST_CASE(kp2d_settings) {
  const auto o = kp2d_ransac_options();
  BOOST_TEST(o.threshold == 3.0);
  BOOST_TEST(o.max_iterations == 5000);
  BOOST_TEST(o.confidence == 0.995);
}

BOOST_AUTO_TEST_CASE(corner_error_hand_values) {
  const geometry::image_size s{240, 320};
  const homography I = homography::Identity();
  BOOST_TEST(corner_error(I, I, s) == 0.0);
  BOOST_TEST(corner_error(I, geometry::translation(3, 4), s) == 5.0);
  // Scaling by 2 about the origin: corners (0,0), (0,239), (319,0), (319,239) move by 0, 239,
  // 319 and 398.6 px.
  const double expect = (0.0 + 239.0 + 319.0 + std::hypot(319.0, 239.0)) / 4.0;
  BOOST_TEST(std::abs(corner_error(I, geometry::scaling(2, 2), s) - expect) < 1e-12);
}

BOOST_AUTO_TEST_CASE(ransac_with_outliers) {
  // 120 correspondences with 0.3 px noise, 80 gross outliers (40 %): the estimate is within a
  // fraction of a pixel at the corners and the inliers are the true ones.
  const homography H = known_h();
  rng g(5);
  std::vector<point2> src, dst;
  std::vector<int> truth;
  for (int i = 0; i < 200; ++i) {
    const point2 p(g.uniform(0, 319), g.uniform(0, 239));
    const bool inlier = i % 5 < 3;
    point2 q = geometry::apply(H, p);
    if (inlier) q += point2(0.3 * g.normal(), 0.3 * g.normal());
    else q = point2(g.uniform(0, 319), g.uniform(0, 239));
    // An outlier that happens to land near its true image is an inlier.
    truth.push_back(inlier || (q - geometry::apply(H, p)).norm() <= 3.0);
    src.push_back(p);
    dst.push_back(q);
  }
  const auto e = estimate_homography(src, dst);
  BOOST_TEST_REQUIRE(e.found);
  BOOST_TEST(corner_error(H, e.H, {240, 320}) < 0.5);
  index_t wrong = 0;
  for (std::size_t i = 0; i < truth.size(); ++i) wrong += int(e.inliers[i]) != truth[i];
  BOOST_TEST(wrong <= 3);  // noisy true matches near 3 px may fall either side
  BOOST_TEST(e.n_inliers >= 115);
  // Deterministic: OpenCV's generator always starts from the same state.
  const auto e2 = estimate_homography(src, dst);
  BOOST_TEST((e2.H - e.H).norm() == 0.0);
}

BOOST_AUTO_TEST_CASE(too_few_or_degenerate_matches) {
  const std::vector<point2> three = {{0, 0}, {10, 0}, {0, 10}};
  auto e = estimate_homography(three, three);
  BOOST_TEST(!e.found);
  BOOST_TEST(e.inliers.size() == 3u);
  const std::vector<point2> line = {{0, 0}, {1, 1}, {2, 2}, {3, 3}, {4, 4}};
  e = estimate_homography(line, line);
  BOOST_TEST(!e.found);
  BOOST_CHECK_THROW(estimate_homography(three, line), shape_error);
}

BOOST_AUTO_TEST_CASE(from_matches) {
  const homography H = known_h();
  scored_keypoints a, b;
  for (int i = 0; i < 10; ++i) {
    const point2 p(30.0 * i + 5.0, 20.0 + 17.0 * ((i * 7) % 10));
    a.xy.push_back(p);
    a.score.push_back(1.0f);
    b.xy.push_back(geometry::apply(H, p));
    b.score.push_back(1.0f);
  }
  // b is a's order reversed; the matches say so.
  std::reverse(b.xy.begin(), b.xy.end());
  std::vector<match> m;
  for (index_t i = 0; i < 10; ++i) m.push_back({i, 9 - i, 0.0f});
  const auto e = estimate_homography(a, b, m);
  BOOST_TEST_REQUIRE(e.found);
  // Exact up to the float32 rounding of the coordinates (findHomography works in float32).
  BOOST_TEST(corner_error(H, e.H, {240, 320}) < 1e-4);
  m.push_back({10, 0, 0.0f});
  BOOST_CHECK_THROW(estimate_homography(a, b, m), value_error);
}

BOOST_AUTO_TEST_SUITE_END()
