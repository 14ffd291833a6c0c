#pragma once
// SuperPoint's random homography (rpautrat/SuperPoint `sample_homography`, SPEC 4.1).
//
//   kpt::rng g(seed);
//   auto s = sample_homography(superpoint_homography_config::magicpoint_synthetic(), {120, 160}, g);
//   auto warped = warp_image(image, s.H);              // warped(p) = image(H p)
//   auto pts_in_warped = warp_points(points, s.H_inv); // original points moved into the warped image
//
// DIRECTION: s.H maps a pixel of the WARPED (output) image to the ORIGINAL (input) image, the
// tf.contrib.image.transform convention: warped(p) = original(H p). Points of the original image
// move into the warped image with H^-1 (s.H_inv).
//
// The algorithm works in the unit square (x, y in [0, 1]): the output image's patch
// pts1 = m + {(0,0), (0,pr), (pr,pr), (pr,0)} (m = (1 - pr)/2, pr = patch_ratio) is moved to
// pts2 in the input image by a perspective jitter, a scale about the centroid (one of n_scales
// truncated-normal draws), a translation and a rotation about the centroid (one of n_angles
// angles); then both are scaled to pixels (x W, y H) and H solves pts1 -> pts2 exactly.
// Without artifacts every step keeps pts2 inside [0, 1]^2, so the input patch lies in the image.
#include <array>
#include <cmath>
#include <numbers>
#include <vector>

#include "kpt/core/error.hpp"
#include "kpt/core/random.hpp"
#include "kpt/geometry/dlt.hpp"
#include "kpt/geometry/homography.hpp"

namespace kpt::geometry {

struct superpoint_homography_config {
  bool perspective = true;
  bool scaling = true;
  bool rotation = true;
  bool translation = true;
  int n_scales = 5;                      // candidate scales, each TN(1, scaling_amplitude / 2)
  int n_angles = 25;                     // candidate angles: linspace(-max_angle, max_angle, n_angles)
  double scaling_amplitude = 0.1;        // scales lie in [1 - amp, 1 + amp] (truncated at 2 sigma)
  double perspective_amplitude_x = 0.1;  // corner offsets TN(0, amp / 2), so within +-amp
  double perspective_amplitude_y = 0.1;
  double patch_ratio = 0.5;  // side of the output patch in the unit square
  double max_angle = std::numbers::pi / 2;
  bool allow_artifacts = false;  // true: the input patch may leave the image (zeros in the warp)
  double translation_overflow = 0.0;  // extra translation range when artifacts are allowed

  // Named settings of SPEC 4.1's table.
  static superpoint_homography_config magicpoint_synthetic() {
    return with_artifacts(0.8, 0.2, 0.2, 1.57, 0.05);
  }
  static superpoint_homography_config magicpoint_coco() { return with_artifacts(0.85, 0.2, 0.2, 1.57, 0.0); }
  static superpoint_homography_config superpoint_pair() { return with_artifacts(0.85, 0.2, 0.2, 1.57, 0.0); }
  static superpoint_homography_config ha_export() {
    return with_artifacts(0.85, 0.2, 0.2, std::numbers::pi, 0.0);
  }
  // homography_adaptation_default_config: the signature defaults with max_angle = pi.
  static superpoint_homography_config ha_default() {
    superpoint_homography_config c;
    c.max_angle = std::numbers::pi;
    return c;
  }

 private:
  static superpoint_homography_config with_artifacts(double pr, double scale, double persp, double angle,
                                                     double overflow) {
    superpoint_homography_config c;
    c.patch_ratio = pr;
    c.scaling_amplitude = scale;
    c.perspective_amplitude_x = c.perspective_amplitude_y = persp;
    c.max_angle = angle;
    c.allow_artifacts = true;
    c.translation_overflow = overflow;
    return c;
  }
};

// One draw, with the quantities drawn (tests and logs use them).
struct superpoint_homography_sample {
  homography H;      // warped (output) pixel -> original (input) pixel
  homography H_inv;  // original -> warped
  std::array<point2, 4> output_corners;  // pts1 in pixels (the patch of the output image)
  std::array<point2, 4> input_corners;   // pts2 in pixels: H maps output_corners onto these
  double perspective_left = 0, perspective_right = 0, perspective_y = 0;  // unit-square offsets
  double scale = 1;
  point2 translation = point2::Zero();  // unit square
  double angle = 0;                     // radians
};

namespace sp_detail {

// Normal truncated at 2 sigma by re-drawing (tf.truncated_normal).
inline double truncated_normal(rng& g, double mean, double sigma) {
  if (sigma <= 0) return mean;
  for (;;) {
    const double z = g.normal();
    if (std::abs(z) <= 2.0) return mean + sigma * z;
  }
}

using quad = std::array<point2, 4>;

inline point2 centroid(const quad& q) { return (q[0] + q[1] + q[2] + q[3]) / 4.0; }

inline bool inside_unit(const quad& q) {
  for (const auto& p : q)
    if (p.x() < 0 || p.x() > 1 || p.y() < 0 || p.y() > 1) return false;
  return true;
}

}  // namespace sp_detail

inline superpoint_homography_sample sample_homography(const superpoint_homography_config& c, image_size size, rng& g) {
  using namespace sp_detail;
  require<value_error>(size.height > 0 && size.width > 0, "sample_homography (superpoint): image size ", size.height,
                       "x", size.width, " must be positive");
  require<value_error>(c.patch_ratio > 0 && c.patch_ratio <= 1, "sample_homography (superpoint): patch_ratio ",
                       c.patch_ratio, " must be in (0, 1]");
  require<value_error>(!c.scaling || c.n_scales >= 1, "sample_homography (superpoint): n_scales must be >= 1");
  require<value_error>(!c.rotation || c.n_angles >= 1, "sample_homography (superpoint): n_angles must be >= 1");
  superpoint_homography_sample s;
  const double pr = c.patch_ratio, m = (1 - pr) / 2;
  const quad pts1 = {point2(m, m), point2(m, m + pr), point2(m + pr, m + pr), point2(m + pr, m)};
  quad pts2 = pts1;

  if (c.perspective) {
    double ax = c.perspective_amplitude_x, ay = c.perspective_amplitude_y;
    if (!c.allow_artifacts) {
      ax = std::min(ax, m);
      ay = std::min(ay, m);
    }
    s.perspective_y = truncated_normal(g, 0, ay / 2);
    s.perspective_left = truncated_normal(g, 0, ax / 2);
    s.perspective_right = truncated_normal(g, 0, ax / 2);
    pts2[0] += point2(s.perspective_left, s.perspective_y);
    pts2[1] += point2(s.perspective_left, -s.perspective_y);
    pts2[2] += point2(s.perspective_right, s.perspective_y);
    pts2[3] += point2(s.perspective_right, -s.perspective_y);
  }

  if (c.scaling) {
    // Candidate 0 is scale 1 (always valid without artifacts); with artifacts it is never picked.
    std::vector<double> scales(std::size_t(c.n_scales) + 1, 1.0);
    for (int i = 1; i <= c.n_scales; ++i) scales[std::size_t(i)] = truncated_normal(g, 1.0, c.scaling_amplitude / 2);
    const point2 ctr = centroid(pts2);
    std::vector<int> valid;
    for (int i = c.allow_artifacts ? 1 : 0; i <= c.n_scales; ++i) {
      quad q;
      for (int j = 0; j < 4; ++j) q[std::size_t(j)] = (pts2[std::size_t(j)] - ctr) * scales[std::size_t(i)] + ctr;
      if (c.allow_artifacts || inside_unit(q)) valid.push_back(i);
    }
    if (valid.empty()) valid.push_back(0);  // unreachable: scale 1 keeps the corners where they are
    s.scale = scales[std::size_t(valid[std::size_t(g.below(valid.size()))])];
    for (auto& p : pts2) p = (p - ctr) * s.scale + ctr;
  }

  if (c.translation) {
    point2 t_min(1e300, 1e300), t_max(1e300, 1e300);
    for (const auto& p : pts2) {
      t_min = t_min.cwiseMin(p);
      t_max = t_max.cwiseMin(point2(1, 1) - p);
    }
    if (c.allow_artifacts) {
      t_min.array() += c.translation_overflow;
      t_max.array() += c.translation_overflow;
    }
    s.translation = {g.uniform(-t_min.x(), t_max.x()), g.uniform(-t_min.y(), t_max.y())};
    for (auto& p : pts2) p += s.translation;
  }

  if (c.rotation) {
    std::vector<double> angles(std::size_t(c.n_angles) + 1, 0.0);
    for (int i = 0; i < c.n_angles; ++i)
      angles[std::size_t(i) + 1] =
          c.n_angles == 1 ? -c.max_angle : -c.max_angle + 2 * c.max_angle * double(i) / double(c.n_angles - 1);
    const point2 ctr = centroid(pts2);
    auto rotate = [&](double a) {
      // Row vector times [[cos, -sin], [sin, cos]], as the reference.
      quad q;
      const double co = std::cos(a), si = std::sin(a);
      for (int j = 0; j < 4; ++j) {
        const point2 d = pts2[std::size_t(j)] - ctr;
        q[std::size_t(j)] = ctr + point2(d.x() * co + d.y() * si, -d.x() * si + d.y() * co);
      }
      return q;
    };
    std::vector<int> valid;
    for (int i = c.allow_artifacts ? 1 : 0; i <= c.n_angles; ++i)
      if (c.allow_artifacts || inside_unit(rotate(angles[std::size_t(i)]))) valid.push_back(i);
    if (valid.empty()) valid.push_back(0);  // unreachable: angle 0 keeps the corners where they are
    s.angle = angles[std::size_t(valid[std::size_t(g.below(valid.size()))])];
    pts2 = rotate(s.angle);
  }

  const homography U = unit_to_pixel(size);
  for (int j = 0; j < 4; ++j) {
    s.output_corners[std::size_t(j)] = apply(U, pts1[std::size_t(j)]);
    s.input_corners[std::size_t(j)] = apply(U, pts2[std::size_t(j)]);
  }
  s.H = find_homography(s.output_corners, s.input_corners);
  s.H_inv = invert(s.H);
  return s;
}

}  // namespace kpt::geometry
