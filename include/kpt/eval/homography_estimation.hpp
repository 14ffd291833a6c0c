#pragma once
// Homography from matched keypoints with RANSAC, with KP2D's evaluation settings (SPEC 7.5:
// cv2.findHomography(src, dst, RANSAC, 3, maxIters=5000), confidence left at OpenCV's 0.995).
//
//   auto e = eval::estimate_homography(src, dst);   // dst[i] ~ H(src[i])
//   if (e.found) use(e.H, e.inliers);
//   auto e2 = eval::estimate_homography(kp1, kp2, matches);   // from descriptor matches
//
// As cv2.findHomography: RANSAC with OpenCV's own sampler (opencv_ransac.hpp: the same samples, so
// the same model on the same matches) picks the model with the most inliers, then H is re-estimated
// on those inliers by the same DLT and polished by Levenberg-Marquardt (at most 10 iterations) on
// the squared transfer error |H(src) - dst|^2; the inlier mask is the RANSAC one. Exactly 4
// correspondences are fitted directly. Fewer than 4, or no non-degenerate sample, gives
// found = false (where cv2.findHomography returns None or raises). The seed of the options is not
// used: OpenCV's generator always starts from the same state.
#include <cmath>
#include <cstdint>
#include <span>
#include <vector>

#include <Eigen/Cholesky>

#include "kpt/eval/matching.hpp"
#include "kpt/eval/opencv_ransac.hpp"
#include "kpt/geometry/ransac.hpp"

namespace kpt::eval {

// KP2D's evaluation RANSAC: threshold 3 px, 5000 iterations, confidence 0.995.
inline geometry::ransac_options kp2d_ransac_options() {
  geometry::ransac_options o;
  o.threshold = 3.0;
  o.max_iterations = 5000;
  o.confidence = 0.995;
  return o;
}

struct homography_estimate {
  bool found = false;
  geometry::homography H = geometry::homography::Identity();  // maps src to dst, h33 = 1
  std::vector<std::uint8_t> inliers;                           // per correspondence
  index_t n_inliers = 0;
  index_t iterations = 0;
};

// Levenberg-Marquardt on the 8 entries of H (h33 = 1) minimising sum |H(src_i) - dst_i|^2.
inline geometry::homography refine_homography(const geometry::homography& H0, std::span<const geometry::point2> src,
                                              std::span<const geometry::point2> dst, int max_iterations = 10) {
  using vec8 = Eigen::Matrix<double, 8, 1>;
  using mat8 = Eigen::Matrix<double, 8, 8>;
  auto unpack = [](const vec8& h) {
    geometry::homography H;
    H << h(0), h(1), h(2), h(3), h(4), h(5), h(6), h(7), 1.0;
    return H;
  };
  auto cost = [&](const geometry::homography& H) {
    double c = 0;
    for (std::size_t i = 0; i < src.size(); ++i) c += (geometry::apply(H, src[i]) - dst[i]).squaredNorm();
    return c;
  };
  const geometry::homography Hn = geometry::normalized(H0);
  vec8 h;
  h << Hn(0, 0), Hn(0, 1), Hn(0, 2), Hn(1, 0), Hn(1, 1), Hn(1, 2), Hn(2, 0), Hn(2, 1);
  double c = cost(unpack(h)), lambda = 1e-3;
  if (!std::isfinite(c)) return H0;
  for (int it = 0; it < max_iterations; ++it) {
    mat8 A = mat8::Zero();
    vec8 g = vec8::Zero();
    for (std::size_t i = 0; i < src.size(); ++i) {
      const double x = src[i].x(), y = src[i].y();
      const double w = h(6) * x + h(7) * y + 1.0;
      if (w == 0.0) continue;
      const double u = (h(0) * x + h(1) * y + h(2)) / w, v = (h(3) * x + h(4) * y + h(5)) / w;
      Eigen::Matrix<double, 8, 1> ju, jv;
      ju << x / w, y / w, 1 / w, 0, 0, 0, -x * u / w, -y * u / w;
      jv << 0, 0, 0, x / w, y / w, 1 / w, -x * v / w, -y * v / w;
      const double ru = u - dst[i].x(), rv = v - dst[i].y();
      A += ju * ju.transpose() + jv * jv.transpose();
      g += ju * ru + jv * rv;
    }
    bool improved = false;
    for (int tries = 0; tries < 10 && !improved; ++tries) {
      mat8 M = A;
      M.diagonal() *= 1.0 + lambda;
      const vec8 step = M.ldlt().solve(-g);
      const vec8 hn = h + step;
      const double cn = cost(unpack(hn));
      if (std::isfinite(cn) && cn < c) {
        h = hn;
        const double gain = c - cn;
        c = cn;
        lambda = std::max(lambda / 10.0, 1e-12);
        improved = true;
        if (gain <= 1e-12 * (1.0 + c)) it = max_iterations;  // converged
      } else {
        lambda *= 10.0;
      }
    }
    if (!improved) break;
  }
  return unpack(h);
}

inline homography_estimate estimate_homography(std::span<const geometry::point2> src,
                                               std::span<const geometry::point2> dst,
                                               const geometry::ransac_options& o = kp2d_ransac_options()) {
  require<shape_error>(src.size() == dst.size(), "eval::estimate_homography: ", src.size(), " source points but ",
                       dst.size(), " destination points");
  require<value_error>(o.threshold > 0 && std::isfinite(o.threshold), "eval::estimate_homography: threshold must be > 0, got ",
                       o.threshold);
  require<value_error>(o.max_iterations > 0 && o.max_iterations <= INT32_MAX,
                       "eval::estimate_homography: max_iterations must be in [1, 2^31), got ", o.max_iterations);
  require<value_error>(o.confidence > 0 && o.confidence < 1, "eval::estimate_homography: confidence must be in (0, 1), got ",
                       o.confidence);
  homography_estimate e;
  e.inliers.assign(src.size(), 0);
  if (src.size() < 4) return e;
  // findHomography works on float32 coordinates.
  std::vector<opencv::pointf> a(src.size()), b(dst.size());
  for (std::size_t i = 0; i < src.size(); ++i) {
    a[i] = {float(src[i].x()), float(src[i].y())};
    b[i] = {float(dst[i].x()), float(dst[i].y())};
  }
  if (src.size() == 4) {  // OpenCV fits the four directly, without RANSAC or refinement
    const auto H = opencv::dlt(a, b);
    if (!H) return e;
    e.found = true;
    e.H = geometry::normalized(*H);
    e.inliers.assign(4, 1);
    e.n_inliers = 4;
    return e;
  }
  const auto r = opencv::find_homography_ransac(a, b, o.threshold, int(o.max_iterations), o.confidence);
  e.iterations = r.iterations;
  if (!r.found) return e;
  // The final fit: the same DLT on the inliers, then Levenberg-Marquardt on them.
  std::vector<opencv::pointf> ai, bi;
  std::vector<geometry::point2> a2, b2;
  for (std::size_t i = 0; i < src.size(); ++i)
    if (r.inliers[i]) {
      ai.push_back(a[i]), bi.push_back(b[i]);
      a2.emplace_back(a[i].x, a[i].y), b2.emplace_back(b[i].x, b[i].y);
    }
  const geometry::homography H0 = opencv::dlt(ai, bi).value_or(r.H);
  const geometry::homography H = refine_homography(H0, a2, b2);
  e.found = true;
  e.H = geometry::normalized(H.allFinite() ? H : H0);
  e.inliers = r.inliers;
  e.n_inliers = r.n_inliers;
  return e;
}

// From matches between two keypoint sets: src = a.xy[query], dst = b.xy[train].
inline homography_estimate estimate_homography(const scored_keypoints& a, const scored_keypoints& b,
                                               std::span<const match> matches,
                                               const geometry::ransac_options& o = kp2d_ransac_options()) {
  std::vector<geometry::point2> src, dst;
  src.reserve(matches.size());
  dst.reserve(matches.size());
  for (const auto& m : matches) {
    require<value_error>(m.query >= 0 && m.query < a.size() && m.train >= 0 && m.train < b.size(),
                         "eval::estimate_homography: match (", m.query, ", ", m.train, ") is out of range for ",
                         a.size(), " and ", b.size(), " keypoints");
    src.push_back(a.xy[std::size_t(m.query)]);
    dst.push_back(b.xy[std::size_t(m.train)]);
  }
  return estimate_homography(src, dst, o);
}

// Mean distance between the images of the four corners (0, 0), (0, H-1), (W-1, 0), (W-1, H-1)
// under A and B (KP2D compute_homography).
inline double corner_error(const geometry::homography& A, const geometry::homography& B, geometry::image_size s) {
  const double w = double(s.width - 1), h = double(s.height - 1);
  double e = 0;
  for (const geometry::point2& c : {geometry::point2(0, 0), geometry::point2(0, h), geometry::point2(w, 0),
                                    geometry::point2(w, h)})
    e += (geometry::apply(A, c) - geometry::apply(B, c)).norm();
  return e / 4.0;
}

}  // namespace kpt::eval
