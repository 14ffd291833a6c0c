#pragma once
// Homography from point correspondences: the normalised direct linear transform (Hartley).
//
//   H = find_homography(src, dst);      // dst[i] ~ H(src[i]); >= 4 pairs; least squares for > 4
//   auto h = try_find_homography(src, dst);   // std::nullopt instead of an exception
//
// Each point set is moved to its centroid and scaled to a mean distance of sqrt(2) before the
// 2N x 9 system is solved by SVD; the result is denormalised and scaled to h33 = 1. Degenerate
// input (coincident points, three of four collinear, ...) gives numeric_error / nullopt.
#include <cmath>
#include <optional>
#include <span>

#include <Eigen/Core>
#include <Eigen/SVD>

#include "kpt/core/error.hpp"
#include "kpt/geometry/homography.hpp"

namespace kpt::geometry {

namespace dlt_detail {

// Similarity moving the centroid to 0 and the mean distance to sqrt(2); nullopt if all points coincide.
inline std::optional<homography> conditioner(std::span<const point2> p) {
  point2 c = point2::Zero();
  for (const auto& q : p) c += q;
  c /= double(p.size());
  double d = 0;
  for (const auto& q : p) d += (q - c).norm();
  d /= double(p.size());
  if (!(d > 1e-12 * (1.0 + c.norm())) || !std::isfinite(d)) return std::nullopt;
  const double s = std::sqrt(2.0) / d;
  homography T = homography::Identity();
  T(0, 0) = T(1, 1) = s;
  T(0, 2) = -s * c.x();
  T(1, 2) = -s * c.y();
  return T;
}

}  // namespace dlt_detail

inline std::optional<homography> try_find_homography(std::span<const point2> src, std::span<const point2> dst) {
  if (src.size() != dst.size() || src.size() < 4) return std::nullopt;
  const auto Ts = dlt_detail::conditioner(src), Td = dlt_detail::conditioner(dst);
  if (!Ts || !Td) return std::nullopt;
  const index_t n = index_t(src.size());
  Eigen::Matrix<double, Eigen::Dynamic, 9> A(2 * n, 9);
  for (index_t i = 0; i < n; ++i) {
    const point2 a = apply(*Ts, src[i]), b = apply(*Td, dst[i]);
    const double x = a.x(), y = a.y(), u = b.x(), v = b.y();
    A.row(2 * i) << -x, -y, -1, 0, 0, 0, u * x, u * y, u;
    A.row(2 * i + 1) << 0, 0, 0, -x, -y, -1, v * x, v * y, v;
  }
  Eigen::JacobiSVD<Eigen::Matrix<double, Eigen::Dynamic, 9>> svd(A, Eigen::ComputeFullV);
  const auto& sv = svd.singularValues();
  // The solution is the null vector; a second (near) null direction means the points do not
  // pin H down (collinear triples, too few distinct points).
  if (!(sv(7) > 1e-9 * sv(0))) return std::nullopt;
  const Eigen::Matrix<double, 9, 1> h = svd.matrixV().col(8);
  homography Hn;
  Hn << h(0), h(1), h(2), h(3), h(4), h(5), h(6), h(7), h(8);
  homography H = Td->inverse() * Hn * *Ts;
  if (!H.allFinite() || std::abs(H.determinant()) < 1e-300) return std::nullopt;
  return normalized(H);
}

inline homography find_homography(std::span<const point2> src, std::span<const point2> dst) {
  require<shape_error>(src.size() == dst.size(), "geometry::find_homography: ", src.size(), " source points but ",
                       dst.size(), " destination points");
  require<value_error>(src.size() >= 4, "geometry::find_homography: needs at least 4 correspondences, got ",
                       src.size());
  auto H = try_find_homography(src, dst);
  require<numeric_error>(H.has_value(), "geometry::find_homography: the ", src.size(),
                         " correspondences are degenerate (coincident points or 3 of 4 collinear)");
  return *H;
}

}  // namespace kpt::geometry
