// The HPatches loader on the two real sequences in ../shared/data/hpatches (i_pool, v_dogman).
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>

#include <unistd.h>

#include "kpt/core/random.hpp"
#include "kpt/data/hpatches.hpp"
#include "kpt/geometry/warp.hpp"

using namespace kpt;
using namespace kpt::data;
using geometry::point2;
namespace fs = std::filesystem;

namespace {

const fs::path hpatches_root = fs::path(KPT_SHARED_DIR) / "data" / "hpatches";

// Bilinear read of a gray image [1, H, W]; nullopt outside.
std::optional<double> sample(const tensor<float, cpu_ref>& img, point2 p) {
  const index_t h = img.size(1), w = img.size(2);
  if (!(p.x() >= 0 && p.y() >= 0 && p.x() <= double(w - 1) && p.y() <= double(h - 1))) return std::nullopt;
  const index_t x0 = std::min<index_t>(index_t(p.x()), w - 2), y0 = std::min<index_t>(index_t(p.y()), h - 2);
  const double ax = p.x() - double(x0), ay = p.y() - double(y0);
  const float* d = img.data();
  return (1 - ay) * ((1 - ax) * d[y0 * w + x0] + ax * d[y0 * w + x0 + 1]) +
         ay * ((1 - ax) * d[(y0 + 1) * w + x0] + ax * d[(y0 + 1) * w + x0 + 1]);
}

// Normalised cross-correlation between the (2r+1)^2 patch of A around a and the patch of B made
// of the points H(a + d) (the patch of image 1 mapped into image k); nullopt if a patch leaves
// its image or is flat.
std::optional<double> ncc(const tensor<float, cpu_ref>& A, point2 a, const tensor<float, cpu_ref>& B,
                          const geometry::homography& H, point2 shift, int r) {
  double sa = 0, sb = 0, saa = 0, sbb = 0, sab = 0, n = 0;
  for (int dy = -r; dy <= r; ++dy)
    for (int dx = -r; dx <= r; ++dx) {
      const point2 p = a + point2(dx, dy);
      const auto u = sample(A, p), v = sample(B, geometry::apply(H, p) + shift);
      if (!u || !v) return std::nullopt;
      sa += *u, sb += *v, saa += *u * *u, sbb += *v * *v, sab += *u * *v, n += 1;
    }
  const double va = saa - sa * sa / n, vb = sbb - sb * sb / n;
  if (va < 1e-6 || vb < 1e-6) return std::nullopt;
  return (sab - sa * sb / n) / std::sqrt(va * vb);
}

struct corr_stats {
  double mean = 0;
  int n = 0;
};

// Mean NCC between patches at textured points of image 1 and their images under H in image k
// (or, with `random_partner`, the same patch shape at a random place of image k).
corr_stats correlate(const pair_sample& p, const geometry::homography& H, int r, bool random_partner, std::uint64_t seed) {
  rng g(seed);
  corr_stats s;
  const index_t h = p.image.size(1), w = p.image.size(2);
  for (int t = 0; t < 4000 && s.n < 300; ++t) {
    const point2 a(double(g.below(std::uint64_t(w))), double(g.below(std::uint64_t(h))));
    // A random partner: the same patch shape, moved to a random place of image k.
    const point2 shift = random_partner ? point2(g.uniform(0, double(w)), g.uniform(0, double(h))) - geometry::apply(H, a)
                                        : point2(0, 0);
    const auto c = ncc(p.image, a, p.warped, H, shift, r);
    if (!c) continue;
    // Textured points only: the patch's standard deviation above 0.05 (13 grey levels).
    double m = 0, m2 = 0;
    const index_t ax = index_t(a.x()), ay = index_t(a.y());
    for (int dy = -r; dy <= r; ++dy)
      for (int dx = -r; dx <= r; ++dx) {
        const double v = p.image.data()[(ay + dy) * w + ax + dx];
        m += v;
        m2 += v * v;
      }
    const double k = (2.0 * r + 1) * (2.0 * r + 1);
    if (m2 / k - (m / k) * (m / k) < 0.05 * 0.05) continue;
    s.mean += *c;
    ++s.n;
  }
  if (s.n) s.mean /= s.n;
  return s;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(data_hpatches)

BOOST_AUTO_TEST_CASE(reads_the_sequences) {
  hpatches_dataset hp(hpatches_root);
  BOOST_TEST_REQUIRE(hp.size() == 10);  // 2 sequences x pairs (1, 2..6)
  BOOST_TEST(hp.info(0).sequence == "i_pool");
  BOOST_TEST(hp.info(0).k == 2);
  BOOST_TEST(hp.info(9).sequence == "v_dogman");
  BOOST_TEST(hp.info(9).k == 6);
  const auto p = hp.get(0);
  BOOST_TEST(p.image.size(0) == 3);
  BOOST_TEST(p.name == "i_pool/1-2");
  // Illumination sequences have identity homographies.
  BOOST_TEST((p.H - geometry::homography::Identity()).norm() < 1e-6);
  BOOST_TEST(hpatches_dataset(hpatches_root, {.subset = hpatches_options::viewpoint}).size() == 5);
  BOOST_TEST(hpatches_dataset(hpatches_root, {.subset = hpatches_options::illumination}).size() == 5);
}

BOOST_AUTO_TEST_CASE(resizing_adjusts_the_homography) {
  const geometry::image_size out{240, 320};
  hpatches_dataset full(hpatches_root, {.mode = color::gray});
  hpatches_dataset small(hpatches_root, {.size = out, .mode = color::gray});
  for (index_t i = 5; i < 10; ++i) {
    const auto a = full.get(i), b = small.get(i);
    BOOST_TEST(b.image.shape() == (kpt::shape{1, 240, 320}));
    BOOST_TEST(b.warped.shape() == (kpt::shape{1, 240, 320}));
    // H' = S_k H S_1^-1: a point of image 1 lands where the resized H puts it, scaled.
    const double s1x = 320.0 / double(a.image.size(2)), s1y = 240.0 / double(a.image.size(1));
    const double skx = 320.0 / double(a.warped.size(2)), sky = 240.0 / double(a.warped.size(1));
    const point2 p(100, 80), q = geometry::apply(a.H, p);
    const point2 q2 = geometry::apply(b.H, point2(p.x() * s1x, p.y() * s1y));
    BOOST_TEST((q2 - point2(q.x() * skx, q.y() * sky)).norm() < 1e-6);
  }
}

// For v_dogman (viewpoint changes), 15x15 patches around textured points of the resized image 1
// correlate strongly with the same patches mapped into image k by the resized H (sampled
// bilinearly at H(p) for each pixel p of the patch, so the strong perspective of pairs 1-5, 1-6
// does not distort the comparison). Threshold 0.5 on the mean NCC of each pair. Justification
// (numbers printed by this test, 300 patches per pair): random patch pairs between the same two
// images average 0.00 +- 0.02 (the standard error of a mean of 300 NCCs is ~0.02), and so do the
// identity and the homography not adjusted for the resize, while the true H gives 0.70 (pair
// 1-6, the strongest viewpoint change) to 0.89. 0.5 lies midway: more than 20 standard errors
// above chance, and 0.2 below the weakest true pair, so the test fails for a wrong or unadjusted
// H and tolerates the viewpoint's residual effects (resampling, non-planar parts of the scene).
BOOST_AUTO_TEST_CASE(v_dogman_patches_correlate_under_the_resized_homography) {
  hpatches_dataset hp(hpatches_root, {.size = geometry::image_size{240, 320}, .mode = color::gray,
                                      .subset = hpatches_options::viewpoint});
  BOOST_TEST_REQUIRE(hp.size() == 5);
  for (index_t i = 0; i < hp.size(); ++i) {
    const auto p = hp.get(i);
    const auto good = correlate(p, p.H, 7, false, 1);
    const auto rnd = correlate(p, p.H, 7, true, 2);
    const auto ident = correlate(p, geometry::homography::Identity(), 7, false, 3);
    // Not adjusted for the resize: the original-resolution H applied to resized coordinates.
    const auto raw = correlate(p, read_homography_file(hp.info(i).homography), 7, false, 4);
    BOOST_TEST_MESSAGE(p.name << ": NCC true H " << good.mean << " (" << good.n << " patches), random pairs "
                              << rnd.mean << ", identity " << ident.mean << ", unadjusted H " << raw.mean);
    BOOST_TEST(good.n >= 100);
    BOOST_TEST(good.mean > 0.5);
    BOOST_TEST(std::abs(rnd.mean) < 0.1);
    BOOST_TEST(good.mean > ident.mean + 0.3);
  }
}

BOOST_AUTO_TEST_CASE(loader_errors) {
  BOOST_CHECK_THROW(hpatches_dataset(hpatches_root / "nope"), io_error);
  const fs::path d = fs::temp_directory_path() / ("kpt_hpatches_test_" + std::to_string(::getpid()));
  fs::create_directories(d / "v_x");
  BOOST_CHECK_THROW(hpatches_dataset{d}, io_error);  // no images
  fs::copy_file(hpatches_root / "v_dogman" / "1.ppm", d / "v_x" / "1.ppm");
  fs::copy_file(hpatches_root / "v_dogman" / "2.ppm", d / "v_x" / "2.ppm");
  std::ofstream(d / "v_x" / "H_1_2") << "1 0 0\n0 1 0\n0 0\n";
  hpatches_dataset two(d);  // a sequence of 2 images is enough
  BOOST_TEST(two.size() == 1);
  try {
    two.get(0);
    BOOST_FAIL("a malformed homography file must throw");
  } catch (const io_error& e) {
    BOOST_TEST(std::string(e.what()).find("H_1_2") != std::string::npos);
  }
  std::error_code ec;
  fs::remove_all(d, ec);
}

BOOST_AUTO_TEST_SUITE_END()
