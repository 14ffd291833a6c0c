#pragma once
// Repeatability and localization error of keypoints between two views (SPEC 7.3, KP2D
// compute_repeatability with distance_thresh = 3).
//
//   auto r = eval::repeatability(kp1, kp2, H, {240, 320}, 300);   // H: pixels of image 1 -> image 2
//   r.repeatability, r.localization_error
//
// Steps, as KP2D's code: image-2 points are kept when H^-1 p lies in [0, W) x [0, H); image-1
// points are warped by H and kept when inside [0, W) x [0, H); each set keeps its top_k by score;
// count1 / le1 = number / sum of the nearest distances <= threshold from every warped image-1
// point to the image-2 points, count2 / le2 the same the other way.
//   repeatability = (count1 + count2) / (N1 + N2), localization_error = (le1 + le2) / (count1 + count2);
// both are -1 when N1 + N2 = 0, and localization_error is NaN when no point is within the
// threshold (KP2D divides 0 by 0; its mean over pairs is then NaN as well).
#include <cmath>
#include <limits>
#include <span>
#include <vector>

#include "kpt/eval/scored_keypoints.hpp"
#include "kpt/geometry/warp.hpp"

namespace kpt::eval {

struct repeatability_result {
  index_t n1 = 0, n2 = 0;          // points kept in each view (after the view test and top-k)
  index_t count1 = 0, count2 = 0;  // of those, points with a counterpart within the threshold
  double le1 = 0, le2 = 0;         // sums of those nearest distances
  double repeatability = -1, localization_error = -1;
};

namespace metrics_detail {

// Indices of points p with map(p) inside the image (half-open bounds, SPEC 7.3/7.5), then the top k of those by score.
inline std::vector<index_t> shared_top_k(const scored_keypoints& s, const geometry::homography& map,
                                         geometry::image_size size, index_t k) {
  std::vector<index_t> kept;
  std::vector<float> scores;
  for (index_t i = 0; i < s.size(); ++i)
    if (geometry::is_in_view(geometry::apply(map, s.xy[std::size_t(i)]), size, geometry::view_bounds::half_open)) {
      kept.push_back(i);
      scores.push_back(s.score[std::size_t(i)]);
    }
  std::vector<index_t> out;
  for (index_t j : top_k_order(scores, k)) out.push_back(kept[std::size_t(j)]);
  return out;
}

inline void check_size(geometry::image_size s, const char* op) {
  require<value_error>(s.height > 0 && s.width > 0, op, ": image size ", s.height, "x", s.width, " must be positive");
}

}  // namespace metrics_detail

inline repeatability_result repeatability(const scored_keypoints& a, const scored_keypoints& b,
                                          const geometry::homography& H, geometry::image_size size, index_t top_k,
                                          double threshold = 3.0) {
  metrics_detail::check_size(size, "eval::repeatability");
  require<value_error>(top_k >= 0, "eval::repeatability: top_k must be >= 0, got ", top_k);
  const geometry::homography Hinv = geometry::invert(H);
  // Image 1: warped by H, kept inside image 2. Image 2: kept when H^-1 brings it inside image 1.
  std::vector<geometry::point2> p1, p2;
  for (index_t i : metrics_detail::shared_top_k(a, H, size, top_k))
    p1.push_back(geometry::apply(H, a.xy[std::size_t(i)]));
  for (index_t i : metrics_detail::shared_top_k(b, Hinv, size, top_k)) p2.push_back(b.xy[std::size_t(i)]);

  repeatability_result r;
  r.n1 = index_t(p1.size());
  r.n2 = index_t(p2.size());
  constexpr double inf = std::numeric_limits<double>::infinity();
  std::vector<double> min1(p1.size(), inf), min2(p2.size(), inf);
  for (std::size_t i = 0; i < p1.size(); ++i)
    for (std::size_t j = 0; j < p2.size(); ++j) {
      const double d = (p1[i] - p2[j]).norm();
      if (d < min1[i]) min1[i] = d;
      if (d < min2[j]) min2[j] = d;
    }
  for (double d : min1)
    if (d <= threshold) ++r.count1, r.le1 += d;
  for (double d : min2)
    if (d <= threshold) ++r.count2, r.le2 += d;
  if (r.n1 + r.n2 > 0) {
    r.repeatability = double(r.count1 + r.count2) / double(r.n1 + r.n2);
    r.localization_error = r.count1 + r.count2 > 0 ? (r.le1 + r.le2) / double(r.count1 + r.count2)
                                                   : std::numeric_limits<double>::quiet_NaN();
  }
  return r;
}

}  // namespace kpt::eval
