#pragma once
// Homographies: 3x3 matrices acting on homogeneous 2-D points, and the coordinate frames kpt uses.
//
// Conventions (docs/data.md, "Geometry"):
//  - Pixel coordinates: pixel (column x, row y) has integer coordinates, its centre is the point
//    (x, y); an image of width W spans x in [-0.5, W - 0.5]. Points are (x, y), never (row, col).
//  - A homography H maps a point p to H(p) = (h1.p / h3.p, h2.p / h3.p) with p = (x, y, 1).
//  - warp_image(img, H) reads out(p) = img(H(p)): H maps OUTPUT pixels to INPUT pixels. Both
//    sampling flavours produce such an H (see superpoint_homography.hpp, kp2d_homography.hpp).
//  - compose(second, first) = second * first: apply `first`, then `second`.
//  - Normalised coordinates (grid_sample, align_corners = true, as KP2D): x_n = 2 x / (W - 1) - 1.
//  - Unit-square coordinates (SuperPoint sampling): x_u = x / W (no half-pixel shift, as the
//    reference scales its unit-square corners by W and H).
#include <cmath>

#include <Eigen/Core>
#include <Eigen/LU>

#include "kpt/core/error.hpp"
#include "kpt/core/shape.hpp"

namespace kpt::geometry {

using homography = Eigen::Matrix3d;
using point2 = Eigen::Vector2d;

struct image_size {
  index_t height = 0;
  index_t width = 0;
  friend constexpr bool operator==(const image_size&, const image_size&) = default;
};

// H scaled so that h33 = 1 (the form of the references). A homography with h33 == 0 (it sends
// the origin to infinity) is only scaled to unit Frobenius norm.
inline homography normalized(const homography& H) {
  const double s = H(2, 2);
  if (std::abs(s) > 1e-12 * H.norm()) return H / s;
  return H / H.norm();
}

// Apply `first`, then `second`.
inline homography compose(const homography& second, const homography& first) {
  return normalized(second * first);
}

// The inverse, normalised to h33 = 1; numeric_error when H is singular or not finite.
inline homography invert(const homography& H) {
  require<numeric_error>(H.allFinite(), "geometry::invert: the homography has NaN or Inf entries");
  Eigen::FullPivLU<homography> lu(H);
  require<numeric_error>(lu.isInvertible() && std::abs(H.determinant()) > 1e-300,
                         "geometry::invert: the homography is singular (determinant ", H.determinant(), ")");
  return normalized(lu.inverse());
}

// H(p). A point sent to infinity (h3.p == 0) comes back as (inf, inf).
inline point2 apply(const homography& H, const point2& p) {
  const double x = H(0, 0) * p.x() + H(0, 1) * p.y() + H(0, 2);
  const double y = H(1, 0) * p.x() + H(1, 1) * p.y() + H(1, 2);
  const double z = H(2, 0) * p.x() + H(2, 1) * p.y() + H(2, 2);
  if (z == 0.0) return {INFINITY, INFINITY};
  return {x / z, y / z};
}

inline homography scaling(double sx, double sy) {
  homography S = homography::Identity();
  S(0, 0) = sx;
  S(1, 1) = sy;
  return S;
}

inline homography translation(double tx, double ty) {
  homography T = homography::Identity();
  T(0, 2) = tx;
  T(1, 2) = ty;
  return T;
}

// ---- frames ----------------------------------------------------------------------------------
// Pixel -> normalised [-1, 1] (align_corners = true): N = [[2/(W-1), 0, -1], [0, 2/(H-1), -1], [0, 0, 1]].
inline homography pixel_to_normalized(image_size s) {
  require<value_error>(s.height > 1 && s.width > 1, "geometry::pixel_to_normalized: image size ", s.height, "x",
                       s.width, " needs at least 2 pixels per axis");
  homography N = homography::Identity();
  N(0, 0) = 2.0 / double(s.width - 1);
  N(1, 1) = 2.0 / double(s.height - 1);
  N(0, 2) = -1.0;
  N(1, 2) = -1.0;
  return N;
}
inline homography normalized_to_pixel(image_size s) { return invert(pixel_to_normalized(s)); }

// A homography between normalised frames as one between pixel frames: N_out^-1 * Hn * N_in.
// For KP2D's H (normalised source -> target) this is the pixel source -> target map.
inline homography normalized_h_to_pixel(const homography& Hn, image_size in, image_size out) {
  return normalized(normalized_to_pixel(out) * Hn * pixel_to_normalized(in));
}
inline homography normalized_h_to_pixel(const homography& Hn, image_size s) { return normalized_h_to_pixel(Hn, s, s); }
inline homography pixel_h_to_normalized(const homography& Hp, image_size in, image_size out) {
  return normalized(pixel_to_normalized(out) * Hp * normalized_to_pixel(in));
}
inline homography pixel_h_to_normalized(const homography& Hp, image_size s) { return pixel_h_to_normalized(Hp, s, s); }

// Unit square -> pixels as the SuperPoint reference does it: (x, y) -> (x W, y H).
inline homography unit_to_pixel(image_size s) { return scaling(double(s.width), double(s.height)); }

// ---- resizing ------------------------------------------------------------------------------------
// How pixel coordinates move when an image is resized from `from` to `to`.
//  - scale:         x' = x * W'/W (KP2D's HPatches loader, RP's synthetic points; default)
//  - pixel_centers: x' = (x + 0.5) * W'/W - 0.5 (exact for resize_bilinear / resize_area sampling)
enum class resize_convention { scale, pixel_centers };

inline homography resize_matrix(image_size from, image_size to, resize_convention c = resize_convention::scale) {
  require<value_error>(from.height > 0 && from.width > 0 && to.height > 0 && to.width > 0,
                       "geometry::resize_matrix: sizes must be positive, got ", from.height, "x", from.width, " -> ",
                       to.height, "x", to.width);
  const double sx = double(to.width) / double(from.width), sy = double(to.height) / double(from.height);
  homography S = scaling(sx, sy);
  if (c == resize_convention::pixel_centers) {
    S(0, 2) = 0.5 * sx - 0.5;
    S(1, 2) = 0.5 * sy - 0.5;
  }
  return S;
}

// H maps pixels of image A to pixels of image B. After A is resized a_from -> a_to and B is
// resized b_from -> b_to, the same map between the resized images is S_B * H * S_A^-1
// (SPEC 7.1: H' = S_k * H * S_1^-1).
inline homography adjust_for_resize(const homography& H, image_size a_from, image_size a_to, image_size b_from,
                                    image_size b_to, resize_convention c = resize_convention::scale) {
  return normalized(resize_matrix(b_from, b_to, c) * H * invert(resize_matrix(a_from, a_to, c)));
}

}  // namespace kpt::geometry
