// Properties of the SuperPoint and KP2D losses (include/kpt/losses/): label construction (exact
// for the deterministic parts, statistical for the random choice), the cell-valid product, the
// zero-loss limit of the detector loss, hand-computed descriptor losses on 2x2 cells, the
// triplet exclusion window, and L_loc = L_usp = 0 for perfectly warped coordinates.
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <vector>

#include "kpt/backends/cpu.hpp"
#include "kpt/backends/cpu_ref.hpp"
#include "kpt/losses/kp2d.hpp"
#include "kpt/losses/superpoint.hpp"
#include "kpt/losses/superpoint_labels.hpp"
#include "kpt/models/ionet.hpp"

using namespace kpt;
using geometry::homography;
using geometry::point2;
using dtensor = tensor<double, cpu_ref>;

BOOST_AUTO_TEST_SUITE(losses_unit)

BOOST_AUTO_TEST_CASE(labels_single_points_clipping_rounding_and_dustbin) {
  // 16x24 image: 2x3 cells.
  const std::vector<std::vector<point2>> pts = {
      {{3, 2}, {9.4, 10.6}, {-3, 100}, {22.5, 1}},  // cell (0,0) bin 19; (1,1) x=9 y=11 -> 8*3+1; clipped (0,15) -> cell (1,0) bin 56; x 22.5 -> 22 (half to even) -> cell (0,2) bin 8*1+6
      {}};
  const auto l = losses::superpoint_labels<cpu_ref>(pts, {16, 24}, 1);
  BOOST_TEST(l.shape() == (shape{2, 2, 3}));
  const std::vector<std::int64_t> want = {19, 64, 14, 56, 25, 64, 64, 64, 64, 64, 64, 64};
  BOOST_TEST(l.to_vector() == want, boost::test_tools::per_element());
  // 23.5 rounds to 24 -> clipped to 23 (bin 7 of cell (0,2)).
  const auto l2 = losses::superpoint_labels<cpu_ref>({{{23.5, 0}}}, {16, 24}, 1);
  BOOST_TEST(l2.at({0, 0, 2}) == 7);
  BOOST_CHECK_THROW(losses::superpoint_labels<cpu_ref>(pts, {15, 24}, 1), shape_error);
}

BOOST_AUTO_TEST_CASE(labels_choose_uniformly_among_points_of_a_cell) {
  // One cell holding 3 keypoints (bins 0, 9, 63) plus a duplicate of bin 9 (it collapses in the
  // keypoint map, so it must not double that bin's chance).
  const int n = 6000;
  std::vector<std::vector<point2>> pts(n, std::vector<point2>{{0, 0}, {1, 1}, {1.2, 0.9}, {7, 7}});
  const auto l = losses::superpoint_labels<cpu_ref>(pts, {8, 8}, 42).to_vector();
  int c0 = 0, c9 = 0, c63 = 0;
  for (auto v : l) c0 += v == 0, c9 += v == 9, c63 += v == 63;
  BOOST_TEST(c0 + c9 + c63 == n);
  // 1/3 each: binomial sd = sqrt(n/3*2/3) ~ 36.5; 5 sd bounds.
  for (int c : {c0, c9, c63}) BOOST_TEST(std::abs(c - n / 3.0) < 5 * 36.5, "count " << c);
  // Seeded: the same seed gives the same labels, another seed others.
  BOOST_TEST(losses::superpoint_labels<cpu_ref>(pts, {8, 8}, 42).to_vector() == l);
  BOOST_TEST(losses::superpoint_labels<cpu_ref>(pts, {8, 8}, 43).to_vector() != l);
}

BOOST_AUTO_TEST_CASE(cell_valid_mask_is_the_product_over_the_cell) {
  auto px = dtensor::ones({2, 1, 16, 24});
  px.at({0, 0, 9, 17}) = 0;  // cell (1, 2) of image 0
  px.at({1, 0, 0, 0}) = 0;   // cell (0, 0) of image 1
  const auto m = losses::cell_valid_mask(px);
  BOOST_TEST(m.shape() == (shape{2, 2, 3}));
  const std::vector<double> want = {1, 1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 1};
  BOOST_TEST(m.to_vector() == want, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(detector_loss_tends_to_zero_for_huge_correct_logits) {
  const index_t n = 2, hc = 2, wc = 3;
  auto labels = tensor<std::int64_t, cpu_ref>::from({n, hc, wc}, {0, 5, 64, 64, 17, 3, 9, 64, 1, 2, 63, 64});
  for (double k : {5.0, 20.0, 1000.0}) {
    auto semi = dtensor::zeros({n, 65, hc, wc});
    for (index_t b = 0; b < n; ++b)
      for (index_t i = 0; i < hc; ++i)
        for (index_t j = 0; j < wc; ++j) semi.at({b, labels.at({b, i, j}), i, j}) = k;
    const double got = losses::detector_loss(semi, labels).item();
    const double want = std::log1p(64 * std::exp(-k));  // ce of every cell
    // ce = logsumexp - logit cancels: absolute error ~ 1e-16 * k.
    BOOST_TEST(std::abs(got - want) <= 1e-14 * k, "k " << k << ": " << got << " vs " << want);
  }
  // Weights: sum(w ce) / count(w != 0), not / sum(w).
  auto semi = dtensor::zeros({1, 65, 1, 2});
  semi.at({0, 0, 0, 0}) = 1;
  auto lab = tensor<std::int64_t, cpu_ref>::from({1, 1, 2}, {0, 0});
  const double ce0 = std::log(std::exp(1.0) + 64) - 1, ce1 = std::log(65.0);
  const auto w = dtensor::from({1, 1, 2}, {3.0, 0.5});
  BOOST_TEST(std::abs(losses::detector_loss(semi, lab, w).item() - (3 * ce0 + 0.5 * ce1) / 2) < 1e-12);
  BOOST_TEST(losses::detector_loss(semi, lab, dtensor::zeros({1, 1, 2})).item() == 0.0);
  // The gradient follows the same normalisation: d/dlogit of the dustbin of item 1 = w1 * p / count.
  semi.requires_grad_();
  losses::detector_loss(semi, lab, w).backward();
  BOOST_TEST(std::abs(semi.grad().at({0, 64, 0, 1}) - 0.5 * (1.0 / 65) / 2) < 1e-12);
}

BOOST_AUTO_TEST_CASE(descriptor_loss_on_hand_made_2x2_cells) {
  // 16x16 image, 2x2 cells, centres (4,4) (12,4) (4,12) (12,12). Identity, radius 8: each cell
  // corresponds to itself and its two 4-neighbours (distance exactly 8), not the diagonal (11.3).
  const std::vector<homography> id = {homography::Identity()};
  auto ones_x = dtensor::zeros({1, 2, 2, 2});
  for (index_t i = 0; i < 2; ++i)
    for (index_t j = 0; j < 2; ++j) ones_x.at({0, 0, i, j}) = 1;  // every descriptor (1, 0)
  auto ones_y = dtensor::zeros({1, 2, 2, 2});
  for (index_t i = 0; i < 2; ++i)
    for (index_t j = 0; j < 2; ++j) ones_y.at({0, 1, i, j}) = 1;  // every descriptor (0, 1)
  // dot = 1 everywhere: positives give 0, each row's one negative gives 1 - 0.2: 4 * 0.8 / 16.
  BOOST_TEST(std::abs(losses::descriptor_loss(ones_x, ones_x, id).item() - 0.2) < 1e-12);
  // dot = 0: 12 positive pairs of 250 * 1, negatives 0: 3000 / 16.
  BOOST_TEST(std::abs(losses::descriptor_loss(ones_x, ones_y, id).item() - 187.5) < 1e-12);
  // radius 7.5 (RP): only the diagonal pairs i == j are positive: 4 * 250 / 16.
  losses::descriptor_loss_options rp;
  rp.radius = 7.5;
  BOOST_TEST(std::abs(losses::descriptor_loss(ones_x, ones_y, id, {}, rp).item() - 62.5) < 1e-12);
  // Only warped cell 0 valid: column 0 has positives in rows 0, 1, 2 and a negative in row 3:
  // dot = 1 -> 0.8 / (1 * 4).
  auto valid = dtensor::zeros({1, 2, 2});
  valid.at({0, 0, 0}) = 1;
  BOOST_TEST(std::abs(losses::descriptor_loss(ones_x, ones_x, id, valid).item() - 0.2) < 1e-12);
  // Translation by 8 px right: cell 0 -> (12, 4) matches cells 1 (0 px), 0 and 3 (8 px); cell 2 ->
  // (12, 12) matches 3, 1, 2; cells 1, 3 -> x = 20 match only themselves (8 px).
  // dot = 0: 3 + 1 + 3 + 1 = 8 positive pairs -> 8 * 250 / 16 = 125.
  const std::vector<homography> tr = {geometry::translation(8, 0)};
  BOOST_TEST(std::abs(losses::descriptor_loss(ones_x, ones_y, tr).item() - 125.0) < 1e-12);
  // Total = Lp + Lp' + lambda Ld.
  auto semi = dtensor::zeros({1, 65, 2, 2});
  auto lab = tensor<std::int64_t, cpu_ref>::from({1, 2, 2}, {64, 64, 64, 64});
  const auto t = losses::superpoint_loss(semi, semi, lab, lab, ones_x, ones_y, id);
  BOOST_TEST(std::abs(t.total.item() - (2 * std::log(65.0) + 1e-4 * 187.5)) < 1e-12);
}

namespace {
// KP2D inputs on a 32x32 image (4x4 cells) with dense maps 8x8; coordinates in pixels.
struct kp2d_case {
  losses::kp2d_outputs<double, cpu_ref> src, tgt;
};
kp2d_case blank_kp2d(index_t d = 2) {
  kp2d_case c;
  for (auto* o : {&c.src, &c.tgt}) {
    o->score = dtensor::zeros({1, 1, 4, 4});
    o->coord = dtensor::zeros({1, 2, 4, 4});
    o->desc = dtensor::zeros({1, d, 8, 8});
    for (index_t i = 0; i < 4; ++i)
      for (index_t j = 0; j < 4; ++j) {  // cell centres by default
        o->coord.at({0, 0, i, j}) = 8.0 * double(j) + 3.5;
        o->coord.at({0, 1, i, j}) = 8.0 * double(i) + 3.5;
      }
  }
  return c;
}
}  // namespace

BOOST_AUTO_TEST_CASE(triplet_exclusion_window_picks_the_hardest_negative_outside_it) {
  auto c = blank_kp2d();
  // Anchors: constant (1, 0). Positives on exact dense pixels (u, v) of the 8x8 map, where pixel
  // x = u * 31 / 7 (align_corners = true): A (2,2), B (3,2) [4.43 px from A], C (5,5), D (5,2).
  for (index_t i = 0; i < 8; ++i)
    for (index_t j = 0; j < 8; ++j) c.src.desc.at({0, 0, i, j}) = 1;
  const double a = 0.3, b = 0.6, cc = 0.9;  // angles of the positives of B, C, D (A: 0)
  struct pt { index_t u, v; double angle; index_t cell_i, cell_j; };
  const std::vector<pt> pts = {{2, 2, 0.0, 1, 1}, {3, 2, a, 1, 2}, {5, 5, b, 2, 1}, {5, 2, cc, 2, 2}};
  for (const auto& p : pts) {
    c.tgt.desc.at({0, 0, p.v, p.u}) = std::cos(p.angle);
    c.tgt.desc.at({0, 1, p.v, p.u}) = std::sin(p.angle);
    c.src.coord.at({0, 0, p.cell_i, p.cell_j}) = double(p.u) * 31.0 / 7.0;
    c.src.coord.at({0, 1, p.cell_i, p.cell_j}) = double(p.v) * 31.0 / 7.0;
  }
  losses::kp2d_loss_options opt;
  opt.min_border_cells = 4;
  const double eps = opt.triplet_eps;
  auto dist = [&](double t) {  // || (1,0) - (cos t, sin t) + eps ||
    return std::hypot(1 - std::cos(t) + eps, -std::sin(t) + eps);
  };
  auto hinge = [&](double pos, double neg) { return std::max(0.0, dist(pos) - dist(neg) + 0.2); };
  const std::vector<homography> id = {homography::Identity()};
  // relax 4: only each anchor itself is excluded; the hardest negative is the positive of the
  // smallest angle among the others: A -> B, B/C/D -> A.
  opt.relax = 4;
  auto r4 = losses::kp2d_loss(c.src, c.tgt, id, opt);
  const double want4 = (hinge(0, a) + hinge(a, 0) + hinge(b, 0) + hinge(cc, 0)) / 4;
  BOOST_TEST(r4.triplet_images == 1);
  BOOST_TEST(std::abs(r4.desc.item() - want4) < 1e-9, r4.desc.item() << " vs " << want4);
  // relax 5: A and B (4.43 px apart) exclude each other: A -> C, B -> C.
  opt.relax = 5;
  auto r5 = losses::kp2d_loss(c.src, c.tgt, id, opt);
  const double want5 = (hinge(0, b) + hinge(a, b) + hinge(b, 0) + hinge(cc, 0)) / 4;
  BOOST_TEST(std::abs(r5.desc.item() - want5) < 1e-9, r5.desc.item() << " vs " << want5);
  BOOST_TEST(std::abs(want4 - want5) > 0.05);  // the window matters in this case
  // Recall: each anchor's nearest positive is A's (angle 0): only anchor A hits -> 1/4.
  BOOST_TEST(std::abs(r4.recall - 0.25) < 1e-12);
  // Fewer border cells than min_border_cells: the image is skipped.
  opt.min_border_cells = 5;
  auto skipped = losses::kp2d_loss(c.src, c.tgt, id, opt);
  BOOST_TEST(skipped.triplet_images == 0);
  BOOST_TEST(skipped.desc.item() == 0.0);
}

BOOST_AUTO_TEST_CASE(kp2d_location_and_usp_vanish_for_perfectly_warped_coordinates) {
  auto c = blank_kp2d();
  rng g(5);
  for (index_t i = 0; i < 4; ++i)
    for (index_t j = 0; j < 4; ++j) {
      c.src.coord.at({0, 0, i, j}) = 8.0 * double(j) + g.uniform(1, 7);
      c.src.coord.at({0, 1, i, j}) = 8.0 * double(i) + g.uniform(1, 7);
      c.src.score.at({0, 0, i, j}) = g.uniform();
      c.tgt.score.at({0, 0, i, j}) = g.uniform();
    }
  homography hn = homography::Identity();
  hn(0, 0) = 0.95, hn(0, 1) = 0.05, hn(0, 2) = 0.03, hn(1, 0) = -0.04, hn(1, 1) = 1.02, hn(1, 2) = -0.02,
  hn(2, 0) = 0.02, hn(2, 1) = -0.01;
  const auto hp = geometry::normalized_h_to_pixel(hn, {32, 32});
  for (index_t i = 0; i < 4; ++i)
    for (index_t j = 0; j < 4; ++j) {
      const auto q = geometry::apply(hp, {c.src.coord.at({0, 0, i, j}), c.src.coord.at({0, 1, i, j})});
      c.tgt.coord.at({0, 0, i, j}) = q.x();
      c.tgt.coord.at({0, 1, i, j}) = q.y();
    }
  const auto r = losses::kp2d_loss(c.src, c.tgt, {hn});
  BOOST_TEST(r.border_cells == 4);
  BOOST_TEST(r.valid_cells == 4);
  BOOST_TEST(std::abs(r.loc.item()) < 1e-9);
  BOOST_TEST(std::abs(r.usp.item()) < 1e-9);
  // Moving one target point by 1.5 px makes L_loc = 1.5 / 4 (its own cell stays the nearest).
  c.tgt.coord.at({0, 0, 1, 1}) += 1.5;
  const auto r2 = losses::kp2d_loss(c.src, c.tgt, {hn});
  BOOST_TEST(std::abs(r2.loc.item() - 1.5 / 4) < 1e-9);
}

BOOST_AUTO_TEST_CASE(kp2d_io_loss_runs_the_real_ionet_and_reaches_the_descriptors) {
  auto c = blank_kp2d(4);
  rng g(9);
  for (auto* o : {&c.src, &c.tgt}) {
    for (auto& v : o->desc.values()) v = g.uniform(-1, 1);
    for (auto& v : o->score.values()) v = g.uniform();
    o->desc.requires_grad_();
  }
  losses::kp2d_loss_options opt;
  opt.io_points = 8;
  opt.io_inlier_threshold = 100;  // every pair an inlier: the term is active
  opt.io_min_inliers = 0;
  models::ionet<models::ionet_kp2d, double, cpu_ref> net(3);
  const auto r = losses::kp2d_loss(c.src, c.tgt, {homography::Identity()}, opt, net);
  BOOST_TEST(r.io_active);
  BOOST_TEST(r.io_inliers == 8);
  BOOST_TEST(std::isfinite(r.io.item()));
  BOOST_TEST(r.io.item() > 0.0);
  r.io.backward();
  double norm = 0;
  for (double v : c.src.desc.grad().to_vector()) norm += v * v;
  BOOST_TEST(norm > 0.0);
  BOOST_TEST(std::isfinite(norm));
}

BOOST_AUTO_TEST_SUITE_END()
