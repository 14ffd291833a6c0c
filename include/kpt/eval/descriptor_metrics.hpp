#pragma once
// Matching score and homography accuracy (SPEC 7.4, 7.5: KP2D compute_matching_score and
// compute_homography).
//
//   auto ms = eval::matching_score(kp1, kp2, H, {240, 320}, 300);      // ms.matching_score
//   auto ha = eval::homography_accuracy(kp1, kp2, H, {240, 320}, 300); // ha.cor1, cor3, cor5, ha.H_est
//
// H maps pixels of image 1 to image 2; both images have size `size` (the evaluated size).
//
// Matching score: top_k of each set by score (no view test); each image-1 descriptor is matched
// to its nearest image-2 descriptor (no cross check); the matched image-2 point is mapped back by
// H^-1; the match is visible when that point lies in [0, W-1] x [0, H-1] and correct when it is
// closer than 3 px (strict) to the image-1 point. score1 = #(correct and visible) / max(#visible, 1);
// score2 the same from image 2 with H; matching_score = (score1 + score2) / 2.
//
// Homography accuracy: points that stay inside the other image ([0, W) x [0, H)), then top_k;
// mutual nearest neighbours; with >= 4 matches RANSAC (3 px, 5000 iterations, 0.995); the mean
// distance between the four corners mapped by H and by the estimate gives cor_e = [mean <= e]
// for e = 1, 3, 5. No estimate (< 4 matches, RANSAC failure): all three are 0.
#include <cmath>
#include <limits>
#include <optional>
#include <vector>

#include "kpt/eval/detector_metrics.hpp"
#include "kpt/eval/homography_estimation.hpp"
#include "kpt/eval/matching.hpp"

namespace kpt::eval {

struct matching_score_result {
  index_t visible1 = 0, correct1 = 0;  // image 1 -> 2 matches: visible, visible and correct
  index_t visible2 = 0, correct2 = 0;  // image 2 -> 1
  double score1 = 0, score2 = 0, matching_score = 0;
};

namespace metrics_detail {

inline void check_descriptors(const scored_keypoints& a, const scored_keypoints& b, const char* op) {
  require<shape_error>(a.size() == 0 || a.dim > 0, op, ": image-1 keypoints have no descriptors");
  require<shape_error>(b.size() == 0 || b.dim > 0, op, ": image-2 keypoints have no descriptors");
  require<shape_error>(a.size() == 0 || b.size() == 0 || a.dim == b.dim, op, ": descriptor sizes differ (", a.dim,
                       " in image 1, ", b.dim, " in image 2)");
}

// One direction of the matching score: queries q matched into train t; `back` maps t's frame to q's.
inline void score_direction(const scored_keypoints& q, const scored_keypoints& t, const geometry::homography& back,
                            geometry::image_size size, double threshold, index_t& visible, index_t& correct) {
  for (const auto& m : match_descriptors(q, t)) {
    const geometry::point2 p = geometry::apply(back, t.xy[std::size_t(m.train)]);
    const bool vis = geometry::is_in_view(p, size, geometry::view_bounds::closed);
    const bool ok = (p - q.xy[std::size_t(m.query)]).norm() < threshold;
    visible += vis;
    correct += vis && ok;
  }
}

}  // namespace metrics_detail

inline matching_score_result matching_score(const scored_keypoints& a, const scored_keypoints& b,
                                            const geometry::homography& H, geometry::image_size size, index_t top_k,
                                            double threshold = 3.0) {
  metrics_detail::check_size(size, "eval::matching_score");
  metrics_detail::check_descriptors(a, b, "eval::matching_score");
  require<value_error>(top_k >= 0, "eval::matching_score: top_k must be >= 0, got ", top_k);
  const scored_keypoints ka = eval::top_k(a, top_k), kb = eval::top_k(b, top_k);
  matching_score_result r;
  metrics_detail::score_direction(ka, kb, geometry::invert(H), size, threshold, r.visible1, r.correct1);
  metrics_detail::score_direction(kb, ka, H, size, threshold, r.visible2, r.correct2);
  r.score1 = double(r.correct1) / double(std::max<index_t>(r.visible1, 1));
  r.score2 = double(r.correct2) / double(std::max<index_t>(r.visible2, 1));
  r.matching_score = (r.score1 + r.score2) / 2.0;
  return r;
}

struct homography_accuracy_result {
  index_t n1 = 0, n2 = 0;  // shared points kept in each image
  index_t matches = 0;     // mutual nearest neighbours
  homography_estimate estimate;
  double corner_error = std::numeric_limits<double>::quiet_NaN();  // NaN without an estimate
  double cor1 = 0, cor3 = 0, cor5 = 0;
};

inline homography_accuracy_result homography_accuracy(const scored_keypoints& a, const scored_keypoints& b,
                                                      const geometry::homography& H, geometry::image_size size,
                                                      index_t top_k,
                                                      const geometry::ransac_options& ransac = kp2d_ransac_options()) {
  metrics_detail::check_size(size, "eval::homography_accuracy");
  metrics_detail::check_descriptors(a, b, "eval::homography_accuracy");
  require<value_error>(top_k >= 0, "eval::homography_accuracy: top_k must be >= 0, got ", top_k);
  const scored_keypoints ka = select(a, metrics_detail::shared_top_k(a, H, size, top_k));
  const scored_keypoints kb = select(b, metrics_detail::shared_top_k(b, geometry::invert(H), size, top_k));
  homography_accuracy_result r;
  r.n1 = ka.size();
  r.n2 = kb.size();
  const auto m = match_descriptors(ka, kb, {.mutual = true});
  r.matches = index_t(m.size());
  r.estimate = estimate_homography(ka, kb, m, ransac);
  if (!r.estimate.found) return r;
  r.corner_error = corner_error(H, r.estimate.H, size);
  r.cor1 = r.corner_error <= 1.0;
  r.cor3 = r.corner_error <= 3.0;
  r.cor5 = r.corner_error <= 5.0;
  return r;
}

}  // namespace kpt::eval
