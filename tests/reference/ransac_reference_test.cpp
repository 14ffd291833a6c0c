// eval::estimate_homography against cv2.findHomography(src, dst, RANSAC, 3, maxIters=5000) on the
// committed cases of tools/make_ransac_fixtures.py (OpenCV 4.6), from easy to weakly determined:
// kpt draws OpenCV's samples, so it must keep the same inliers and land on the same homography.
// Without the same sampler, the weak cases differ by pixels (tools/eval_reference.py shows it).
#include <boost/test/unit_test.hpp>

#include <filesystem>

#include "kpt/eval/homography_estimation.hpp"
#include "kpt/io/npy.hpp"

using namespace kpt;

namespace {
const std::filesystem::path dir = std::filesystem::path(KPT_TEST_DATA_DIR) / "ransac";
}

BOOST_AUTO_TEST_SUITE(ransac_reference)

BOOST_AUTO_TEST_CASE(same_inliers_and_homography_as_opencv) {
  const auto matches = io::load_npy<float>(dir / "matches.npy");
  const auto counts = io::load_npy<std::int64_t>(dir / "counts.npy");
  const auto Hs = io::load_npy<double>(dir / "H.npy");
  const auto masks = io::load_npy<std::uint8_t>(dir / "mask.npy");
  const index_t cases = matches.size(0), rows = matches.size(1);
  BOOST_TEST_REQUIRE(cases >= 30);
  index_t same_mask = 0;
  double worst = 0;
  for (index_t c = 0; c < cases; ++c) {
    const index_t n = counts.data()[c];
    std::vector<geometry::point2> src, dst;
    for (index_t i = 0; i < n; ++i) {
      const float* m = matches.data() + (c * rows + i) * 4;
      src.emplace_back(m[0], m[1]);
      dst.emplace_back(m[2], m[3]);
    }
    const auto e = eval::estimate_homography(src, dst);
    BOOST_TEST_REQUIRE(e.found, "case " << c);
    geometry::homography H;
    for (int k = 0; k < 9; ++k) H(k / 3, k % 3) = Hs.data()[c * 9 + k];
    bool equal = true;
    for (index_t i = 0; i < n; ++i) equal &= e.inliers[std::size_t(i)] == masks.data()[c * rows + i];
    same_mask += equal;
    const double err = eval::corner_error(e.H, H, {240, 320});
    worst = std::max(worst, err);
    BOOST_TEST(equal, "case " << c << " (" << n << " matches): inlier masks differ");
    BOOST_TEST(err < 1e-3, "case " << c << " (" << n << " matches): corner error to OpenCV " << err << " px");
  }
  BOOST_TEST_MESSAGE("ransac_reference: " << same_mask << "/" << cases << " identical masks, worst corner error " << worst);
}

BOOST_AUTO_TEST_SUITE_END()
