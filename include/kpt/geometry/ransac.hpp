#pragma once
// RANSAC as a generic algorithm, and its homography instance.
//
//   auto r = find_homography_ransac(src, dst, {.threshold = 3, .max_iterations = 5000});
//   if (r.found) use(r.model, r.inliers);
//
// A problem P for kpt::geometry::ransac provides
//   using model_type = ...;
//   static constexpr index_t sample_size;                      // minimal sample
//   index_t size() const;                                      // number of data
//   std::optional<model_type> fit(std::span<const index_t>) const;   // from a minimal sample
//   double residual(const model_type&, index_t i) const;       // compared with `threshold`
// and optionally
//   std::optional<model_type> refit(std::span<const index_t>) const; // least squares on all inliers
//
// Iterations stop at max_iterations or earlier once the adaptive bound
// log(1 - confidence) / log(1 - w^k) (w = best inlier ratio so far, k = sample size) is reached.
// Samples are drawn from kpt::rng(seed): the same seed gives the same result.
#include <algorithm>
#include <array>
#include <cmath>
#include <concepts>
#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <vector>

#include "kpt/core/error.hpp"
#include "kpt/core/random.hpp"
#include "kpt/geometry/dlt.hpp"

namespace kpt::geometry {

struct ransac_options {
  double threshold = 3.0;         // inlier iff residual <= threshold (pixels for homographies)
  index_t max_iterations = 2000;  // OpenCV findHomography default; KP2D evaluation uses 5000
  double confidence = 0.995;      // OpenCV default (SPEC 7.5)
  std::uint64_t seed = 0;
  bool refine = true;  // refit on all inliers of the best sample when the problem supports it
};

template <class M>
struct ransac_result {
  M model{};
  std::vector<std::uint8_t> inliers;  // 1 for inliers of `model`, size = problem.size()
  index_t n_inliers = 0;
  index_t iterations = 0;
  bool found = false;  // false when no sample gave a model (fewer data than the sample size, ...)
};

template <class P>
concept ransac_problem = requires(const P& p, std::span<const index_t> idx, const typename P::model_type& m) {
  { P::sample_size } -> std::convertible_to<index_t>;
  { p.size() } -> std::convertible_to<index_t>;
  { p.fit(idx) } -> std::same_as<std::optional<typename P::model_type>>;
  { p.residual(m, index_t(0)) } -> std::convertible_to<double>;
};

namespace ransac_detail {

inline index_t needed_iterations(double confidence, double inlier_ratio, index_t k, index_t cap) {
  if (inlier_ratio >= 1.0) return 1;
  const double p_good = std::pow(inlier_ratio, double(k));
  if (p_good <= 0.0) return cap;
  const double denom = std::log1p(-p_good);
  if (denom >= 0.0) return cap;
  const double n = std::ceil(std::log(std::max(1.0 - confidence, 1e-300)) / denom);
  return n >= double(cap) ? cap : std::max<index_t>(1, index_t(n));
}

}  // namespace ransac_detail

template <ransac_problem P>
ransac_result<typename P::model_type> ransac(const P& problem, const ransac_options& o) {
  using M = typename P::model_type;
  require<value_error>(o.threshold >= 0 && std::isfinite(o.threshold), "ransac: threshold must be >= 0, got ",
                       o.threshold);
  require<value_error>(o.max_iterations > 0, "ransac: max_iterations must be > 0, got ", o.max_iterations);
  require<value_error>(o.confidence > 0 && o.confidence < 1, "ransac: confidence must be in (0, 1), got ",
                       o.confidence);
  constexpr index_t k = P::sample_size;
  const index_t n = problem.size();
  ransac_result<M> best;
  best.inliers.assign(std::size_t(std::max<index_t>(n, 0)), 0);
  if (n < k) return best;

  rng g(o.seed);
  std::vector<index_t> pool(static_cast<std::size_t>(n));
  for (index_t i = 0; i < n; ++i) pool[std::size_t(i)] = i;
  std::vector<std::uint8_t> mask(static_cast<std::size_t>(n));
  double best_cost = std::numeric_limits<double>::infinity();
  index_t needed = o.max_iterations;

  auto score = [&](const M& m, std::vector<std::uint8_t>& in, double& cost) {
    index_t count = 0;
    cost = 0;
    for (index_t i = 0; i < n; ++i) {
      const double r = problem.residual(m, i);
      const bool ok = r <= o.threshold;  // NaN residuals are outliers
      in[std::size_t(i)] = ok;
      count += ok;
      cost += ok ? r : 0.0;
    }
    return count;
  };

  index_t it = 0;
  for (; it < needed; ++it) {
    // k distinct indices: a partial Fisher-Yates shuffle of the pool.
    std::array<index_t, std::size_t(k)> sample;
    for (index_t j = 0; j < k; ++j) {
      const index_t r = j + index_t(g.below(std::uint64_t(n - j)));
      std::swap(pool[std::size_t(j)], pool[std::size_t(r)]);
      sample[std::size_t(j)] = pool[std::size_t(j)];
    }
    const std::optional<M> m = problem.fit(std::span<const index_t>(sample.data(), sample.size()));
    if (!m) continue;
    double cost;
    const index_t count = score(*m, mask, cost);
    if (count > best.n_inliers || (count == best.n_inliers && count > 0 && cost < best_cost)) {
      best.model = *m;
      best.inliers = mask;
      best.n_inliers = count;
      best.found = true;
      best_cost = cost;
      needed = ransac_detail::needed_iterations(o.confidence, double(count) / double(n), k, o.max_iterations);
    }
  }
  best.iterations = it;

  if constexpr (requires(std::span<const index_t> idx) {
                  { problem.refit(idx) } -> std::same_as<std::optional<M>>;
                }) {
    if (o.refine && best.found && best.n_inliers > k) {
      // Refit on the inliers and rescore, a few rounds while the inlier set grows.
      for (int round = 0; round < 3; ++round) {
        std::vector<index_t> idx;
        for (index_t i = 0; i < n; ++i)
          if (best.inliers[std::size_t(i)]) idx.push_back(i);
        const std::optional<M> m = problem.refit(idx);
        if (!m) break;
        double cost;
        const index_t count = score(*m, mask, cost);
        if (count < best.n_inliers || (count == best.n_inliers && cost >= best_cost)) break;
        const bool grew = count > best.n_inliers;
        best.model = *m;
        best.inliers = mask;
        best.n_inliers = count;
        best_cost = cost;
        if (!grew) break;
      }
    }
  }
  return best;
}

// ---- homographies -------------------------------------------------------------------------------

// Correspondences src[i] -> dst[i]; residual = |H(src) - dst| (forward transfer error, as OpenCV).
struct homography_problem {
  using model_type = homography;
  static constexpr index_t sample_size = 4;
  std::span<const point2> src, dst;

  index_t size() const { return index_t(src.size()); }

  std::optional<homography> fit(std::span<const index_t> idx) const {
    std::array<point2, 4> a, b;
    for (int j = 0; j < 4; ++j) {
      a[std::size_t(j)] = src[std::size_t(idx[std::size_t(j)])];
      b[std::size_t(j)] = dst[std::size_t(idx[std::size_t(j)])];
    }
    if (!good_sample(a) || !good_sample(b) || !same_orientation(a, b)) return std::nullopt;
    return try_find_homography(a, b);
  }
  std::optional<homography> refit(std::span<const index_t> idx) const {
    std::vector<point2> a, b;
    a.reserve(idx.size());
    b.reserve(idx.size());
    for (index_t i : idx) {
      a.push_back(src[std::size_t(i)]);
      b.push_back(dst[std::size_t(i)]);
    }
    return try_find_homography(a, b);
  }
  double residual(const homography& H, index_t i) const {
    return (apply(H, src[std::size_t(i)]) - dst[std::size_t(i)]).norm();
  }

 private:
  static double cross(const point2& o, const point2& a, const point2& b) {
    return (a - o).x() * (b - o).y() - (a - o).y() * (b - o).x();
  }
  // No three of the four points (nearly) collinear.
  static bool good_sample(const std::array<point2, 4>& p) {
    double scale = 0;
    for (const auto& q : p) scale = std::max(scale, (q - p[0]).squaredNorm());
    const double eps = 1e-6 * scale;
    for (int i = 0; i < 4; ++i)
      for (int j = i + 1; j < 4; ++j)
        for (int l = j + 1; l < 4; ++l)
          if (std::abs(cross(p[std::size_t(i)], p[std::size_t(j)], p[std::size_t(l)])) <= eps) return false;
    return true;
  }
  // A homography preserves the orientation of every triple or reverses all of them (when no
  // sample point lies on the line sent to infinity), so mixed signs mean an impossible sample.
  static bool same_orientation(const std::array<point2, 4>& a, const std::array<point2, 4>& b) {
    constexpr int tri[4][3] = {{0, 1, 2}, {0, 1, 3}, {0, 2, 3}, {1, 2, 3}};
    int sign = 0;
    for (const auto& t : tri) {
      const double sa = cross(a[std::size_t(t[0])], a[std::size_t(t[1])], a[std::size_t(t[2])]);
      const double sb = cross(b[std::size_t(t[0])], b[std::size_t(t[1])], b[std::size_t(t[2])]);
      const int s = (sa > 0) == (sb > 0) ? 1 : -1;
      if (sign == 0) sign = s;
      else if (s != sign) return false;
    }
    return true;
  }
};

inline ransac_result<homography> find_homography_ransac(std::span<const point2> src, std::span<const point2> dst,
                                                        const ransac_options& o = {}) {
  require<shape_error>(src.size() == dst.size(), "geometry::find_homography_ransac: ", src.size(),
                       " source points but ", dst.size(), " destination points");
  return ransac(homography_problem{src, dst}, o);
}

}  // namespace kpt::geometry
