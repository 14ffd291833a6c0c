#pragma once
// Non-maximum suppression of detections, the three variants of the references (SPEC 1.4 step 5).
//
//   nms_grid(c, H, W, r)      magicleap's nms_fast: greedy in descending score, each kept point
//                             clears the (2r+1)x(2r+1) window around its rounded position
//                             (Chebyshev distance <= r). The default of SuperPoint decoding.
//   nms_box(c, s, iou)        rpautrat's box_nms: s x s boxes centred on the points, greedy
//                             suppression of boxes whose IoU with a kept box exceeds iou (0.1).
//   nms_maxpool(scores, H, W, r)  SuperGlue / rpautrat-PyTorch: a pixel survives if it is the
//                             maximum of its (2r+1)^2 window, plus two rounds that recover maxima
//                             outside the windows of the survivors. Works on the dense score map.
//
// The list variants take candidates (x, y, score) and return the survivors sorted by score,
// highest first (ties: input order for nms_box, row-major pixel order for nms_grid).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <span>
#include <vector>

#include "kpt/core/error.hpp"
#include "kpt/decode/keypoints.hpp"

namespace kpt::decode {

// magicleap's nms_fast(in_corners, H, W, dist_thresh = radius). Positions are rounded to the
// nearest integer (ties to even, as numpy's round) and must fall inside the H x W image. When two
// candidates round to the same pixel, the lower-scoring one is reported (with its own position and
// score) in place of the higher one that won there: magicleap's index grid keeps the last writer.
inline std::vector<candidate> nms_grid(std::span<const candidate> points, index_t height, index_t width, int radius) {
  require<value_error>(radius >= 0, "decode::nms_grid: radius ", radius, " must be >= 0");
  require<value_error>(height > 0 && width > 0, "decode::nms_grid: image size ", height, "x", width, " must be positive");
  std::vector<candidate> sorted(points.begin(), points.end());
  sort_by_score(sorted);
  if (sorted.size() <= 1) return sorted;
  const index_t pad = radius, gw = width + 2 * pad, gh = height + 2 * pad;
  // grid: 0 empty or suppressed, 1 candidate, -1 kept (padded by `radius` so windows never clip).
  std::vector<std::int8_t> grid(std::size_t(gh * gw), 0);
  std::vector<index_t> owner(std::size_t(height * width), -1);
  std::vector<std::pair<index_t, index_t>> at(sorted.size());
  for (std::size_t i = 0; i < sorted.size(); ++i) {
    const double rx = std::nearbyint(sorted[i].x), ry = std::nearbyint(sorted[i].y);
    require<value_error>(rx >= 0 && ry >= 0 && rx < double(width) && ry < double(height), "decode::nms_grid: point (",
                         sorted[i].x, ", ", sorted[i].y, ") lies outside the ", height, "x", width, " image");
    at[i] = {index_t(rx), index_t(ry)};
    grid[std::size_t((at[i].second + pad) * gw + at[i].first + pad)] = 1;
    owner[std::size_t(at[i].second * width + at[i].first)] = index_t(i);
  }
  for (std::size_t i = 0; i < sorted.size(); ++i) {
    const index_t cx = at[i].first + pad, cy = at[i].second + pad;
    if (grid[std::size_t(cy * gw + cx)] != 1) continue;
    for (index_t y = cy - pad; y <= cy + pad; ++y)
      std::fill_n(grid.begin() + std::ptrdiff_t(y * gw + cx - pad), std::size_t(2 * pad + 1), std::int8_t(0));
    grid[std::size_t(cy * gw + cx)] = -1;
  }
  std::vector<candidate> kept;
  for (index_t y = 0; y < height; ++y)
    for (index_t x = 0; x < width; ++x)
      if (grid[std::size_t((y + pad) * gw + x + pad)] == -1) kept.push_back(sorted[std::size_t(owner[std::size_t(y * width + x)])]);
  // Back to descending score; equal scores in row-major order of their pixels.
  sort_by_score(kept);
  return kept;
}

// Whether box NMS with s x s boxes suppresses a box whose centre is offset by (dx, dy) from a kept
// one: IoU = inter / (2 s^2 - inter) > iou with inter = max(0, s - |dx|) max(0, s - |dy|).
inline bool box_overlap_suppresses(double dx, double dy, double size, double iou) {
  const double ix = std::max(0.0, size - std::abs(dx)), iy = std::max(0.0, size - std::abs(dy));
  const double inter = ix * iy;
  if (inter <= 0) return false;
  return inter / (2 * size * size - inter) > iou;
}

// rpautrat's box_nms(prob, size, iou, min_prob): boxes [y - s/2, x - s/2, y + s/2, x + s/2], greedy
// in descending score (tf.image.non_max_suppression). For s = 4, iou = 0.1 a kept point removes the
// points at Chebyshev distance <= 3 except offsets (3, 2), (2, 3) and (3, 3).
inline std::vector<candidate> nms_box(std::span<const candidate> points, double size, double iou = 0.1) {
  require<value_error>(size > 0, "decode::nms_box: box size ", size, " must be > 0");
  require<value_error>(iou >= 0 && iou < 1, "decode::nms_box: IoU threshold ", iou, " must be in [0, 1)");
  std::vector<candidate> sorted(points.begin(), points.end());
  sort_by_score(sorted);
  if (sorted.empty()) return sorted;
  // Boxes overlap only when both offsets are below s: bucket the kept points by s x s tiles.
  double x0 = sorted[0].x, y0 = sorted[0].y, x1 = x0, y1 = y0;
  for (const auto& c : sorted) {
    x0 = std::min(x0, c.x), y0 = std::min(y0, c.y), x1 = std::max(x1, c.x), y1 = std::max(y1, c.y);
  }
  const index_t tw = index_t((x1 - x0) / size) + 1, th = index_t((y1 - y0) / size) + 1;
  std::vector<std::vector<std::size_t>> tiles(std::size_t(tw * th));
  auto tile_of = [&](double v, double lo) { return index_t((v - lo) / size); };
  std::vector<candidate> kept;
  for (const auto& c : sorted) {
    const index_t tx = tile_of(c.x, x0), ty = tile_of(c.y, y0);
    bool suppressed = false;
    for (index_t y = std::max<index_t>(ty - 1, 0); y <= std::min(ty + 1, th - 1) && !suppressed; ++y)
      for (index_t x = std::max<index_t>(tx - 1, 0); x <= std::min(tx + 1, tw - 1) && !suppressed; ++x)
        for (std::size_t k : tiles[std::size_t(y * tw + x)])
          if (box_overlap_suppresses(c.x - kept[k].x, c.y - kept[k].y, size, iou)) {
            suppressed = true;
            break;
          }
    if (suppressed) continue;
    tiles[std::size_t(ty * tw + tx)].push_back(kept.size());
    kept.push_back(c);
  }
  return kept;
}

namespace nms_detail {

// Max over the (2r+1)^2 window of every pixel, the outside counting as -inf (max_pool2d with
// stride 1 and padding r). Separable: rows, then columns.
inline std::vector<double> window_max(const std::vector<double>& s, index_t h, index_t w, int r) {
  std::vector<double> rows(s.size()), out(s.size());
  for (index_t y = 0; y < h; ++y)
    for (index_t x = 0; x < w; ++x) {
      double m = -std::numeric_limits<double>::infinity();
      for (index_t k = std::max<index_t>(x - r, 0); k <= std::min<index_t>(x + r, w - 1); ++k) m = std::max(m, s[std::size_t(y * w + k)]);
      rows[std::size_t(y * w + x)] = m;
    }
  for (index_t y = 0; y < h; ++y)
    for (index_t x = 0; x < w; ++x) {
      double m = -std::numeric_limits<double>::infinity();
      for (index_t k = std::max<index_t>(y - r, 0); k <= std::min<index_t>(y + r, h - 1); ++k) m = std::max(m, rows[std::size_t(k * w + x)]);
      out[std::size_t(y * w + x)] = m;
    }
  return out;
}

}  // namespace nms_detail

// SuperGlue's simple_nms(scores, nms_radius = radius) on a row-major H x W map: the mask (1 = kept)
// of the pixels that survive. Suppressed pixels would get score 0 in the reference.
template <Real T>
std::vector<std::uint8_t> nms_maxpool(std::span<const T> scores, index_t height, index_t width, int radius) {
  require<value_error>(radius >= 0, "decode::nms_maxpool: radius ", radius, " must be >= 0");
  require<shape_error>(index_t(scores.size()) == height * width, "decode::nms_maxpool: ", scores.size(),
                       " scores for a ", height, "x", width, " map");
  const std::size_t n = scores.size();
  std::vector<double> s(scores.begin(), scores.end());
  std::vector<std::uint8_t> keep(n);
  {
    const auto m = nms_detail::window_max(s, height, width, radius);
    for (std::size_t i = 0; i < n; ++i) keep[i] = s[i] == m[i];
  }
  for (int round = 0; round < 2; ++round) {
    std::vector<double> k(keep.begin(), keep.end());
    const auto near_kept = nms_detail::window_max(k, height, width, radius);
    std::vector<double> rest(n);
    for (std::size_t i = 0; i < n; ++i) rest[i] = near_kept[i] > 0 ? 0.0 : s[i];
    const auto m = nms_detail::window_max(rest, height, width, radius);
    for (std::size_t i = 0; i < n; ++i)
      if (rest[i] == m[i] && !(near_kept[i] > 0)) keep[i] = 1;
  }
  return keep;
}

}  // namespace kpt::decode
