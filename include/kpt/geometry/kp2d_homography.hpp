#pragma once
// KP2D's random homography (TRI-ML/KP2D `augmentations.sample_homography`, SPEC 4.3), with
// the two guards the reference lacks.
//
//   kpt::rng g(seed);
//   auto s = sample_homography(kp2d_homography_config::training(), {240, 320}, g);
//   auto source = warp_image(target, s.H_pixel);   // source(p) = target(H_pixel p)
//
// DIRECTION: s.H maps SOURCE (augmented) normalised coordinates to TARGET (original) normalised
// coordinates (align_corners = true: x_n = 2 x / (W - 1) - 1); the source image is
// grid_sample(target, H * grid), i.e. source(p) = target(H p). s.H_pixel = N^-1 H N is the same map
// between pixel coordinates, so warp_image(target, s.H_pixel) makes the source image, exactly as
// SuperPoint's H does for its warped image. Target points move into the source with s.H_pixel_inv.
//
// Working frame: x in [-1, 1], y in [-r, r] with r = H/W (aspect-correct square). The source
// corners (+-1, +-1) are paired with a patch pts2 = patch_ratio * corners (y scaled by r), jittered
// by a clipped-normal perspective, scaled about its centroid (one of n_scales clipped-normal
// scales or 1), translated so that it stays in the box, rotated about its centroid by an angle
// keeping it in [-1, 1) x [-r, r), and finally y /= r.
//
// Guards (the reference fails there): (1) if the patch is wider than the box on an axis, the
// translation interval [-t_min, t_max] is empty (numpy then samples inside (t_max, -t_min]);
// kpt centres the patch on that axis instead. (2) If no angle, not even 0, keeps the patch
// inside (the reference indexes an empty array), kpt uses angle 0. Both are reported in the sample.
#include <algorithm>
#include <array>
#include <cmath>
#include <numbers>
#include <vector>

#include "kpt/core/error.hpp"
#include "kpt/core/random.hpp"
#include "kpt/geometry/dlt.hpp"
#include "kpt/geometry/homography.hpp"

namespace kpt::geometry {

struct kp2d_homography_config {
  bool perspective = true;
  bool scaling = true;
  bool rotation = true;
  bool translation = true;
  int n_scales = 100;  // candidates N(1, amp/2) clipped to [1 - amp/2, 1 + amp/2]; index 0 = scale 1
  int n_angles = 100;  // candidates linspace(-max_angle, max_angle, n_angles) plus 0
  double scaling_amplitude = 0.1;
  double perspective_amplitude = 0.4;  // offsets N(0, amp/2) clipped to +-amp/2 (y: times H/W)
  double patch_ratio = 0.8;
  double max_angle = std::numbers::pi / 4;

  // The training call (`ha_augment_sample`): patch_ratio 0.7, scaling_amplitude 0.2, max_angle pi/4.
  static kp2d_homography_config training() {
    kp2d_homography_config c;
    c.patch_ratio = 0.7;
    c.scaling_amplitude = 0.2;
    c.max_angle = std::numbers::pi / 4;
    return c;
  }
};

struct kp2d_homography_sample {
  homography H;            // source normalised -> target normalised (the reference's matrix)
  homography H_pixel;      // source pixel -> target pixel (= N^-1 H N)
  homography H_pixel_inv;  // target pixel -> source pixel
  std::array<point2, 4> source_corners;  // pts1: (-1,-1), (-1,1), (1,-1), (1,1)
  std::array<point2, 4> target_corners;  // pts2 (normalised): H maps source_corners onto these
  std::array<double, 2> perspective_x{}, perspective_y{};
  double scale = 1;
  point2 translation = point2::Zero();  // in the working frame (y in [-r, r])
  double angle = 0;
  bool translation_guard = false;  // guard (1) was applied on some axis
  bool rotation_guard = false;     // guard (2) was applied
};

inline kp2d_homography_sample sample_homography(const kp2d_homography_config& c, image_size size, rng& g) {
  using quad = std::array<point2, 4>;
  require<value_error>(size.height > 1 && size.width > 1, "sample_homography (kp2d): image size ", size.height, "x",
                       size.width, " needs at least 2 pixels per axis");
  require<value_error>(c.patch_ratio > 0, "sample_homography (kp2d): patch_ratio ", c.patch_ratio,
                       " must be positive");
  require<value_error>(!c.scaling || c.n_scales >= 1, "sample_homography (kp2d): n_scales must be >= 1");
  require<value_error>(!c.rotation || c.n_angles >= 1, "sample_homography (kp2d): n_angles must be >= 1");
  kp2d_homography_sample s;
  const double r = double(size.height) / double(size.width);
  const quad pts1 = {point2(-1, -1), point2(-1, 1), point2(1, -1), point2(1, 1)};
  quad pts2;
  for (int j = 0; j < 4; ++j) pts2[std::size_t(j)] = {pts1[std::size_t(j)].x() * c.patch_ratio, pts1[std::size_t(j)].y() * c.patch_ratio * r};

  auto centroid = [](const quad& q) { return point2((q[0] + q[1] + q[2] + q[3]) / 4.0); };

  if (c.perspective) {
    const double a = c.perspective_amplitude / 2;
    for (auto& v : s.perspective_x) v = std::clamp(g.normal(0, a), -a, a);
    for (auto& v : s.perspective_y) v = std::clamp(g.normal(0, a * r), -a * r, a * r);
    const auto &px = s.perspective_x, &py = s.perspective_y;
    pts2[0] += point2(-px[1], -py[1]);
    pts2[1] += point2(-px[0], +py[1]);
    pts2[2] += point2(+px[1], -py[0]);
    pts2[3] += point2(+px[0], +py[0]);
  }

  if (c.scaling) {
    const double a = c.scaling_amplitude / 2;
    std::vector<double> scales(std::size_t(c.n_scales) + 1, 1.0);
    for (int i = 1; i <= c.n_scales; ++i) scales[std::size_t(i)] = std::clamp(g.normal(1.0, a), 1.0 - a, 1.0 + a);
    // The reference picks among indices 0 .. n_scales - 1: scale 1 with probability 1/n_scales,
    // the last random scale never.
    s.scale = scales[std::size_t(g.below(std::uint64_t(c.n_scales)))];
    const point2 ctr = centroid(pts2);
    for (auto& p : pts2) p = (p - ctr) * s.scale + ctr;
  }

  if (c.translation) {
    point2 t_min(1e300, 1e300), t_max(1e300, 1e300);
    for (const auto& p : pts2) {
      t_min = t_min.cwiseMin(point2(p.x() + 1, p.y() + r));
      t_max = t_max.cwiseMin(point2(1 - p.x(), r - p.y()));
    }
    for (int axis = 0; axis < 2; ++axis) {
      const double lo = -t_min[axis], hi = t_max[axis];
      if (lo <= hi) {
        s.translation[axis] = g.uniform(lo, hi);
      } else {  // guard (1): the patch does not fit on this axis; centre it
        (void)g.uniform();  // keep the stream aligned with the unguarded case
        s.translation[axis] = 0.5 * (lo + hi);
        s.translation_guard = true;
      }
    }
    for (auto& p : pts2) p += s.translation;
  }

  if (c.rotation) {
    std::vector<double> angles(std::size_t(c.n_angles) + 1, 0.0);
    for (int i = 0; i < c.n_angles; ++i)
      angles[std::size_t(i) + 1] =
          c.n_angles == 1 ? -c.max_angle : -c.max_angle + 2 * c.max_angle * double(i) / double(c.n_angles - 1);
    const point2 ctr = centroid(pts2);
    auto rotate = [&](double a) {
      quad q;
      const double co = std::cos(a), si = std::sin(a);
      for (int j = 0; j < 4; ++j) {
        const point2 d = pts2[std::size_t(j)] - ctr;
        q[std::size_t(j)] = ctr + point2(d.x() * co + d.y() * si, -d.x() * si + d.y() * co);
      }
      return q;
    };
    auto inside = [&](const quad& q) {
      for (const auto& p : q)
        if (!(p.x() >= -1 && p.x() < 1 && p.y() >= -r && p.y() < r)) return false;
      return true;
    };
    std::vector<int> valid;
    for (int i = 0; i <= c.n_angles; ++i)
      if (inside(rotate(angles[std::size_t(i)]))) valid.push_back(i);
    if (valid.empty()) {  // guard (2)
      s.rotation_guard = true;
      s.angle = 0;
    } else {
      s.angle = angles[std::size_t(valid[std::size_t(g.below(valid.size()))])];
    }
    pts2 = rotate(s.angle);
  }

  for (auto& p : pts2) p.y() /= r;
  s.source_corners = pts1;
  s.target_corners = pts2;
  s.H = find_homography(pts1, pts2);
  s.H_pixel = normalized_h_to_pixel(s.H, size);
  s.H_pixel_inv = invert(s.H_pixel);
  return s;
}

}  // namespace kpt::geometry
