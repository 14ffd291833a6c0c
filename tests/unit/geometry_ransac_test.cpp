// Normalised DLT and RANSAC.
#include <boost/test/unit_test.hpp>

#include <cmath>

#include "kpt/core/random.hpp"
#include "kpt/geometry/dlt.hpp"
#include "kpt/geometry/warp.hpp"
#include "kpt/geometry/ransac.hpp"

using namespace kpt;
using namespace kpt::geometry;

namespace {

homography known_h() {
  homography H;
  H << 0.9, -0.15, 25.0, 0.12, 1.05, -12.0, 2e-4, -1e-4, 1.0;
  return H;
}

// Mean distance between the images of the 640x480 image corners under A and B.
double corner_error(const homography& A, const homography& B) {
  double e = 0;
  for (const point2& p : {point2(0, 0), point2(639, 0), point2(0, 479), point2(639, 479)})
    e += (apply(A, p) - apply(B, p)).norm() / 4;
  return e;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(geometry_ransac)

BOOST_AUTO_TEST_CASE(dlt_exact_from_four_points) {
  const homography H = known_h();
  const std::vector<point2> src = {{10, 20}, {600, 35}, {580, 460}, {30, 440}};
  const auto dst = warp_points(src, H);
  const homography E = find_homography(src, dst);
  BOOST_TEST((E - H).norm() / H.norm() < 1e-9);
  BOOST_TEST(corner_error(E, H) < 1e-6);
}

BOOST_AUTO_TEST_CASE(dlt_least_squares_from_noisy_points) {
  // 100 points over a 640x480 image, Gaussian noise of 0.25 px on both coordinates. Least squares
  // with 8 parameters and 200 equations leaves a transfer error of about 0.25 * sqrt(8 / 200)
  // = 0.05 px per coordinate (0.07 px in distance); we require the RMS over a grid covering the
  // image to be within 0.1 px.
  const homography H = known_h();
  rng g(21);
  std::vector<point2> src, dst;
  for (int i = 0; i < 100; ++i) {
    src.emplace_back(g.uniform(0, 639), g.uniform(0, 479));
    dst.push_back(apply(H, src.back()) + point2(g.normal(0, 0.25), g.normal(0, 0.25)));
  }
  const homography E = find_homography(src, dst);
  double sq = 0, worst = 0;
  for (int i = 0; i <= 10; ++i)
    for (int j = 0; j <= 10; ++j) {
      const point2 p(63.9 * i, 47.9 * j);
      const double e = (apply(E, p) - apply(H, p)).norm();
      sq += e * e / 121;
      worst = std::max(worst, e);
    }
  BOOST_TEST_MESSAGE("DLT on 100 noisy points: RMS transfer error " << std::sqrt(sq) << " px, worst " << worst);
  BOOST_TEST(std::sqrt(sq) < 0.1);
}

BOOST_AUTO_TEST_CASE(dlt_rejects_bad_input) {
  const std::vector<point2> line = {{0, 0}, {1, 1}, {2, 2}, {3, 3}, {4, 4}};
  BOOST_CHECK_THROW(find_homography(line, line), numeric_error);
  const std::vector<point2> three = {{0, 0}, {1, 0}, {0, 1}};
  BOOST_CHECK_THROW(find_homography(three, three), value_error);
  BOOST_CHECK_THROW(find_homography(line, three), shape_error);
  BOOST_TEST(!try_find_homography(line, line).has_value());
}

// 100 inliers (0.5 px noise) and 100 outliers: RANSAC finds H and separates the two.
BOOST_AUTO_TEST_CASE(ransac_with_half_outliers) {
  const homography H = known_h();
  rng g(22);
  std::vector<point2> src, dst;
  std::vector<int> truth;
  for (int i = 0; i < 200; ++i) {
    src.emplace_back(g.uniform(0, 639), g.uniform(0, 479));
    const bool inlier = i % 2 == 0;
    truth.push_back(inlier);
    dst.push_back(inlier ? point2(apply(H, src.back()) + point2(g.normal(0, 0.5), g.normal(0, 0.5)))
                         : point2(g.uniform(0, 639), g.uniform(0, 479)));
  }
  ransac_options o;
  o.threshold = 3;
  o.max_iterations = 5000;
  o.seed = 5;
  const auto r = find_homography_ransac(src, dst, o);
  BOOST_TEST_REQUIRE(r.found);
  BOOST_TEST_MESSAGE("RANSAC: " << r.n_inliers << " inliers after " << r.iterations << " iterations, corner error "
                                << corner_error(r.model, H));
  BOOST_TEST(corner_error(r.model, H) < 1.0);
  int agree = 0;
  for (int i = 0; i < 200; ++i) agree += int(r.inliers[i]) == truth[i];
  BOOST_TEST(agree >= 195);
  BOOST_TEST(r.iterations < 5000);  // the adaptive bound stops early
  // Seeded: the same result again.
  const auto r2 = find_homography_ransac(src, dst, o);
  BOOST_TEST((r2.model - r.model).norm() == 0.0);
  BOOST_TEST(r2.iterations == r.iterations);
}

BOOST_AUTO_TEST_CASE(ransac_edge_cases) {
  const std::vector<point2> three = {{0, 0}, {1, 0}, {0, 1}};
  BOOST_TEST(!find_homography_ransac(three, three).found);
  ransac_options bad;
  bad.confidence = 1.5;
  BOOST_CHECK_THROW(find_homography_ransac(three, three, bad), value_error);
}

// The generic algorithm on another model: a 2-D line through 2 points.
struct line_problem {
  using model_type = Eigen::Vector3d;  // a x + b y + c = 0 with a^2 + b^2 = 1
  static constexpr index_t sample_size = 2;
  std::span<const point2> pts;
  index_t size() const { return index_t(pts.size()); }
  std::optional<model_type> fit(std::span<const index_t> idx) const {
    const point2 a = pts[std::size_t(idx[0])], b = pts[std::size_t(idx[1])];
    const point2 d = b - a;
    if (d.norm() < 1e-12) return std::nullopt;
    const point2 n(-d.y() / d.norm(), d.x() / d.norm());
    return model_type(n.x(), n.y(), -n.dot(a));
  }
  double residual(const model_type& m, index_t i) const {
    return std::abs(m.x() * pts[std::size_t(i)].x() + m.y() * pts[std::size_t(i)].y() + m.z());
  }
};

BOOST_AUTO_TEST_CASE(generic_ransac_fits_a_line) {
  rng g(23);
  std::vector<point2> pts;
  for (int i = 0; i < 60; ++i) {
    const double t = g.uniform(0, 100);
    pts.push_back(i % 3 == 0 ? point2(g.uniform(0, 100), g.uniform(0, 100)) : point2(t, 0.5 * t + 3 + g.normal(0, 0.05)));
  }
  const auto r = ransac(line_problem{pts}, {.threshold = 0.3, .max_iterations = 500, .confidence = 0.999, .seed = 1});
  BOOST_TEST_REQUIRE(r.found);
  BOOST_TEST(r.n_inliers >= 40);
  BOOST_TEST(std::abs(-r.model.x() / r.model.y() - 0.5) < 0.01);
}

BOOST_AUTO_TEST_SUITE_END()
