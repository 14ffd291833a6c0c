#pragma once
// The six numbers of the KP2D / SuperPoint HPatches protocol for one image pair, and their means.
//
//   auto m = eval::evaluate_pair(kp1, kp2, H, {240, 320}, {.top_k = 300});
//   std::vector<eval::pair_metrics> all = ...;
//   eval::metric_means mean = eval::mean_metrics(all);   // plain means, as np.mean (NaN propagates)
//
// The metrics themselves: detector_metrics.hpp (repeatability, localization error) and
// descriptor_metrics.hpp (matching score, homography accuracy Cor-1/3/5).
#include <span>

#include "kpt/eval/descriptor_metrics.hpp"
#include "kpt/eval/detector_metrics.hpp"

namespace kpt::eval {

struct eval_options {
  index_t top_k = 300;              // 300 at 240x320, 1000 at 480x640 (SPEC 7.6)
  double distance_threshold = 3.0;  // repeatability and matching score
  geometry::ransac_options ransac = kp2d_ransac_options();
};

struct pair_metrics {
  repeatability_result repeatability;
  matching_score_result matching;
  homography_accuracy_result homography;
};

inline pair_metrics evaluate_pair(const scored_keypoints& a, const scored_keypoints& b, const geometry::homography& H,
                                  geometry::image_size size, const eval_options& o = {}) {
  pair_metrics m;
  m.repeatability = repeatability(a, b, H, size, o.top_k, o.distance_threshold);
  m.matching = matching_score(a, b, H, size, o.top_k, o.distance_threshold);
  m.homography = homography_accuracy(a, b, H, size, o.top_k, o.ransac);
  return m;
}

struct metric_means {
  index_t pairs = 0;
  double repeatability = 0, localization_error = 0, matching_score = 0, cor1 = 0, cor3 = 0, cor5 = 0;
};

// Means over pairs, each metric as KP2D averages it (a -1 repeatability of an empty pair counts;
// a NaN localization error makes the mean NaN). No pairs: every mean is NaN.
inline metric_means mean_metrics(std::span<const pair_metrics> pairs) {
  metric_means s;
  s.pairs = index_t(pairs.size());
  for (const auto& p : pairs) {
    s.repeatability += p.repeatability.repeatability;
    s.localization_error += p.repeatability.localization_error;
    s.matching_score += p.matching.matching_score;
    s.cor1 += p.homography.cor1;
    s.cor3 += p.homography.cor3;
    s.cor5 += p.homography.cor5;
  }
  const double n = double(s.pairs);  // 0 / 0 = NaN for an empty list
  for (double* v : {&s.repeatability, &s.localization_error, &s.matching_score, &s.cor1, &s.cor3, &s.cor5}) *v /= n;
  return s;
}

}  // namespace kpt::eval
