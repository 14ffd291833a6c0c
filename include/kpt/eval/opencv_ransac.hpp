#pragma once
// RANSAC for homographies that draws the same samples and keeps the same model as OpenCV's
// cv2.findHomography(src, dst, RANSAC, threshold, maxIters, confidence) (OpenCV 4.x), so that kpt's
// homography accuracy (Cor-N, SPEC 7.5) is the number KP2D's evaluation prints, not merely the same
// kind of number: two RANSACs with different random samples disagree by pixels on weakly
// determined pairs, which moves Cor-1/3 on small test sets.
//
// What is reproduced (behaviour of OpenCV's public source, re-implemented here):
//  - the generator cv::RNG(uint64(-1)): a multiply-with-carry step, uniform(a, b) = a + next() % (b - a);
//  - minimal samples: 4 distinct indices drawn one by one (redrawing repeats), rejected when the
//    last point is collinear with two others (in either image) or when the four triangle
//    orientations disagree between the images; at most 10,000 draws per sample;
//  - the model of a sample: the DLT normalised per axis by the mean absolute deviation, solved as
//    the eigenvector of the smallest eigenvalue of the 9x9 normal matrix, scaled to h33 = 1;
//  - the residual |H(src) - dst|^2 in single precision, inlier iff <= threshold^2;
//  - a model replaces the best one only with strictly more inliers, and the iteration bound
//    becomes round(log(1 - confidence) / log(1 - w^4)).
// Coordinates are used as float32, as findHomography converts them.
#include <algorithm>
#include <array>
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include <Eigen/Eigenvalues>

#include "kpt/geometry/homography.hpp"

namespace kpt::eval::opencv {

// cv::RNG: state' = low32(state) * 4164903690 + high32(state); returns low32(state').
class rng {
 public:
  explicit rng(std::uint64_t state = ~std::uint64_t(0)) : state_(state ? state : 0xffffffffu) {}
  std::uint32_t next() {
    state_ = std::uint64_t(std::uint32_t(state_)) * 4164903690u + std::uint32_t(state_ >> 32);
    return std::uint32_t(state_);
  }
  int uniform(int a, int b) { return a == b ? a : int(next() % std::uint32_t(b - a)) + a; }

 private:
  std::uint64_t state_;
};

struct pointf {
  float x, y;
};

// The DLT of OpenCV's homography kernel on n >= 4 correspondences; nullopt when a point set has no
// spread along an axis.
inline std::optional<geometry::homography> dlt(std::span<const pointf> M, std::span<const pointf> m) {
  const std::size_t n = M.size();
  double cmx = 0, cmy = 0, cMx = 0, cMy = 0;
  for (std::size_t i = 0; i < n; ++i) {
    cmx += m[i].x, cmy += m[i].y;
    cMx += M[i].x, cMy += M[i].y;
  }
  cmx /= double(n), cmy /= double(n), cMx /= double(n), cMy /= double(n);
  double smx = 0, smy = 0, sMx = 0, sMy = 0;
  for (std::size_t i = 0; i < n; ++i) {
    smx += std::abs(m[i].x - cmx), smy += std::abs(m[i].y - cmy);
    sMx += std::abs(M[i].x - cMx), sMy += std::abs(M[i].y - cMy);
  }
  if (std::abs(smx) < DBL_EPSILON || std::abs(smy) < DBL_EPSILON || std::abs(sMx) < DBL_EPSILON ||
      std::abs(sMy) < DBL_EPSILON)
    return std::nullopt;
  smx = double(n) / smx, smy = double(n) / smy, sMx = double(n) / sMx, sMy = double(n) / sMy;

  Eigen::Matrix<double, 9, 9> LtL = Eigen::Matrix<double, 9, 9>::Zero();
  for (std::size_t i = 0; i < n; ++i) {
    const double x = (m[i].x - cmx) * smx, y = (m[i].y - cmy) * smy;
    const double X = (M[i].x - cMx) * sMx, Y = (M[i].y - cMy) * sMy;
    Eigen::Matrix<double, 9, 1> lx, ly;
    lx << X, Y, 1, 0, 0, 0, -x * X, -x * Y, -x;
    ly << 0, 0, 0, X, Y, 1, -y * X, -y * Y, -y;
    LtL += lx * lx.transpose() + ly * ly.transpose();
  }
  const Eigen::SelfAdjointEigenSolver<Eigen::Matrix<double, 9, 9>> eig(LtL);
  if (eig.info() != Eigen::Success) return std::nullopt;
  const Eigen::Matrix<double, 9, 1> h = eig.eigenvectors().col(0);  // smallest eigenvalue
  geometry::homography H0, inv_norm_m, norm_M;
  H0 << h(0), h(1), h(2), h(3), h(4), h(5), h(6), h(7), h(8);
  inv_norm_m << 1 / smx, 0, cmx, 0, 1 / smy, cmy, 0, 0, 1;
  norm_M << sMx, 0, -cMx * sMx, 0, sMy, -cMy * sMy, 0, 0, 1;
  const geometry::homography H = inv_norm_m * H0 * norm_M;
  if (!H.allFinite() || H(2, 2) == 0.0) return std::nullopt;
  return geometry::homography(H / H(2, 2));
}

namespace detail {

// Is the last of the 4 points on a line through two of the others (or on top of one)?
inline bool last_collinear(const std::array<pointf, 4>& p) {
  const int i = 3;
  for (int j = 0; j < i; ++j) {
    const double dx1 = double(p[j].x - p[i].x), dy1 = double(p[j].y - p[i].y);
    for (int k = 0; k < j; ++k) {
      const double dx2 = double(p[k].x - p[i].x), dy2 = double(p[k].y - p[i].y);
      if (std::abs(dx2 * dy1 - dy2 * dx1) <= FLT_EPSILON * (std::abs(dx1) + std::abs(dy1) + std::abs(dx2) + std::abs(dy2)))
        return true;
    }
  }
  return false;
}

inline double det3(const pointf& a, const pointf& b, const pointf& c) {
  const Eigen::Matrix3d A{{double(a.x), double(a.y), 1.0}, {double(b.x), double(b.y), 1.0}, {double(c.x), double(c.y), 1.0}};
  return A.determinant();
}

// OpenCV's sample check: no collinear last point, and the four triangles keep their orientation.
inline bool good_sample(const std::array<pointf, 4>& a, const std::array<pointf, 4>& b) {
  if (last_collinear(a) || last_collinear(b)) return false;
  static constexpr int tt[4][3] = {{0, 1, 2}, {1, 2, 3}, {0, 2, 3}, {1, 0, 3}};
  int negative = 0;
  for (const auto& t : tt)
    negative += det3(a[t[0]], a[t[1]], a[t[2]]) * det3(b[t[0]], b[t[1]], b[t[2]]) < 0;
  return negative == 0 || negative == 4;
}

// Squared transfer errors in single precision, as OpenCV computes them.
inline int count_inliers(const geometry::homography& H, std::span<const pointf> M, std::span<const pointf> m,
                         float t2, std::vector<std::uint8_t>& mask) {
  const float h0 = float(H(0, 0)), h1 = float(H(0, 1)), h2 = float(H(0, 2)), h3 = float(H(1, 0)),
              h4 = float(H(1, 1)), h5 = float(H(1, 2)), h6 = float(H(2, 0)), h7 = float(H(2, 1));
  int count = 0;
  for (std::size_t i = 0; i < M.size(); ++i) {
    const float ww = 1.f / (h6 * M[i].x + h7 * M[i].y + 1.f);
    const float dx = (h0 * M[i].x + h1 * M[i].y + h2) * ww - m[i].x;
    const float dy = (h3 * M[i].x + h4 * M[i].y + h5) * ww - m[i].y;
    const bool in = dx * dx + dy * dy <= t2;
    mask[i] = in;
    count += in;
  }
  return count;
}

inline int update_iterations(double confidence, double outlier_ratio, int max_iterations) {
  confidence = std::clamp(confidence, 0.0, 1.0);
  outlier_ratio = std::clamp(outlier_ratio, 0.0, 1.0);
  double num = std::max(1.0 - confidence, DBL_MIN);
  double denom = 1.0 - std::pow(1.0 - outlier_ratio, 4);
  if (denom < DBL_MIN) return 0;
  num = std::log(num);
  denom = std::log(denom);
  return denom >= 0 || -num >= max_iterations * (-denom) ? max_iterations : int(std::nearbyint(num / denom));  // cvRound
}

}  // namespace detail

struct ransac_result {
  bool found = false;
  geometry::homography H = geometry::homography::Identity();  // the best sample's model (h33 = 1)
  std::vector<std::uint8_t> inliers;
  int n_inliers = 0;
  int iterations = 0;
};

// The RANSAC stage of findHomography on n > 4 correspondences (the caller handles n <= 4).
inline ransac_result find_homography_ransac(std::span<const pointf> src, std::span<const pointf> dst, double threshold,
                                            int max_iterations, double confidence) {
  const int n = int(src.size());
  ransac_result best;
  best.inliers.assign(std::size_t(n), 0);
  rng g;
  std::vector<std::uint8_t> mask(static_cast<std::size_t>(n));
  const float t2 = float(threshold * threshold);
  int niters = std::max(max_iterations, 1), iter = 0;
  for (; iter < niters; ++iter) {
    std::array<pointf, 4> a, b;
    bool found = false;
    for (int attempt = 0; attempt < 10000 && !found; ++attempt) {
      std::array<int, 4> idx{};
      for (int i = 0; i < 4; ++i) {
        int k = g.uniform(0, n);
        while (std::find(idx.begin(), idx.begin() + i, k) != idx.begin() + i) k = g.uniform(0, n);
        idx[std::size_t(i)] = k;
        a[std::size_t(i)] = src[std::size_t(k)];
        b[std::size_t(i)] = dst[std::size_t(k)];
      }
      found = detail::good_sample(a, b);
    }
    if (!found) {
      if (iter == 0) return best;
      break;
    }
    const auto H = dlt(a, b);
    if (!H) continue;
    const int count = detail::count_inliers(*H, src, dst, t2, mask);
    if (count > std::max(best.n_inliers, 3)) {
      std::swap(mask, best.inliers);
      best.H = *H;
      best.n_inliers = count;
      best.found = true;
      niters = detail::update_iterations(confidence, double(n - count) / double(n), niters);
    }
  }
  best.iterations = iter;
  return best;
}

}  // namespace kpt::eval::opencv
