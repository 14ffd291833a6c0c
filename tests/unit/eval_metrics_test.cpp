// The HPatches metrics of SPEC 7.3-7.5 (kpt/eval/{detector,descriptor}_metrics.hpp) on cases
// worked out by hand, their boundary rules, and perfectly warped keypoints.
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <vector>

#include "kpt/core/random.hpp"
#include "kpt/eval/metrics.hpp"

using namespace kpt;
using namespace kpt::eval;
using geometry::homography;
using geometry::point2;

namespace {

// Keypoints from (x, y, score) rows and optional descriptor rows.
scored_keypoints kps(std::vector<float> xys, std::vector<float> desc = {}, index_t dim = 0) {
  return scored_keypoints::from_rows(xys, desc, dim);
}

const geometry::image_size s100{100, 100};

homography projective() {
  homography H;
  H << 0.95, 0.08, 12.0, -0.05, 1.02, 6.0, 1.5e-4, -1e-4, 1.0;
  return H;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(eval_metrics)

BOOST_AUTO_TEST_CASE(top_k_order_is_stable_ascending) {
  const std::vector<float> s = {0.5f, 0.9f, 0.5f, 0.1f, 0.9f};
  BOOST_TEST(top_k_order(s, 3) == (std::vector<index_t>{2, 1, 4}));  // the later 0.5 survives the cut
  BOOST_TEST(top_k_order(s, 10) == (std::vector<index_t>{3, 0, 2, 1, 4}));
  BOOST_TEST(top_k_order(s, 0).empty());
}

BOOST_AUTO_TEST_CASE(repeatability_hand_case) {
  // H: x -> x + 10. Image 1: (95, 20) leaves the image; the others land at (20, 10), (60, 50), (40, 70).
  // Image 2: (5, 5) maps back outside; (21, 10) is 1 px from (20, 10), (60, 52) 2 px from (60, 50),
  // (44, 70) 4 px from (40, 70) (> 3: not counted), (80, 80) far from all.
  const homography H = geometry::translation(10, 0);
  const auto a = kps({10, 10, 0.9f, 50, 50, 0.8f, 95, 20, 0.7f, 30, 70, 0.6f});
  const auto b = kps({21, 10, 0.9f, 60, 52, 0.5f, 5, 5, 0.4f, 80, 80, 0.3f, 44, 70, 0.2f});
  const auto r = repeatability(a, b, H, s100, 300);
  BOOST_TEST(r.n1 == 3);
  BOOST_TEST(r.n2 == 4);
  BOOST_TEST(r.count1 == 2);  // (20,10) and (60,50)
  BOOST_TEST(r.count2 == 2);  // (21,10) and (60,52)
  BOOST_TEST(r.le1 == 3.0);
  BOOST_TEST(r.le2 == 3.0);
  BOOST_TEST(r.repeatability == 4.0 / 7.0);
  BOOST_TEST(r.localization_error == 1.5);
  // Top 2 of each: (20,10), (60,50) against (21,10), (60,52).
  const auto r2 = repeatability(a, b, H, s100, 2);
  BOOST_TEST(r2.n1 == 2);
  BOOST_TEST(r2.n2 == 2);
  BOOST_TEST(r2.repeatability == 1.0);
  BOOST_TEST(r2.localization_error == 1.5);
}

BOOST_AUTO_TEST_CASE(repeatability_threshold_bounds_and_empty_sets) {
  const homography I = homography::Identity();
  // Exactly 3 px counts (<=); just above does not, and then 0 / 0 gives NaN as in KP2D.
  auto r = repeatability(kps({10, 10, 1}), kps({13, 10, 1}), I, s100, 300);
  BOOST_TEST(r.repeatability == 1.0);
  BOOST_TEST(r.localization_error == 3.0);
  r = repeatability(kps({10, 10, 1}), kps({13.001f, 10, 1}), I, s100, 300);
  BOOST_TEST(r.repeatability == 0.0);
  BOOST_TEST(std::isnan(r.localization_error));
  // View test: [0, W) x [0, H). x = 99.5 is in, x = 100 and y = -0.01 are out.
  r = repeatability(kps({99.5f, 5, 1, 100, 5, 1, 5, -0.01f, 1}), kps({}), I, s100, 300);
  BOOST_TEST(r.n1 == 1);
  BOOST_TEST(r.n2 == 0);
  BOOST_TEST(r.repeatability == 0.0);
  r = repeatability(kps({}), kps({0, 0, 1, 100, 0, 1}), I, s100, 300);
  BOOST_TEST(r.n2 == 1);
  // Nothing on either side: both -1.
  r = repeatability(kps({}), kps({}), I, s100, 300);
  BOOST_TEST(r.repeatability == -1.0);
  BOOST_TEST(r.localization_error == -1.0);
}

BOOST_AUTO_TEST_CASE(perfectly_warped_points_repeat_exactly) {
  const homography H = projective();
  const geometry::image_size s{240, 320};
  rng g(7);
  std::vector<float> a, b;
  for (int i = 0; i < 800; ++i) {
    const point2 p(g.uniform(0, 319.99), g.uniform(0, 239.99));
    const float score = float(g.uniform());
    a.insert(a.end(), {float(p.x()), float(p.y()), score});
    const point2 q = geometry::apply(H, point2(double(float(p.x())), double(float(p.y()))));
    if (geometry::is_in_view(q, s, geometry::view_bounds::half_open)) b.insert(b.end(), {float(q.x()), float(q.y()), score});
  }
  for (index_t k : {index_t(300), index_t(1000)}) {
    const auto r = repeatability(kps(a), kps(b), H, s, k);
    BOOST_TEST(r.n1 == r.n2);
    BOOST_TEST(r.n1 == std::min<index_t>(k, index_t(b.size() / 3)));
    BOOST_TEST(r.repeatability == 1.0);
    BOOST_TEST(r.localization_error < 1e-4);  // float32 storage of the warped points
  }
  // Integer points under an integer translation: exactly 1 and 0.
  std::vector<float> c, d;
  for (int i = 0; i < 50; ++i) {
    c.insert(c.end(), {float(3 * i), float(2 * i + 5), float(i)});
    if (3 * i + 7 < 320) d.insert(d.end(), {float(3 * i + 7), float(2 * i + 2), float(i)});
  }
  const auto r = repeatability(kps(c), kps(d), geometry::translation(7, -3), s, 300);
  BOOST_TEST(r.n1 == 50);
  BOOST_TEST(r.repeatability == 1.0);
  BOOST_TEST(r.localization_error == 0.0);
}

BOOST_AUTO_TEST_CASE(matching_score_hand_case) {
  // H: x -> x + 10; 2-d descriptors.
  //  1 -> 2: a0 -> b0 (H^-1 b0 = a0: correct), a1 -> b1 (H^-1 b1 = (52, 50), 2 px: correct),
  //          a2 -> b2 (H^-1 b2 = (-5, 5): not visible)               score1 = 2 / 2
  //  2 -> 1: b0 -> a0 (correct), b1 -> a1 (H a1 = (60, 50), 2 px: correct), b2 -> a2 (H a2 = (40, 30),
  //          visible, far from b2)                                   score2 = 2 / 3
  const homography H = geometry::translation(10, 0);
  const auto a = kps({10, 10, 0.9f, 50, 50, 0.8f, 30, 30, 0.7f}, {1, 0, 0, 1, 1, 1}, 2);
  auto b = kps({20, 10, 0.9f, 62, 50, 0.8f, 5, 5, 0.7f}, {1, 0.1f, 0, 1, 1, 1}, 2);
  auto r = matching_score(a, b, H, s100, 300);
  BOOST_TEST(r.visible1 == 2);
  BOOST_TEST(r.correct1 == 2);
  BOOST_TEST(r.visible2 == 3);
  BOOST_TEST(r.correct2 == 2);
  BOOST_TEST(std::abs(r.matching_score - 5.0 / 6.0) < 1e-15);
  // b1 at exactly 3 px is not correct (strict <): (1/2 + 1/3) / 2.
  b.xy[1] = point2(63, 50);
  r = matching_score(a, b, H, s100, 300);
  BOOST_TEST(r.correct1 == 1);
  BOOST_TEST(r.correct2 == 1);
  BOOST_TEST(std::abs(r.matching_score - 5.0 / 12.0) < 1e-15);
  // top_k = 2 keeps a0, a1 and b0, b1: every match correct and visible.
  b.xy[1] = point2(62, 50);
  r = matching_score(a, b, H, s100, 2);
  BOOST_TEST(r.matching_score == 1.0);
}

BOOST_AUTO_TEST_CASE(matching_score_visibility_is_closed) {
  const homography I = homography::Identity();
  // [0, W-1] x [0, H-1]: x = 99 visible, x = 99.5 not (then 0 / max(0, 1) = 0).
  BOOST_TEST(matching_score(kps({99, 50, 1}, {1}, 1), kps({99, 50, 1}, {1}, 1), I, s100, 300).matching_score == 1.0);
  const auto r = matching_score(kps({99.5f, 50, 1}, {1}, 1), kps({99.5f, 50, 1}, {1}, 1), I, s100, 300);
  BOOST_TEST(r.visible1 == 0);
  BOOST_TEST(r.matching_score == 0.0);
  // No view filtering before matching: a point outside image 2 still takes part.
  BOOST_TEST(matching_score(kps({}, {}, 1), kps({5, 5, 1}, {1}, 1), I, s100, 300).matching_score == 0.0);
  BOOST_CHECK_THROW(matching_score(kps({1, 1, 1}), kps({1, 1, 1}), I, s100, 300), shape_error);
}

namespace {

// 20 points spread over the image centre, one-hot descriptors (mutual matches are exact), image 2
// = H(p) + shift.
void shifted_pair(const homography& H, point2 shift, scored_keypoints& a, scored_keypoints& b, int count = 20) {
  std::vector<float> xa, xb, da, db;
  rng g(11);
  for (int i = 0; i < count; ++i) {
    const point2 p(g.uniform(60, 260), g.uniform(50, 190));
    const point2 q = geometry::apply(H, p) + shift;
    xa.insert(xa.end(), {float(p.x()), float(p.y()), float(i + 1)});
    xb.insert(xb.end(), {float(q.x()), float(q.y()), float(i + 1)});
    for (int k = 0; k < count; ++k) da.push_back(k == i ? 1.0f : 0.0f);
  }
  db = da;
  a = scored_keypoints::from_rows(xa, da, count);
  b = scored_keypoints::from_rows(xb, db, count);
}

}  // namespace

BOOST_AUTO_TEST_CASE(homography_accuracy_corner_thresholds) {
  const homography H = projective();
  const geometry::image_size s{240, 320};
  scored_keypoints a, b;
  // Exact correspondences: the estimate is H, every Cor is 1.
  shifted_pair(H, {0, 0}, a, b);
  auto r = homography_accuracy(a, b, H, s, 300);
  BOOST_TEST(r.matches == 20);
  BOOST_TEST_REQUIRE(r.estimate.found);
  BOOST_TEST(r.corner_error < 1e-3);  // float32 keypoints
  BOOST_TEST(r.cor1 + r.cor3 + r.cor5 == 3.0);
  // Image 2 moved by 2 px: the estimate is T(2, 0) H, its corners are 2 px off: Cor-1 = 0, Cor-3 = Cor-5 = 1.
  shifted_pair(H, {2, 0}, a, b);
  r = homography_accuracy(a, b, H, s, 300);
  BOOST_TEST(std::abs(r.corner_error - 2.0) < 1e-3);
  BOOST_TEST(r.cor1 == 0.0);
  BOOST_TEST(r.cor3 == 1.0);
  BOOST_TEST(r.cor5 == 1.0);
  shifted_pair(H, {0, -4}, a, b);
  r = homography_accuracy(a, b, H, s, 300);
  BOOST_TEST(std::abs(r.corner_error - 4.0) < 1e-3);
  BOOST_TEST(r.cor3 == 0.0);
  BOOST_TEST(r.cor5 == 1.0);
  shifted_pair(H, {6, 0}, a, b);
  r = homography_accuracy(a, b, H, s, 300);
  BOOST_TEST(r.estimate.found);
  BOOST_TEST(r.cor5 == 0.0);
  // Three matches: no estimate, all zero, corner error NaN.
  shifted_pair(H, {0, 0}, a, b, 3);
  r = homography_accuracy(a, b, H, s, 300);
  BOOST_TEST(r.matches == 3);
  BOOST_TEST(!r.estimate.found);
  BOOST_TEST(r.cor1 + r.cor3 + r.cor5 == 0.0);
  BOOST_TEST(std::isnan(r.corner_error));
}

BOOST_AUTO_TEST_CASE(homography_accuracy_keeps_shared_points_then_top_k) {
  // x -> x + 10 on a 100 x 100 image. Image-1 point (95, 50) maps outside image 2, image-2 point
  // (5, 50) maps outside image 1: both dropped before top-k, so with top_k = 4 the remaining four
  // exact pairs are matched.
  const homography H = geometry::translation(10, 0);
  const auto a = kps({20, 20, 0.5f, 60, 20, 0.4f, 20, 60, 0.3f, 60, 70, 0.2f, 95, 50, 0.9f},
                     {1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 1, 1, 1, 1}, 4);
  const auto b = kps({30, 20, 0.5f, 70, 20, 0.4f, 30, 60, 0.3f, 70, 70, 0.2f, 5, 50, 0.9f},
                     {1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 1, 1, 1, 1}, 4);
  const auto r = homography_accuracy(a, b, H, s100, 4);
  BOOST_TEST(r.n1 == 4);
  BOOST_TEST(r.n2 == 4);
  BOOST_TEST(r.matches == 4);
  BOOST_TEST_REQUIRE(r.estimate.found);
  BOOST_TEST(r.corner_error < 1e-9);
  BOOST_TEST(r.cor1 == 1.0);
}

BOOST_AUTO_TEST_CASE(evaluate_pair_and_means) {
  const homography H = geometry::translation(10, 0);
  const auto a = kps({10, 10, 0.9f, 50, 50, 0.8f, 95, 20, 0.7f, 30, 70, 0.6f}, {1, 0, 0, 1, 1, 1, 0.5f, 0}, 2);
  const auto b = kps({21, 10, 0.9f, 60, 52, 0.5f, 5, 5, 0.4f, 80, 80, 0.3f, 44, 70, 0.2f},
                     {1, 0, 0, 1, 1, 1, 0.2f, 0.2f, 0.5f, 0}, 2);
  const auto m = evaluate_pair(a, b, H, s100);
  BOOST_TEST(m.repeatability.repeatability == 4.0 / 7.0);
  BOOST_TEST(m.repeatability.localization_error == 1.5);
  pair_metrics other;
  other.repeatability.repeatability = -1;  // an empty pair counts, as in KP2D
  other.repeatability.localization_error = -1;
  other.matching.matching_score = 0.5;
  other.homography.cor1 = 0, other.homography.cor3 = 1, other.homography.cor5 = 1;
  const std::vector<pair_metrics> all = {m, other};
  const auto mean = mean_metrics(all);
  BOOST_TEST(mean.pairs == 2);
  BOOST_TEST(std::abs(mean.repeatability - (4.0 / 7.0 - 1.0) / 2.0) < 1e-15);
  BOOST_TEST(std::abs(mean.localization_error - 0.25) < 1e-15);
  BOOST_TEST(std::abs(mean.matching_score - (m.matching.matching_score + 0.5) / 2.0) < 1e-15);
  BOOST_TEST(mean.cor3 == (m.homography.cor3 + 1.0) / 2.0);
  BOOST_TEST(std::isnan(mean_metrics({}).repeatability));
}

BOOST_AUTO_TEST_CASE(bad_inputs) {
  const homography I = homography::Identity();
  BOOST_CHECK_THROW(kps({1, 2}), shape_error);
  BOOST_CHECK_THROW(kps({1, 2, std::nanf("")}), value_error);
  BOOST_CHECK_THROW(kps({1, 2, 3}, {1, 2}, 1), shape_error);
  BOOST_CHECK_THROW(repeatability(kps({}), kps({}), I, {0, 10}, 300), value_error);
  BOOST_CHECK_THROW(repeatability(kps({}), kps({}), I, s100, -1), value_error);
  BOOST_CHECK_THROW(matching_score(kps({1, 1, 1}, {1, 2}, 2), kps({1, 1, 1}, {1}, 1), I, s100, 300), shape_error);
}

BOOST_AUTO_TEST_SUITE_END()
