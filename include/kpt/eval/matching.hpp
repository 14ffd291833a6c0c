#pragma once
// Descriptor matching by L2 distance: nearest neighbour, mutual nearest neighbour (OpenCV
// BFMatcher(NORM_L2, crossCheck)), optional ratio test and distance threshold.
//
//   auto m  = eval::match_descriptors(a, b);                    // every row of a -> its NN in b
//   auto mm = eval::match_descriptors(a, b, {.mutual = true});  // cv2 crossCheck=True
//   auto r  = eval::match_descriptors(a, b, {.ratio = 0.8, .max_distance = 0.7});
//
// Squared distances come from |a|^2 + |b|^2 - 2 a.b with the products computed by kpt::cpu's
// blocked GEMM (link kpt::cpu), one block of the distance matrix at a time, so memory stays
// bounded (about 1 MB) whatever the sizes. Ties go to the lowest index, as BFMatcher and
// np.argmin. The distance reported for a match is recomputed exactly (double) from the two rows.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "kpt/backends/cpu/matmul.hpp"
#include "kpt/core/error.hpp"
#include "kpt/eval/scored_keypoints.hpp"

namespace kpt::eval {

struct match {
  index_t query = 0, train = 0;
  float distance = 0;  // L2 distance between the two descriptors
};

struct match_options {
  bool mutual = false;  // keep i -> j only when i is also j's nearest neighbour
  double ratio = 0;     // > 0: Lowe's test, keep when d1 < ratio * d2 (d2 = second nearest; passes with one train row)
  double max_distance = std::numeric_limits<double>::infinity();  // keep when d1 <= max_distance
};

// Nearest neighbours of every query row among the train rows, and (optionally) of every train row
// among the query rows, from one pass over the distance matrix.
struct nn_result {
  std::vector<index_t> best;             // per query: nearest train row
  std::vector<float> best_d2, second_d2;  // per query: squared distances (second: inf unless asked, or one train row)
  std::vector<index_t> column_best;       // per train row: nearest query row (empty unless asked)
};

namespace matching_detail {

constexpr float inf = std::numeric_limits<float>::infinity();
constexpr index_t lanes = 16;

// min of d[0..n) with independent lanes (the compiler turns `a < b ? a : b` into min instructions).
inline float min_value(const float* d, index_t n) {
  float acc[lanes];
  for (auto& a : acc) a = inf;
  index_t j = 0;
  for (; j + lanes <= n; j += lanes)
    for (index_t l = 0; l < lanes; ++l) acc[l] = acc[l] < d[j + l] ? acc[l] : d[j + l];
  float m = inf;
  for (; j < n; ++j) m = m < d[j] ? m : d[j];
  for (float a : acc) m = m < a ? m : a;
  return m;
}

inline std::vector<float> squared_norms(descriptor_view v) {
  std::vector<float> out(std::size_t(v.rows));
  for (index_t i = 0; i < v.rows; ++i) {
    double s = 0;
    const float* r = v.row(i);
    for (index_t k = 0; k < v.dim; ++k) s += double(r[k]) * r[k];
    out[std::size_t(i)] = float(s);
  }
  return out;
}

inline void check(descriptor_view v, const char* which) {
  require<value_error>(v.rows >= 0 && v.dim >= 0 && (v.rows * v.dim == 0 || v.data != nullptr), "eval::match_descriptors: ",
                       which, " descriptors are malformed (", v.rows, " rows of ", v.dim, ")");
  for (index_t i = 0; i < v.rows * v.dim; ++i)
    if (!std::isfinite(v.data[i]))
      throw value_error(detail::concat("eval::match_descriptors: ", which, " descriptor row ", i / v.dim, " holds ",
                                       v.data[i], "; descriptors must be finite"));
}

}  // namespace matching_detail

inline nn_result nearest_neighbours(descriptor_view q, descriptor_view t, bool want_second = false,
                                    bool want_columns = false) {
  using namespace matching_detail;
  require<shape_error>(q.dim == t.dim || q.rows == 0 || t.rows == 0, "eval::nearest_neighbours: descriptor sizes differ (",
                       q.dim, " vs ", t.dim, ")");
  const index_t n = q.rows, m = t.rows, d = q.dim;
  nn_result r;
  r.best.assign(std::size_t(n), -1);
  r.best_d2.assign(std::size_t(n), inf);
  r.second_d2.assign(std::size_t(n), inf);
  if (want_columns) r.column_best.assign(std::size_t(m), -1);
  if (n == 0 || m == 0) return r;

  const auto qn = squared_norms(q), tn = squared_norms(t);
  // Blocks of about 1 MB of distances: large enough for the GEMM to run at speed.
  const index_t cb = std::min<index_t>(m, 2048);
  const index_t rb = std::min<index_t>(n, std::clamp<index_t>((index_t(1) << 18) / cb, 16, 512));
  std::vector<float> buf(std::size_t(rb * cb));
  std::vector<float> col_d2(want_columns ? std::size_t(m) : 0, inf);
  std::vector<std::int32_t> col_i(want_columns ? std::size_t(m) : 0, -1);

  for (index_t r0 = 0; r0 < n; r0 += rb) {
    const index_t rows = std::min(rb, n - r0);
    for (index_t c0 = 0; c0 < m; c0 += cb) {
      const index_t cols = std::min(cb, m - c0);
      kernels::gemm_geom g;
      g.M = rows, g.N = cols, g.K = d;
      g.a_rs = d, g.a_cs = 1;  // query rows
      g.b_rs = 1, g.b_cs = d;  // train rows as columns: B(k, j) = t[j][k]
      if (d > 0) kernels::gemm(cpu{}, g, q.row(r0), t.row(c0), buf.data());
      else std::fill(buf.begin(), buf.end(), 0.0f);
      for (index_t i = 0; i < rows; ++i) {
        float* s = buf.data() + i * cols;
        const float qi = qn[std::size_t(r0 + i)];
        const float* tj = tn.data() + c0;
        for (index_t j = 0; j < cols; ++j) {
          const float v = qi + tj[j] - 2.0f * s[j];
          s[j] = v > 0.0f ? v : 0.0f;  // rounding can make a zero distance slightly negative
        }
        // This block's best (first index of the minimum) and second best.
        const float b1 = min_value(s, cols);
        index_t j1 = 0;
        while (s[j1] != b1) ++j1;
        const std::size_t qi_ = std::size_t(r0 + i);
        float b2 = inf;
        if (want_second) {
          s[j1] = inf;
          b2 = min_value(s, cols);
          s[j1] = b1;
        }
        // Merge with earlier column blocks; an earlier block wins ties (lower index).
        if (b1 < r.best_d2[qi_]) {
          r.second_d2[qi_] = std::min(r.best_d2[qi_], b2);
          r.best_d2[qi_] = b1;
          r.best[qi_] = c0 + j1;
        } else {
          r.second_d2[qi_] = std::min(r.second_d2[qi_], b1);
        }
        if (want_columns) {
          float* cd = col_d2.data() + c0;
          std::int32_t* ci = col_i.data() + c0;
          const std::int32_t row = std::int32_t(r0 + i);
          for (index_t j = 0; j < cols; ++j) {
            const bool lt = s[j] < cd[j];  // strict: an earlier query row wins ties
            cd[j] = lt ? s[j] : cd[j];
            ci[j] = lt ? row : ci[j];
          }
        }
      }
    }
  }
  if (want_columns)
    for (index_t j = 0; j < m; ++j) r.column_best[std::size_t(j)] = col_i[std::size_t(j)];
  return r;
}

// Exact L2 distance between two rows (double accumulation).
inline double descriptor_distance(const float* a, const float* b, index_t dim) {
  double s = 0;
  for (index_t k = 0; k < dim; ++k) {
    const double e = double(a[k]) - double(b[k]);
    s += e * e;
  }
  return std::sqrt(s);
}

// Matches of query rows to train rows, in query order (at most one per query row).
inline std::vector<match> match_descriptors(descriptor_view query, descriptor_view train, const match_options& o = {}) {
  matching_detail::check(query, "query");
  matching_detail::check(train, "train");
  require<shape_error>(query.dim == train.dim || query.rows == 0 || train.rows == 0,
                       "eval::match_descriptors: query descriptors have ", query.dim, " values but train descriptors ",
                       train.dim, "; both sets must come from the same descriptor");
  require<value_error>(o.ratio >= 0 && !std::isnan(o.max_distance), "eval::match_descriptors: ratio must be >= 0 (got ",
                       o.ratio, ") and max_distance a number (got ", o.max_distance, ")");
  std::vector<match> out;
  if (query.rows == 0 || train.rows == 0) return out;
  const nn_result nn = nearest_neighbours(query, train, o.ratio > 0, o.mutual);
  const float r2 = float(o.ratio * o.ratio);
  for (index_t i = 0; i < query.rows; ++i) {
    const index_t j = nn.best[std::size_t(i)];
    if (o.mutual && nn.column_best[std::size_t(j)] != i) continue;
    if (o.ratio > 0 && !(nn.best_d2[std::size_t(i)] < r2 * nn.second_d2[std::size_t(i)])) continue;
    const double dist = descriptor_distance(query.row(i), train.row(j), query.dim);
    if (!(dist <= o.max_distance)) continue;
    out.push_back({i, j, float(dist)});
  }
  return out;
}

inline std::vector<match> match_descriptors(const scored_keypoints& query, const scored_keypoints& train,
                                            const match_options& o = {}) {
  return match_descriptors(query.descriptors(), train.descriptors(), o);
}

}  // namespace kpt::eval
