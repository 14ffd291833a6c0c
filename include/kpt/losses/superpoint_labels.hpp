#pragma once
// SuperPoint detector targets (SPEC 2.2, RP `detector_loss` / `add_keypoint_map`).
//
//   superpoint_labels<B>(points, size, seed, cell = 8) -> int64 [N, Hc, Wc]
//     points[n] are the (x, y) pixel keypoints of image n. Each is rounded to the nearest integer
//     (half to even, as tf.round / torch.round) and clipped to [0, W-1] x [0, H-1]; this gives a
//     keypoint map (duplicates collapse). A cell with no keypoint gets the dustbin class cell^2
//     (64); otherwise the class is the bin c = cell*(y mod cell) + (x mod cell) of one of its
//     keypoint pixels, chosen uniformly at random (seeded) when there are several (paper
//     footnote 2; RP's argmax of 2 + U[0, 0.1) noise is the same distribution).
//   cell_valid_mask(pixel_mask [N, H, W] or [N, 1, H, W], cell = 8) -> [N, Hc, Wc]
//     product of the cell's pixels (RP: space-to-depth then reduce_prod): with a 0/1 mask a cell
//     is valid (1) only if all its pixels are. Not differentiable (it is a weight, not a variable).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "kpt/core/random.hpp"
#include "kpt/core/tensor.hpp"
#include "kpt/geometry/homography.hpp"

namespace kpt::losses {

template <Backend B>
tensor<std::int64_t, B> superpoint_labels(const std::vector<std::vector<geometry::point2>>& points,
                                          geometry::image_size size, std::uint64_t seed, index_t cell = 8) {
  require<value_error>(cell > 0, "superpoint_labels: cell must be positive, got ", cell);
  require<shape_error>(size.height > 0 && size.width > 0 && size.height % cell == 0 && size.width % cell == 0,
                       "superpoint_labels: image size ", size.height, "x", size.width,
                       " must be positive and divisible by the cell size ", cell, " (crop or pad the image)");
  const index_t n = index_t(points.size()), hc = size.height / cell, wc = size.width / cell, cells = hc * wc;
  const std::int64_t dustbin = cell * cell;
  std::vector<std::int64_t> labels(std::size_t(n * cells), dustbin);
  std::vector<std::uint8_t> map(std::size_t(size.height * size.width));
  rng gen(seed);
  for (index_t b = 0; b < n; ++b) {
    std::fill(map.begin(), map.end(), std::uint8_t(0));
    for (const auto& p : points[std::size_t(b)]) {
      require<value_error>(std::isfinite(p.x()) && std::isfinite(p.y()), "superpoint_labels: keypoint (", p.x(), ", ",
                           p.y(), ") of image ", b, " is not finite; filter warped points first");
      // nearbyint rounds half to even in the default rounding mode, like tf.round.
      const index_t x = std::clamp(index_t(std::nearbyint(p.x())), index_t(0), size.width - 1);
      const index_t y = std::clamp(index_t(std::nearbyint(p.y())), index_t(0), size.height - 1);
      map[std::size_t(y * size.width + x)] = 1;
    }
    std::vector<std::int64_t> bins;
    for (index_t ch = 0; ch < hc; ++ch)
      for (index_t cw = 0; cw < wc; ++cw) {
        bins.clear();
        for (index_t dy = 0; dy < cell; ++dy)
          for (index_t dx = 0; dx < cell; ++dx)
            if (map[std::size_t((ch * cell + dy) * size.width + cw * cell + dx)]) bins.push_back(cell * dy + dx);
        if (bins.empty()) continue;
        // Only cells with several keypoints draw, so the sequence does not depend on lone points.
        const std::size_t pick = bins.size() == 1 ? 0 : std::size_t(gen.below(bins.size()));
        labels[std::size_t(b * cells + ch * wc + cw)] = bins[pick];
      }
  }
  return tensor<std::int64_t, B>::from({n, hc, wc}, std::span<const std::int64_t>(labels));
}

template <Real T, Backend B>
tensor<T, B> cell_valid_mask(const tensor<T, B>& pixel_mask, index_t cell = 8) {
  require<shape_error>(pixel_mask.defined(), "cell_valid_mask: the pixel mask is an undefined tensor");
  const auto& s = pixel_mask.shape();
  require<shape_error>(s.rank() == 3 || (s.rank() == 4 && s[1] == 1),
                       "cell_valid_mask: the pixel mask must be [N, H, W] or [N, 1, H, W], got shape ", s.str());
  require<value_error>(cell > 0, "cell_valid_mask: cell must be positive, got ", cell);
  const index_t n = s[0], h = s[s.rank() - 2], w = s[s.rank() - 1];
  require<shape_error>(h % cell == 0 && w % cell == 0, "cell_valid_mask: pixel mask shape ", s.str(),
                       " is not divisible by the cell size ", cell);
  const index_t hc = h / cell, wc = w / cell;
  const auto px = pixel_mask.to_vector();
  std::vector<T> out(std::size_t(n * hc * wc), T(1));
  for (index_t b = 0; b < n; ++b)
    for (index_t y = 0; y < h; ++y)
      for (index_t x = 0; x < w; ++x) out[std::size_t((b * hc + y / cell) * wc + x / cell)] *= px[std::size_t((b * h + y) * w + x)];
  return tensor<T, B>::from({n, hc, wc}, std::span<const T>(out));
}

}  // namespace kpt::losses
