#pragma once
// Training pairs made by warping each sample of a base dataset with a random homography:
// (image, warped image, H, valid mask, points, warped points). Either flavour of sampler.
//
//   homographic_pairs pairs(synthetic_dataset{}, superpoint_homography_config::superpoint_pair(),
//                           {.valid_border_margin = 3});
//   pair_sample p = pairs.get(i);
//
// DIRECTION (as every pair_sample): p.H maps pixels of p.image to pixels of p.warped, and
// p.warped = warp_image(p.image, invert(p.H)). For the SuperPoint flavour p.H is the sampler's
// H_inv (its H maps warped -> original); for KP2D, p.image is the target, p.warped the source and
// p.H = H_pixel_inv. valid_mask is in the warped frame, eroded by valid_border_margin (SPEC 4.1);
// warped_points are the points mapped by H that fall inside the warped image (0 <= x <= W - 1).
// Photometric augmentation, when set, is applied to both images independently after warping.
#include <optional>
#include <utility>

#include "kpt/core/error.hpp"
#include "kpt/data/augment.hpp"
#include "kpt/data/dataset.hpp"
#include "kpt/data/sample_rng.hpp"
#include "kpt/geometry/kp2d_homography.hpp"
#include "kpt/geometry/superpoint_homography.hpp"
#include "kpt/geometry/warp.hpp"

namespace kpt::data {

// The output -> input pixel map of a sampled homography, whatever its flavour.
inline geometry::homography warp_map(const geometry::superpoint_homography_sample& s) { return s.H; }
inline geometry::homography warp_map(const geometry::kp2d_homography_sample& s) { return s.H_pixel; }

struct homographic_pairs_options {
  int valid_border_margin = 0;  // 2 for shapes, 3 for COCO (SPEC 4.1)
  std::uint64_t seed = 0;       // of the homographies and augmentations (the base has its own)
  std::optional<photometric_config> photometric{};            // SuperPoint: each image independently
  std::optional<kp2d_photometric_config> kp2d_photometric{};  // KP2D: shared pair decisions
};

template <Dataset Base, class HConfig>
class homographic_pairs {
 public:
  using options = homographic_pairs_options;

  homographic_pairs(Base base, HConfig homography, options o = {})
      : base_(std::move(base)), h_(std::move(homography)), o_(std::move(o)) {
    require<value_error>(!(o_.photometric && o_.kp2d_photometric),
                         "homographic_pairs: set photometric (SuperPoint) or kp2d_photometric, not both");
    require<value_error>(o_.valid_border_margin >= 0, "homographic_pairs: valid_border_margin must be >= 0");
  }

  index_t size() const { return base_.size(); }
  const Base& base() const { return base_; }

  pair_sample get(index_t i) const {
    image_sample s = base_.get(i);
    const geometry::image_size size{s.image.size(1), s.image.size(2)};
    rng g = sample_rng(o_.seed, i, 10);
    const auto h = geometry::sample_homography(h_, size, g);
    const geometry::homography to_image = warp_map(h);  // warped pixel -> image pixel
    pair_sample p;
    p.image = s.image;
    p.warped = geometry::warp_image(s.image, to_image);
    p.H = geometry::invert(to_image);
    p.valid_mask = geometry::valid_mask<float>(size, to_image, o_.valid_border_margin);
    p.points = s.points;
    if (s.points.defined() && s.points.size(0) > 0) {
      const auto moved = geometry::warp_points(s.points, p.H);
      p.warped_points = geometry::select_points(moved, geometry::in_view(moved, size));
    } else {
      p.warped_points = tensor<float, cpu_ref>::empty({0, 2});
    }
    if (o_.photometric) {
      rng g1 = sample_rng(o_.seed, i, 11), g2 = sample_rng(o_.seed, i, 12);
      p.image = photometric_augment(p.image, *o_.photometric, g1);
      p.warped = photometric_augment(p.warped, *o_.photometric, g2);
    } else if (o_.kp2d_photometric) {
      rng gp = sample_rng(o_.seed, i, 13), g1 = sample_rng(o_.seed, i, 11), g2 = sample_rng(o_.seed, i, 12);
      const auto pair = kp2d_pair_decisions(*o_.kp2d_photometric, gp);
      p.image = kp2d_photometric(p.image, *o_.kp2d_photometric, pair, g1);
      p.warped = kp2d_photometric(p.warped, *o_.kp2d_photometric, pair, g2);
    }
    p.name = s.name;
    return p;
  }

 private:
  Base base_;
  HConfig h_;
  options o_;
};

}  // namespace kpt::data
