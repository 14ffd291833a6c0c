#pragma once
// Detection average precision against ground-truth points: the metric of the SuperPoint paper's
// synthetic-shapes table (Table 1: mAP, a detection is correct within 4 px), computed as
// rpautrat/SuperPoint's evaluation does (compute_tp_fp, compute_pr, compute_average_precision):
//
//  - per image, detections sorted by score (highest first); a detection is a true positive when
//    some ground-truth point lies within `distance` pixels (Euclidean, <=) and the first such
//    point (in ground-truth order) has not been taken by a higher-scored detection; else a false
//    positive. Ground-truth points never matched count as misses.
//  - all images pooled: detections sorted by score, cumulative precision tp / (tp + fp) and recall
//    tp / (ground-truth points); the curve gets the end points (recall 0, precision 0) and
//    (recall 1, precision 0), each precision is replaced by the largest at any higher recall
//    (interpolated precision), and AP = sum_k precision_k (recall_k - recall_{k-1}).
//  - ground truth as rpautrat's pipeline prepares it: pixel_ground_truth rounds the points to
//    pixels, clips them into the image and merges duplicates.
//
//   eval::detection_counter c(4.0);
//   for each image: c.add(detections, ground_truth);
//   auto r = c.result();      // r.average_precision, r.precision, r.recall, ...
#include <algorithm>
#include <cmath>
#include <numeric>
#include <span>
#include <vector>

#include "kpt/core/error.hpp"
#include "kpt/eval/scored_keypoints.hpp"

namespace kpt::eval {

struct detection_ap_result {
  double average_precision = 0;
  double precision = 0, recall = 0;  // at the lowest score (every detection kept)
  index_t images = 0, detections = 0, ground_truth = 0, true_positives = 0;
};

// Ground-truth points as rpautrat's pipeline keeps them: rounded to the nearest pixel, clipped into
// [0, W - 1] x [0, H - 1], duplicates merged (first occurrence kept).
inline std::vector<geometry::point2> pixel_ground_truth(std::span<const geometry::point2> points, geometry::image_size size) {
  std::vector<geometry::point2> out;
  for (const auto& p : points) {
    const geometry::point2 q(std::clamp(std::nearbyint(p.x()), 0.0, double(size.width - 1)),  // half to even, as numpy
                             std::clamp(std::nearbyint(p.y()), 0.0, double(size.height - 1)));
    if (std::find(out.begin(), out.end(), q) == out.end()) out.push_back(q);
  }
  return out;
}

class detection_counter {
 public:
  explicit detection_counter(double distance = 4.0) : distance_(distance) {
    require<value_error>(distance > 0, "detection_counter: the correctness distance must be > 0, got ", distance);
  }

  void add(const scored_keypoints& detections, std::span<const geometry::point2> ground_truth) {
    std::vector<index_t> order(std::size_t(detections.size()));
    std::iota(order.begin(), order.end(), index_t(0));
    std::stable_sort(order.begin(), order.end(),
                     [&](index_t a, index_t b) { return detections.score[std::size_t(a)] > detections.score[std::size_t(b)]; });
    std::vector<char> taken(ground_truth.size(), 0);
    const double d2 = distance_ * distance_;
    for (index_t i : order) {
      const auto& p = detections.xy[std::size_t(i)];
      bool tp = false;
      for (std::size_t g = 0; g < ground_truth.size(); ++g)
        if ((ground_truth[g] - p).squaredNorm() <= d2) {  // the first ground-truth point in reach
          tp = !taken[g];
          taken[g] = 1;
          break;
        }
      scored_.push_back({detections.score[std::size_t(i)], tp});
    }
    ground_truth_ += index_t(ground_truth.size());
    ++images_;
  }

  detection_ap_result result() const {
    detection_ap_result r;
    r.images = images_;
    r.detections = index_t(scored_.size());
    r.ground_truth = ground_truth_;
    auto s = scored_;
    std::stable_sort(s.begin(), s.end(), [](const entry& a, const entry& b) { return a.score > b.score; });
    std::vector<double> precision{0.0}, recall{0.0};  // with the end points (0, 0) and (1, 0)
    double tp = 0, fp = 0;
    for (const auto& e : s) {
      (e.tp ? tp : fp) += 1;
      precision.push_back(tp / (tp + fp));
      recall.push_back(ground_truth_ > 0 ? tp / double(ground_truth_) : 0);
    }
    precision.push_back(0.0);
    recall.push_back(1.0);
    for (std::size_t k = precision.size() - 1; k-- > 0;) precision[k] = std::max(precision[k], precision[k + 1]);
    for (std::size_t k = 1; k < precision.size(); ++k) r.average_precision += precision[k] * (recall[k] - recall[k - 1]);
    r.true_positives = index_t(tp);
    r.precision = tp + fp > 0 ? tp / (tp + fp) : 0;
    r.recall = ground_truth_ > 0 ? tp / double(ground_truth_) : 0;
    return r;
  }

 private:
  struct entry {
    float score;
    bool tp;
  };
  double distance_;
  std::vector<entry> scored_;
  index_t ground_truth_ = 0, images_ = 0;
};

}  // namespace kpt::eval
