#pragma once
// The input of the evaluation metrics: keypoints (x, y, score) in pixels of the evaluated image,
// optionally with one descriptor row per keypoint.
//
//   auto kp = eval::scored_keypoints::from_rows(xys, desc, 256);  // xys: K x 3 (x, y, score), desc: K x 256
//   auto best = eval::select(kp, eval::top_k_order(kp.score, 300));
//
// A plain owning value on purpose: the metrics only need arrays, so any detector (a network's
// decoded output, OpenCV SIFT written to .npy, ...) converts into it.
#include <algorithm>
#include <cmath>
#include <numeric>
#include <span>
#include <vector>

#include "kpt/core/error.hpp"
#include "kpt/core/shape.hpp"
#include "kpt/geometry/homography.hpp"

namespace kpt::eval {

// Row-major rows x dim float descriptors (not owned).
struct descriptor_view {
  const float* data = nullptr;
  index_t rows = 0, dim = 0;
  const float* row(index_t i) const { return data + i * dim; }
};

struct scored_keypoints {
  std::vector<geometry::point2> xy;  // (x, y) in pixels
  std::vector<float> score;
  std::vector<float> desc;  // size() * dim values, row-major; empty when dim == 0
  index_t dim = 0;

  index_t size() const { return index_t(xy.size()); }
  descriptor_view descriptors() const { return {desc.data(), size(), dim}; }

  // From K x 3 rows (x, y, score) and K x dim descriptor rows (dim = 0: no descriptors).
  static scored_keypoints from_rows(std::span<const float> xys, std::span<const float> descriptors = {},
                                    index_t dim = 0) {
    require<shape_error>(xys.size() % 3 == 0, "eval::scored_keypoints: keypoint rows must be (x, y, score), got ",
                         xys.size(), " values (not a multiple of 3)");
    const index_t k = index_t(xys.size() / 3);
    require<shape_error>(dim >= 0 && descriptors.size() == std::size_t(k * dim),
                         "eval::scored_keypoints: ", k, " keypoints need ", k, " x ", dim, " descriptor values, got ",
                         descriptors.size());
    scored_keypoints s;
    s.xy.resize(std::size_t(k));
    s.score.resize(std::size_t(k));
    for (index_t i = 0; i < k; ++i) {
      const float x = xys[std::size_t(3 * i)], y = xys[std::size_t(3 * i + 1)], p = xys[std::size_t(3 * i + 2)];
      require<value_error>(std::isfinite(x) && std::isfinite(y) && std::isfinite(p), "eval::scored_keypoints: keypoint ",
                           i, " is (", x, ", ", y, ", ", p, "); coordinates and scores must be finite");
      s.xy[std::size_t(i)] = {double(x), double(y)};
      s.score[std::size_t(i)] = p;
    }
    s.desc.assign(descriptors.begin(), descriptors.end());
    s.dim = dim;
    return s;
  }
};

// Indices of the min(k, n) highest scores, in ascending score order; equal scores keep their
// input order. This is KP2D's select_k_best (argsort ascending, take the last k) with a stable
// sort, so ties at the cut are resolved the same way on every platform (numpy's default
// quicksort is not stable). The order matters: nearest-neighbour ties go to the first index.
inline std::vector<index_t> top_k_order(std::span<const float> score, index_t k) {
  require<value_error>(k >= 0, "eval::top_k_order: k must be >= 0, got ", k);
  std::vector<index_t> idx(score.size());
  std::iota(idx.begin(), idx.end(), index_t(0));
  std::stable_sort(idx.begin(), idx.end(),
                   [&](index_t a, index_t b) { return score[std::size_t(a)] < score[std::size_t(b)]; });
  const std::size_t keep = std::min<std::size_t>(idx.size(), std::size_t(k));
  idx.erase(idx.begin(), idx.end() - std::ptrdiff_t(keep));
  return idx;
}

// The keypoints (and descriptors) at `idx`, in that order.
inline scored_keypoints select(const scored_keypoints& s, std::span<const index_t> idx) {
  scored_keypoints out;
  out.dim = s.dim;
  out.xy.reserve(idx.size());
  out.score.reserve(idx.size());
  out.desc.reserve(idx.size() * std::size_t(s.dim));
  for (index_t i : idx) {
    require<value_error>(i >= 0 && i < s.size(), "eval::select: index ", i, " out of range [0, ", s.size(), ")");
    out.xy.push_back(s.xy[std::size_t(i)]);
    out.score.push_back(s.score[std::size_t(i)]);
    const float* d = s.desc.data() + i * s.dim;
    out.desc.insert(out.desc.end(), d, d + s.dim);
  }
  return out;
}

inline scored_keypoints top_k(const scored_keypoints& s, index_t k) { return select(s, top_k_order(s.score, k)); }

}  // namespace kpt::eval
