#pragma once
// Synthetic Shapes (SPEC 3, rpautrat/SuperPoint `synthetic_dataset.py`): the embedded training
// data of MagicPoint. Each sample is a pure function of (seed, index).
//
//   synthetic_shapes_config cfg;                              // 960x1280 canvas -> 120x160 output
//   auto s = generate_shapes(cfg, /*seed*/ 0, /*index*/ 17);  // s.image [1, 120, 160] in [0, 1]
//                                                             // s.points [P, 2] (x, y), s.kind
//
// Pipeline per sample (SPEC 3.1, on-the-fly flavour): pick a primitive (weights = RP's
// `truncate` fractions), draw the background (3.2) on the canvas, draw the primitive (3.3)
// recording its ground-truth points (integer canvas pixels), Gaussian blur (blur_size 21, sigma
// auto), bilinear resize to the output size; points scaled by output/canvas (no half-pixel shift,
// as RP); pixel values rounded to 8 bits (as RP's PNG dump).
//
// Sizes: RP's absolute pixel parameters (background kernels 150-500, custom-texture blobs and
// kernels, the final blur 21) are for the 960x1280 canvas; on another canvas they scale with
// max(H, W) / 1280 (blur kept odd). A smaller canvas (e.g. 480x640) is a speed knob.
// Everything is drawn with kpt::rng streams, not numpy's, so images are statistically, not
// bitwise, those of RP. Known RP quirks kept on purpose: the checkerboard/stripes warp is built
// around the point (x, y) = (H/2, W/2) (RP mixes up the axes), and the board starts at the origin.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <numbers>
#include <optional>
#include <string_view>
#include <vector>

#include "kpt/core/error.hpp"
#include "kpt/core/random.hpp"
#include "kpt/core/tensor.hpp"
#include "kpt/data/draw.hpp"
#include "kpt/data/filter.hpp"
#include "kpt/data/sample_rng.hpp"
#include "kpt/geometry/dlt.hpp"
#include "kpt/geometry/homography.hpp"
#include "kpt/geometry/points.hpp"
#include "kpt/geometry/resize.hpp"

namespace kpt::data {

using geometry::image_size;

enum class primitive { lines, polygon, multiple_polygons, ellipses, star, checkerboard, stripes, cube, gaussian_noise };
inline constexpr int n_primitives = 9;
inline constexpr std::array<std::string_view, n_primitives> primitive_names = {
    "draw_lines", "draw_polygon", "draw_multiple_polygons", "draw_ellipses", "draw_star",
    "draw_checkerboard", "draw_stripes", "draw_cube", "gaussian_noise"};

struct synthetic_shapes_config {
  image_size canvas{960, 1280};  // generation size (RP image_size)
  image_size output{120, 160};   // preprocessing.resize
  int blur_size = 21;            // preprocessing.blur_size (odd), at the 960x1280 canvas
  // Relative frequency of each primitive, in primitive order: RP's truncate fractions
  // (ellipses 0.3, stripes 0.2, noise 0.1, others 1 -> 66,000 training images over 9 primitives).
  std::array<double, n_primitives> weights = {1, 1, 1, 0.3, 1, 1, 0.2, 1, 0.1};
  // generate_background (magic-point config values)
  int background_blobs = 100;
  double background_min_rad_ratio = 0.02, background_max_rad_ratio = 0.031;  // of max(H, W)
  int background_min_kernel = 150, background_max_kernel = 500;
  // primitives (RP signature defaults, stripes transform from the config)
  int nb_lines = 10;
  int max_sides = 8;
  int nb_polygons = 30;
  int custom_blobs = 3000;
  int custom_min_kernel = 50, custom_max_kernel = 100;
  int nb_ellipses = 20;
  int nb_branches = 6;
  int max_rows = 7, max_cols = 7;
  std::array<double, 2> checkerboard_transform = {0.05, 0.15};
  int max_nb_cols = 13;
  double min_width_ratio = 0.04;
  std::array<double, 2> stripes_transform = {0.1, 0.1};
  double cube_min_size_ratio = 0.2;
  double cube_min_angle = std::numbers::pi / 10;
  std::array<double, 2> cube_scale_interval = {0.4, 0.6};
  std::array<double, 2> cube_trans_interval = {0.5, 0.2};
  bool quantize = true;  // round the output to 8-bit levels

  // max(H, W) / 1280: the factor applied to RP's absolute pixel sizes.
  double pixel_scale() const { return double(std::max(canvas.height, canvas.width)) / 1280.0; }
};

struct shapes_sample {
  tensor<float, cpu_ref> image;   // [1, H, W] in [0, 1]
  tensor<float, cpu_ref> points;  // [P, 2], (x, y) in output pixels
  primitive kind = primitive::lines;
};

namespace shapes_detail {

inline int scaled(int v, double s) { return std::max(1, int(std::lround(v * s))); }

inline int random_color(rng& g, int background) {
  int c = int(randint(g, 0, 256));
  if (std::abs(c - background) < 30) c = (c + 128) % 256;
  return c;
}
inline int different_color(rng& g, std::span<const int> previous, int min_dist = 50, int max_count = 20) {
  int c = int(randint(g, 0, 256));
  auto close = [&] {
    for (int p : previous)
      if (std::abs(p - c) < min_dist) return true;
    return false;
  };
  for (int count = 0; close() && count < max_count; ++count) c = int(randint(g, 0, 256));
  return c;
}
inline colour gray(int c) { return {float(c), float(c), float(c)}; }

inline bool ccw(const point2& a, const point2& b, const point2& c) {
  return (c.y() - a.y()) * (b.x() - a.x()) > (b.y() - a.y()) * (c.x() - a.x());
}
// Segments ab and cd intersect (RP's test).
inline bool intersect(const point2& a, const point2& b, const point2& c, const point2& d) {
  return ccw(a, c, d) != ccw(b, c, d) && ccw(a, b, c) != ccw(a, b, d);
}

inline double angle_between(const point2& u, const point2& v) {
  const double nu = u.norm(), nv = v.norm();
  if (nu == 0 || nv == 0) return 0;  // numpy gives NaN, which fails the "< 2 pi / 3" test below
  return std::acos(std::clamp(u.dot(v) / (nu * nv), -1.0, 1.0));
}

inline std::vector<point2> keep_inside(const std::vector<point2>& pts, const canvas& cv) {
  std::vector<point2> out;
  for (const auto& p : pts)
    if (p.x() >= 0 && p.x() < double(cv.width) && p.y() >= 0 && p.y() < double(cv.height)) out.push_back(p);
  return out;
}

// RP's corner sampling shared by draw_polygon and draw_multiple_polygons: the centre, radius
// and filtered corners (too-close and too-flat corners removed); empty if fewer than 3 remain.
struct polygon_draw {
  point2 center;
  double rad;
  std::vector<point2> pts;
};
inline polygon_draw sample_polygon(const canvas& cv, int max_sides, rng& g) {
  polygon_draw p;
  const int num = int(randint(g, 3, max_sides));
  const double min_dim = double(std::min(cv.height, cv.width));
  p.rad = std::max(g.uniform() * min_dim / 2, min_dim / 10);
  const double x = double(randint_f(g, p.rad, double(cv.width) - p.rad));
  const double y = double(randint_f(g, p.rad, double(cv.height) - p.rad));
  p.center = {x, y};
  std::vector<double> angles(static_cast<std::size_t>(num));
  for (int i = 0; i < num; ++i)
    angles[std::size_t(i)] = 2 * std::numbers::pi * (double(i) + g.uniform()) / double(num);
  std::vector<point2> pts;
  for (double a : angles) {
    const double r1 = std::max(g.uniform(), 0.4), r2 = std::max(g.uniform(), 0.4);
    pts.emplace_back(std::trunc(x + r1 * p.rad * std::cos(a)), std::trunc(y + r2 * p.rad * std::sin(a)));
  }
  // Drop corners that coincide with the previous one, then corners with an angle >= 120 degrees.
  std::vector<point2> kept;
  for (std::size_t i = 0; i < pts.size(); ++i)
    if ((pts[(i + pts.size() - 1) % pts.size()] - pts[i]).norm() > 0.01) kept.push_back(pts[i]);
  std::vector<point2> sharp;
  for (std::size_t i = 0; i < kept.size(); ++i) {
    const point2& prev = kept[(i + kept.size() - 1) % kept.size()];
    const point2& next = kept[(i + 1) % kept.size()];
    if (angle_between(prev - kept[i], next - kept[i]) < 2 * std::numbers::pi / 3) sharp.push_back(kept[i]);
  }
  if (sharp.size() >= 3) p.pts = std::move(sharp);
  return p;
}

// RP's random affine + perspective used by the checkerboard and the stripes.
struct board_warp {
  Eigen::Matrix<double, 2, 3> affine;
  geometry::homography perspective;
  point2 operator()(const point2& p) const {
    const point2 a = affine * Eigen::Vector3d(p.x(), p.y(), 1.0);
    return geometry::apply(perspective, a);
  }
};
inline board_warp sample_board_warp(const canvas& cv, std::array<double, 2> params, rng& g) {
  const double alpha = double(std::max(cv.height, cv.width)) * (params[0] + g.uniform() * params[1]);
  // RP: center_square = shape // 2 = (H/2, W/2), used as an (x, y) point.
  const point2 c(double(cv.height / 2), double(cv.width / 2));
  const double sq = double(std::min(cv.height, cv.width) / 3);
  const std::array<point2, 4> pts1 = {point2(c.x() + sq, c.y() + sq), point2(c.x() + sq, c.y() - sq),
                                      point2(c.x() - sq, c.y() - sq), point2(c.x() - sq, c.y() + sq)};
  std::array<point2, 4> pts2;
  for (int i = 0; i < 4; ++i)
    pts2[std::size_t(i)] = pts1[std::size_t(i)] + point2(g.uniform(-alpha, alpha), g.uniform(-alpha, alpha));
  board_warp w;
  // Affine from the first three pairs: [a b c; d e f] * [x y 1]^T = pts2.
  Eigen::Matrix3d S;
  Eigen::Matrix<double, 3, 2> D;
  for (int i = 0; i < 3; ++i) {
    S.row(i) << pts1[std::size_t(i)].x(), pts1[std::size_t(i)].y(), 1.0;
    D.row(i) << pts2[std::size_t(i)].x(), pts2[std::size_t(i)].y();
  }
  w.affine = S.fullPivLu().solve(D).transpose();
  for (int i = 0; i < 4; ++i)
    pts2[std::size_t(i)] = pts1[std::size_t(i)] + point2(g.uniform(-alpha / 2, alpha / 2), g.uniform(-alpha / 2, alpha / 2));
  w.perspective = geometry::find_homography(pts1, pts2);
  return w;
}

// A point cast to int as numpy's astype(int) (truncation toward zero).
inline point2 trunc(const point2& p) { return {std::trunc(p.x()), std::trunc(p.y())}; }

}  // namespace shapes_detail

// ---- background (SPEC 3.2) ------------------------------------------------------------------------

// A custom background for the canvas, and its mean (the `background_color` of the primitives).
inline void draw_background(canvas& cv, const synthetic_shapes_config& c, rng& g) {
  using namespace shapes_detail;
  const double s = c.pixel_scale();
  // Uniform noise thresholded at randint(256): a 0/255 noise image. 8 random bytes per draw.
  const int threshold = int(randint(g, 0, 256));
  float* p = cv.plane(0);
  const index_t n = cv.height * cv.width;
  index_t white = 0;
  for (index_t i = 0; i < n; i += 8) {
    std::uint64_t bits = g();
    for (index_t j = i; j < std::min(i + 8, n); ++j, bits >>= 8) {
      const bool on = (bits & 0xff) > std::uint64_t(threshold);
      p[j] = on ? 255.f : 0.f;
      white += on;
    }
  }
  const int bg = int(255.0 * double(white) / double(n));  // int(np.mean(img))
  const double dim = double(std::max(cv.height, cv.width));
  for (int i = 0; i < c.background_blobs; ++i) {
    const double x = double(randint(g, 0, cv.width)), y = double(randint(g, 0, cv.height));
    const int col = random_color(g, bg);
    const double r = double(randint(g, index_t(dim * c.background_min_rad_ratio), index_t(dim * c.background_max_rad_ratio)));
    fill_circle(cv, {x, y}, r, gray(col));
  }
  const int k = int(randint(g, scaled(c.background_min_kernel, s), scaled(c.background_max_kernel, s)));
  box_blur(cv.plane(0), cv.plane(0), cv.height, cv.width, k, k, /*round_result=*/true);
}

// ---- primitives (SPEC 3.3) ------------------------------------------------------------------------

inline std::vector<point2> draw_lines(canvas& cv, const synthetic_shapes_config& c, rng& g) {
  using namespace shapes_detail;
  const int num = int(randint(g, 1, c.nb_lines));
  const int bg = int(cv.mean());
  const double min_dim = double(std::min(cv.height, cv.width));
  std::vector<std::array<point2, 2>> segments;
  std::vector<point2> pts;
  for (int i = 0; i < num; ++i) {
    const point2 a(double(randint(g, 0, cv.width)), double(randint(g, 0, cv.height)));
    const point2 b(double(randint(g, 0, cv.width)), double(randint(g, 0, cv.height)));
    bool crosses = false;
    for (const auto& s : segments) crosses = crosses || intersect(s[0], s[1], a, b);
    if (crosses) continue;
    segments.push_back({a, b});
    const int col = random_color(g, bg);
    const double thickness = double(randint_f(g, min_dim * 0.01, min_dim * 0.02));
    draw_line(cv, a, b, thickness, gray(col));
    pts.push_back(a);
    pts.push_back(b);
  }
  return pts;
}

inline std::vector<point2> draw_polygon(canvas& cv, const synthetic_shapes_config& c, rng& g) {
  shapes_detail::polygon_draw p;
  do p = shapes_detail::sample_polygon(cv, c.max_sides, g);
  while (p.pts.empty());  // RP retries (recursively) until 3 corners survive
  fill_polygon(cv, p.pts, shapes_detail::gray(shapes_detail::random_color(g, int(cv.mean()))));
  return p.pts;
}

inline std::vector<point2> draw_multiple_polygons(canvas& cv, const synthetic_shapes_config& c, rng& g) {
  using namespace shapes_detail;
  const double s = c.pixel_scale();
  const int bg = int(cv.mean());
  std::vector<std::array<point2, 2>> segments;
  std::vector<point2> centers;
  std::vector<double> rads;
  std::vector<point2> pts;
  for (int attempt = 0; attempt < c.nb_polygons; ++attempt) {
    const polygon_draw p = sample_polygon(cv, c.max_sides, g);
    if (p.pts.empty()) continue;
    bool reject = false;
    for (std::size_t i = 0; i < p.pts.size() && !reject; ++i)
      for (const auto& seg : segments)
        if (intersect(seg[0], seg[1], p.pts[i], p.pts[(i + 1) % p.pts.size()])) {
          reject = true;
          break;
        }
    for (std::size_t i = 0; i < centers.size() && !reject; ++i)  // nested circles
      reject = (p.center - centers[i]).norm() + std::min(p.rad, rads[i]) < std::max(p.rad, rads[i]);
    if (reject) continue;
    centers.push_back(p.center);
    rads.push_back(p.rad);
    for (std::size_t i = 0; i < p.pts.size(); ++i) segments.push_back({p.pts[i], p.pts[(i + 1) % p.pts.size()]});

    // generate_custom_background: a base colour, many small discs, a box blur. Only the window
    // around the polygon is rendered (enlarged by the kernel size so that the blur inside the
    // polygon equals the full-canvas blur); all discs are drawn from the stream regardless.
    const int base = random_color(g, bg);
    const int k = int(randint(g, scaled(c.custom_min_kernel, s), scaled(c.custom_max_kernel, s)));
    double xmin = 1e300, xmax = -1e300, ymin = 1e300, ymax = -1e300;
    for (const auto& q : p.pts) {
      xmin = std::min(xmin, q.x());
      xmax = std::max(xmax, q.x());
      ymin = std::min(ymin, q.y());
      ymax = std::max(ymax, q.y());
    }
    const index_t x0 = std::max<index_t>(0, index_t(xmin) - k - 1), x1 = std::min<index_t>(cv.width - 1, index_t(xmax) + k + 1);
    const index_t y0 = std::max<index_t>(0, index_t(ymin) - k - 1), y1 = std::min<index_t>(cv.height - 1, index_t(ymax) + k + 1);
    canvas tex(y1 - y0 + 1, x1 - x0 + 1, 1, float(base));
    const int max_r = scaled(20, s);
    for (int i = 0; i < c.custom_blobs; ++i) {
      const double bx = double(randint(g, 0, cv.width)), by = double(randint(g, 0, cv.height));
      const int col = random_color(g, bg);
      const double r = double(randint(g, 0, max_r));
      if (bx + r < double(x0) || bx - r > double(x1) || by + r < double(y0) || by - r > double(y1)) continue;
      fill_circle(tex, {bx - double(x0), by - double(y0)}, r, gray(col));
    }
    // Reflection at the window edge is exact where the window edge is the canvas edge; elsewhere
    // it only changes pixels within k of the edge, which lie outside the polygon.
    box_blur(tex.plane(0), tex.plane(0), tex.height, tex.width, k, k, /*round_result=*/true);
    polygon_pixels(p.pts, cv.height, [&](index_t y, index_t xa, index_t xb) {
      if (y < 0 || y >= cv.height) return;
      for (index_t x = std::max<index_t>(xa, 0); x <= std::min<index_t>(xb, cv.width - 1); ++x)
        cv.at(0, y, x) = tex.px[std::size_t((y - y0) * tex.width + (x - x0))];
    });
    pts.insert(pts.end(), p.pts.begin(), p.pts.end());
  }
  return pts;
}

inline std::vector<point2> draw_ellipses(canvas& cv, const synthetic_shapes_config& c, rng& g) {
  using namespace shapes_detail;
  const double min_dim = double(std::min(cv.height, cv.width)) / 4;
  const int bg = int(cv.mean());
  std::vector<point2> centers;
  std::vector<double> rads;
  for (int i = 0; i < c.nb_ellipses; ++i) {
    const double ax = std::trunc(std::max(g.uniform() * min_dim, min_dim / 5));
    const double ay = std::trunc(std::max(g.uniform() * min_dim, min_dim / 5));
    const double max_rad = std::max(ax, ay);
    const point2 ctr(double(randint_f(g, max_rad, double(cv.width) - max_rad)),
                     double(randint_f(g, max_rad, double(cv.height) - max_rad)));
    bool overlap = false;
    for (std::size_t j = 0; j < centers.size(); ++j) overlap = overlap || max_rad > (centers[j] - ctr).norm() - rads[j];
    if (overlap) continue;
    centers.push_back(ctr);
    rads.push_back(max_rad);
    const int col = random_color(g, bg);
    const double angle = g.uniform() * 90;
    fill_ellipse(cv, ctr, ax, ay, angle, gray(col));
  }
  return {};
}

inline std::vector<point2> draw_star(canvas& cv, const synthetic_shapes_config& c, rng& g) {
  using namespace shapes_detail;
  const int num = int(randint(g, 3, c.nb_branches));
  const double min_dim = double(std::min(cv.height, cv.width));
  const double thickness = double(randint_f(g, min_dim * 0.01, min_dim * 0.02));
  const double rad = std::max(g.uniform() * min_dim / 2, min_dim / 5);
  const double x = double(randint_f(g, rad, double(cv.width) - rad)), y = double(randint_f(g, rad, double(cv.height) - rad));
  std::vector<point2> pts = {point2(x, y)};
  for (int i = 0; i < num; ++i) {
    const double a = 2 * std::numbers::pi * (double(i) + g.uniform()) / double(num);
    const double r1 = std::max(g.uniform(), 0.3), r2 = std::max(g.uniform(), 0.3);
    pts.emplace_back(std::trunc(x + r1 * rad * std::cos(a)), std::trunc(y + r2 * rad * std::sin(a)));
  }
  const int bg = int(cv.mean());
  for (int i = 1; i <= num; ++i) draw_line(cv, pts[0], pts[std::size_t(i)], thickness, gray(random_color(g, bg)));
  return pts;
}

inline std::vector<point2> draw_checkerboard(canvas& cv, const synthetic_shapes_config& c, rng& g) {
  using namespace shapes_detail;
  const int bg = int(cv.mean());
  const int rows = int(randint(g, 3, c.max_rows)), cols = int(randint(g, 3, c.max_cols));
  const double s = double(std::min((cv.width - 1) / cols, (cv.height - 1) / rows));
  const board_warp warp = sample_board_warp(cv, c.checkerboard_transform, g);
  std::vector<point2> w;  // (rows + 1) x (cols + 1) warped vertices, row-major
  for (int i = 0; i <= rows; ++i)
    for (int j = 0; j <= cols; ++j) w.push_back(trunc(warp(point2(j * s, i * s))));
  auto v = [&](int i, int j) { return w[std::size_t(i * (cols + 1) + j)]; };
  std::vector<int> colors(std::size_t(rows * cols));
  for (int i = 0; i < rows; ++i)
    for (int j = 0; j < cols; ++j) {
      int col;
      if (i == 0 && j == 0) {
        col = random_color(g, bg);
      } else {
        std::vector<int> neighbours;
        if (i) neighbours.push_back(colors[std::size_t((i - 1) * cols + j)]);
        if (j) neighbours.push_back(colors[std::size_t(i * cols + j - 1)]);
        col = different_color(g, neighbours);
      }
      colors[std::size_t(i * cols + j)] = col;
      const std::array<point2, 4> cell = {v(i, j), v(i, j + 1), v(i + 1, j + 1), v(i + 1, j)};
      fill_polygon(cv, cell, gray(col));
    }
  const int nb_rows = int(randint(g, 2, rows + 2)), nb_cols = int(randint(g, 2, cols + 2));
  const double min_dim = double(std::min(cv.height, cv.width));
  const double thickness = double(randint_f(g, min_dim * 0.01, min_dim * 0.015));
  for (int k = 0; k < nb_rows; ++k) {
    const int r = int(randint(g, 0, rows + 1)), c1 = int(randint(g, 0, cols + 1)), c2 = int(randint(g, 0, cols + 1));
    draw_line(cv, v(r, c1), v(r, c2), thickness, gray(random_color(g, bg)));
  }
  for (int k = 0; k < nb_cols; ++k) {
    const int col = int(randint(g, 0, cols + 1)), r1 = int(randint(g, 0, rows + 1)), r2 = int(randint(g, 0, rows + 1));
    draw_line(cv, v(r1, col), v(r2, col), thickness, gray(random_color(g, bg)));
  }
  return keep_inside(w, cv);
}

inline std::vector<point2> draw_stripes(canvas& cv, const synthetic_shapes_config& c, rng& g) {
  using namespace shapes_detail;
  const int bg = int(cv.mean());
  const index_t board_h = index_t(double(cv.height) * (1 + g.uniform()));
  const index_t board_w = index_t(double(cv.width) * (1 + g.uniform()));
  const int n = int(randint(g, 5, c.max_nb_cols));
  std::vector<index_t> xs;
  for (int i = 0; i < n - 1; ++i) xs.push_back(index_t(double(board_w) * g.uniform()));
  xs.push_back(0);
  xs.push_back(board_w - 1);
  std::sort(xs.begin(), xs.end());
  xs.erase(std::unique(xs.begin(), xs.end()), xs.end());
  const double min_width = double(std::min(cv.height, cv.width)) * c.min_width_ratio;
  std::vector<index_t> kept;
  for (std::size_t i = 0; i < xs.size(); ++i) {
    const double next = i + 1 < xs.size() ? double(xs[i + 1]) : double(board_w) + min_width;
    if (next - double(xs[i]) >= min_width) kept.push_back(xs[i]);
  }
  const int col = int(kept.size()) - 1;
  std::vector<point2> board;  // top ends, then bottom ends
  for (index_t x : kept) board.emplace_back(double(x), 0.0);
  for (index_t x : kept) board.emplace_back(double(x), double(board_h - 1));
  const board_warp warp = sample_board_warp(cv, c.stripes_transform, g);
  std::vector<point2> w;
  for (const auto& p : board) w.push_back(trunc(warp(p)));
  int color = random_color(g, bg);
  for (int i = 0; i < col; ++i) {
    color = int((color + 128 + randint(g, -30, 30)) % 256);
    const std::array<point2, 4> stripe = {w[std::size_t(i)], w[std::size_t(i + 1)], w[std::size_t(i + col + 2)],
                                          w[std::size_t(i + col + 1)]};
    fill_polygon(cv, stripe, gray(color));
  }
  const int nb_rows = int(randint(g, 2, 5)), nb_cols = int(randint(g, 2, col + 2));
  const double min_dim = double(std::min(cv.height, cv.width));
  const double thickness = double(randint_f(g, min_dim * 0.01, min_dim * 0.015));
  for (int k = 0; k < nb_rows; ++k) {
    const int row = g.below(2) ? col + 1 : 0;
    const int c1 = int(randint(g, 0, col + 1)), c2 = int(randint(g, 0, col + 1));
    draw_line(cv, w[std::size_t(row + c1)], w[std::size_t(row + c2)], thickness, gray(random_color(g, bg)));
  }
  for (int k = 0; k < nb_cols; ++k) {
    const int ci = int(randint(g, 0, col + 1));
    draw_line(cv, w[std::size_t(ci)], w[std::size_t(ci + col + 1)], thickness, gray(random_color(g, bg)));
  }
  return keep_inside(w, cv);
}

inline std::vector<point2> draw_cube(canvas& cv, const synthetic_shapes_config& c, rng& g) {
  using namespace shapes_detail;
  const int bg = int(cv.mean());
  const double min_dim = double(std::min(cv.height, cv.width));
  const double min_side = min_dim * c.cube_min_size_ratio;
  const double lx = min_side + g.uniform() * 2 * min_dim / 3, ly = min_side + g.uniform() * 2 * min_dim / 3,
               lz = min_side + g.uniform() * 2 * min_dim / 3;
  // Vertex k has bit 0 = x, bit 1 = y, bit 2 = z: adjacent vertices differ in one bit.
  std::array<Eigen::Vector3d, 8> cube;
  for (int k = 0; k < 8; ++k) cube[std::size_t(k)] = {(k & 1) ? lx : 0, (k & 2) ? ly : 0, (k & 4) ? lz : 0};
  std::array<double, 3> a;
  for (auto& v : a) v = g.uniform() * 3 * std::numbers::pi / 10 + c.cube_min_angle;
  Eigen::Matrix3d r1, r2, r3, sc = Eigen::Matrix3d::Zero();
  r1 << std::cos(a[0]), -std::sin(a[0]), 0, std::sin(a[0]), std::cos(a[0]), 0, 0, 0, 1;
  r2 << 1, 0, 0, 0, std::cos(a[1]), -std::sin(a[1]), 0, std::sin(a[1]), std::cos(a[1]);
  r3 << std::cos(a[2]), 0, -std::sin(a[2]), 0, 1, 0, std::sin(a[2]), 0, std::cos(a[2]);
  for (int i = 0; i < 3; ++i) sc(i, i) = c.cube_scale_interval[0] + g.uniform() * c.cube_scale_interval[1];
  const double W = double(cv.width), H = double(cv.height), t0 = c.cube_trans_interval[0], t1 = c.cube_trans_interval[1];
  const Eigen::Vector3d trans(W * t0 + double(randint_f(g, -W * t1, W * t1)), H * t0 + double(randint_f(g, -H * t1, H * t1)), 0);
  const Eigen::Matrix3d M = sc * r1 * r2 * r3;
  std::array<point2, 8> v;
  for (int k = 0; k < 8; ++k) {
    const Eigen::Vector3d q = trans + M * cube[std::size_t(k)];
    v[std::size_t(k)] = {std::trunc(q.x()), std::trunc(q.y())};  // orthographic projection on z = 0
  }
  const int faces[3][4] = {{7, 3, 1, 5}, {7, 5, 4, 6}, {7, 6, 2, 3}};
  const int face_col = random_color(g, bg);
  for (const auto& f : faces) {
    const std::array<point2, 4> q = {v[std::size_t(f[0])], v[std::size_t(f[1])], v[std::size_t(f[2])], v[std::size_t(f[3])]};
    fill_polygon(cv, q, gray(face_col));
  }
  const double thickness = double(randint_f(g, min_dim * 0.003, min_dim * 0.015));
  for (const auto& f : faces)
    for (int j = 0; j < 4; ++j) {
      const int edge_col = int((face_col + 128 + randint(g, -64, 64)) % 256);
      draw_line(cv, v[std::size_t(f[j])], v[std::size_t(f[(j + 1) % 4])], thickness, gray(edge_col));
    }
  // Vertex 0 is hidden by construction.
  return keep_inside(std::vector<point2>(v.begin() + 1, v.end()), cv);
}

inline std::vector<point2> draw_gaussian_noise(canvas& cv, const synthetic_shapes_config&, rng& g) {
  float* p = cv.plane(0);
  const index_t n = cv.height * cv.width;
  for (index_t i = 0; i < n; i += 8) {
    std::uint64_t bits = g();
    for (index_t j = i; j < std::min(i + 8, n); ++j, bits >>= 8) p[j] = float(bits & 0xff) * (255.f / 256.f);
  }
  for (index_t i = 0; i < n; ++i) p[i] = std::floor(p[i]);  // cv.randu(img, 0, 255): integers in [0, 255)
  return {};
}

inline std::vector<point2> draw_primitive(primitive k, canvas& cv, const synthetic_shapes_config& c, rng& g) {
  switch (k) {
    case primitive::lines: return draw_lines(cv, c, g);
    case primitive::polygon: return draw_polygon(cv, c, g);
    case primitive::multiple_polygons: return draw_multiple_polygons(cv, c, g);
    case primitive::ellipses: return draw_ellipses(cv, c, g);
    case primitive::star: return draw_star(cv, c, g);
    case primitive::checkerboard: return draw_checkerboard(cv, c, g);
    case primitive::stripes: return draw_stripes(cv, c, g);
    case primitive::cube: return draw_cube(cv, c, g);
    case primitive::gaussian_noise: return draw_gaussian_noise(cv, c, g);
  }
  return {};
}

// ---- blur + resize (SPEC 3.1 steps 4-5) -----------------------------------------------------------

// Gaussian blur (kernel k, sigma auto) then bilinear resize (cv2 INTER_LINEAR), computing the
// blur only at the canvas pixels the resize reads (2 rows and 2 columns per output pixel).
inline std::vector<float> blur_and_resize(const canvas& cv, int k, image_size out) {
  const auto gk = gaussian_kernel(k);
  const index_t rad = index_t(k / 2), h = cv.height, w = cv.width;
  const auto ty = geometry::resize_detail::axis_taps(h, out.height, geometry::resize_mode::bilinear);
  const auto tx = geometry::resize_detail::axis_taps(w, out.width, geometry::resize_mode::bilinear);
  std::vector<index_t> rows, cols;
  for (const auto& t : ty)
    for (const auto& tap : t) rows.push_back(tap.src);
  for (const auto& t : tx)
    for (const auto& tap : t) cols.push_back(tap.src);
  std::sort(rows.begin(), rows.end());
  rows.erase(std::unique(rows.begin(), rows.end()), rows.end());
  std::sort(cols.begin(), cols.end());
  cols.erase(std::unique(cols.begin(), cols.end()), cols.end());
  std::vector<index_t> row_slot(std::size_t(h), -1), col_slot(std::size_t(w), -1);
  for (std::size_t i = 0; i < rows.size(); ++i) row_slot[std::size_t(rows[i])] = index_t(i);
  for (std::size_t i = 0; i < cols.size(); ++i) col_slot[std::size_t(cols[i])] = index_t(i);
  const float* p = cv.plane(0);
  std::vector<float> vrow(static_cast<std::size_t>(w)), padded(static_cast<std::size_t>(w + 2 * rad));
  const std::vector<float> gf(gk.begin(), gk.end());
  std::vector<double> blurred(rows.size() * cols.size());
  for (std::size_t ri = 0; ri < rows.size(); ++ri) {
    std::fill(vrow.begin(), vrow.end(), 0.f);
    for (index_t i = 0; i < index_t(gk.size()); ++i) {
      const float* __restrict src = p + reflect101(rows[ri] + i - rad, h) * w;
      const float gw = float(gk[std::size_t(i)]);
      float* __restrict v = vrow.data();
      for (index_t x = 0; x < w; ++x) v[x] += gw * src[x];  // float (values <= 255) so that it vectorises
    }
    for (index_t i = 0; i < w + 2 * rad; ++i) padded[std::size_t(i)] = vrow[std::size_t(reflect101(i - rad, w))];
    for (std::size_t ci = 0; ci < cols.size(); ++ci) {
      const float* in = padded.data() + cols[ci];
      float s = 0;
      for (std::size_t j = 0; j < gf.size(); ++j) s += gf[j] * in[j];
      blurred[ri * cols.size() + ci] = s;
    }
  }
  std::vector<float> res(std::size_t(out.height * out.width));
  for (index_t y = 0; y < out.height; ++y)
    for (index_t x = 0; x < out.width; ++x) {
      double v = 0;
      for (const auto& a : ty[std::size_t(y)])
        for (const auto& b : tx[std::size_t(x)])
          v += a.weight * b.weight * blurred[std::size_t(row_slot[std::size_t(a.src)]) * cols.size() + std::size_t(col_slot[std::size_t(b.src)])];
      res[std::size_t(y * out.width + x)] = float(v);
    }
  return res;
}

// ---- the sample ------------------------------------------------------------------------------------

inline primitive pick_primitive(const synthetic_shapes_config& c, rng& g) {
  double total = 0;
  for (double w : c.weights) total += std::max(w, 0.0);
  require<value_error>(total > 0, "synthetic shapes: every primitive weight is zero");
  double u = g.uniform() * total;
  for (int i = 0; i < n_primitives; ++i) {
    const double w = std::max(c.weights[std::size_t(i)], 0.0);
    if (u < w) return primitive(i);
    u -= w;
  }
  for (int i = n_primitives - 1; i >= 0; --i)
    if (c.weights[std::size_t(i)] > 0) return primitive(i);
  return primitive::lines;
}

// Sample `index` of the stream `seed`: the same image and points with any thread count.
// kind_override forces a primitive (the draw is still a function of seed, index and kind).
inline shapes_sample generate_shapes(const synthetic_shapes_config& c, std::uint64_t seed, index_t index,
                                     std::optional<primitive> kind_override = std::nullopt) {
  require<value_error>(c.canvas.height >= 16 && c.canvas.width >= 16 && c.output.height > 0 && c.output.width > 0,
                       "synthetic shapes: canvas ", c.canvas.height, "x", c.canvas.width, " and output ",
                       c.output.height, "x", c.output.width, " must be at least 16x16 and positive");
  require<value_error>(c.blur_size >= 1 && c.blur_size % 2 == 1, "synthetic shapes: blur_size ", c.blur_size,
                       " must be odd");
  rng g = sample_rng(seed, index);
  shapes_sample s;
  s.kind = kind_override ? *kind_override : pick_primitive(c, g);
  // One canvas per thread, reused: a fresh 960x1280 buffer per sample costs more in page faults
  // than drawing. draw_background writes every pixel.
  thread_local canvas cv;
  cv.height = c.canvas.height;
  cv.width = c.canvas.width;
  cv.channels = 1;
  cv.px.resize(std::size_t(cv.height * cv.width));
  draw_background(cv, c, g);
  const auto pts = draw_primitive(s.kind, cv, c, g);
  int k = int(std::lround(c.blur_size * c.pixel_scale()));
  if (k % 2 == 0) ++k;
  const auto small = blur_and_resize(cv, std::max(k, 1), c.output);
  s.image = tensor<float, cpu_ref>::empty({1, c.output.height, c.output.width});
  for (std::size_t i = 0; i < small.size(); ++i) {
    double v = std::clamp(double(small[i]), 0.0, 255.0);
    if (c.quantize) v = std::floor(v + 0.5);
    s.image.data()[i] = float(v / 255.0);
  }
  const double sx = double(c.output.width) / double(c.canvas.width), sy = double(c.output.height) / double(c.canvas.height);
  std::vector<point2> scaled_pts;
  for (const auto& p : pts) scaled_pts.emplace_back(p.x() * sx, p.y() * sy);
  s.points = geometry::to_tensor<float>(std::span<const point2>(scaled_pts));
  return s;
}

}  // namespace kpt::data
