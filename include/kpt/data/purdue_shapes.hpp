#pragma once
// The Purdue-style synthetic set (SPEC 3.6): 128x128 RGB images with several simple shapes on a
// plain background, every shape corner recorded by the generator as ground truth: no blur, no
// resize, exact integer pixel positions, 10 to 60 points per image.
//
//   auto s = generate_purdue(purdue_shapes_config{}, seed, index);   // s.image [3, 128, 128]
//
// Shapes: triangles, rectangles (axis-aligned or rotated, corners rounded to pixels), nested
// rectangles (2-3 levels; insets down to 1 px, so points can lie 1 px apart), asterisks (strokes
// through a centre: end points and centre), small checkerboards (all grid vertices). Shapes do not
// overlap (their boxes keep a gap), so every recorded corner is visible. Each shape's colour
// differs from the background's luminance by at least `min_contrast`.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <numbers>
#include <vector>

#include "kpt/core/error.hpp"
#include "kpt/core/tensor.hpp"
#include "kpt/data/draw.hpp"
#include "kpt/data/sample_rng.hpp"
#include "kpt/geometry/homography.hpp"
#include "kpt/geometry/points.hpp"

namespace kpt::data {

enum class purdue_shape { triangle, rectangle, nested_rectangles, asterisk, checkerboard };

struct purdue_shapes_config {
  geometry::image_size size{128, 128};
  int min_points = 10, max_points = 60;
  int min_shapes = 3, max_shapes = 8;  // shapes aimed for (more are added while points < min_points)
  int max_attempts = 400;              // placement attempts per image
  int gap = 3;                         // pixels between the boxes of two shapes
  double min_contrast = 60;            // luminance difference shape / background (0..255)
  bool color = true;                   // RGB; false: gray [1, H, W]
};

struct purdue_sample {
  tensor<float, cpu_ref> image;   // [3, H, W] (or [1, H, W]) in [0, 1]
  tensor<float, cpu_ref> points;  // [P, 2], (x, y), integers
};

namespace purdue_detail {

struct box {
  index_t x0, y0, x1, y1;
};
inline bool overlaps(const box& a, const box& b, int gap) {
  return !(a.x1 + gap < b.x0 || b.x1 + gap < a.x0 || a.y1 + gap < b.y0 || b.y1 + gap < a.y0);
}
inline double luminance(const colour& c) { return 0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2]; }
inline colour random_rgb(rng& g) {
  return {float(randint(g, 0, 256)), float(randint(g, 0, 256)), float(randint(g, 0, 256))};
}
inline colour contrasting(rng& g, const colour& bg, double min_contrast, bool color) {
  for (;;) {
    colour c = random_rgb(g);
    if (!color) c[1] = c[2] = c[0];
    if (std::abs(luminance(c) - luminance(bg)) >= min_contrast) return c;
  }
}

struct shape_draw {
  std::vector<point2> points;
  box bounds;
  std::vector<std::vector<point2>> polygons;  // filled in order, each with its colour index
  std::vector<int> fill_index;
  std::vector<std::array<point2, 2>> strokes;  // asterisk strokes
  double stroke_width = 1;
};

inline box bounds_of(const std::vector<point2>& pts, double pad = 0) {
  double x0 = 1e300, y0 = 1e300, x1 = -1e300, y1 = -1e300;
  for (const auto& p : pts) {
    x0 = std::min(x0, p.x());
    y0 = std::min(y0, p.y());
    x1 = std::max(x1, p.x());
    y1 = std::max(y1, p.y());
  }
  return {index_t(std::floor(x0 - pad)), index_t(std::floor(y0 - pad)), index_t(std::ceil(x1 + pad)), index_t(std::ceil(y1 + pad))};
}

inline double cross(const point2& o, const point2& a, const point2& b) {
  return (a - o).x() * (b - o).y() - (a - o).y() * (b - o).x();
}

inline shape_draw make_shape(purdue_shape kind, const geometry::image_size& s, rng& g) {
  shape_draw d;
  const double W = double(s.width), H = double(s.height);
  switch (kind) {
    case purdue_shape::triangle: {
      // Three integer corners in a square of side L; angles >= 25 degrees, area >= L^2 / 6.
      for (;;) {
        const double L = double(randint(g, 12, 41));
        const double ox = double(randint_f(g, 1, W - L - 1)), oy = double(randint_f(g, 1, H - L - 1));
        std::vector<point2> t;
        for (int i = 0; i < 3; ++i) t.emplace_back(ox + double(randint_f(g, 0, L + 1)), oy + double(randint_f(g, 0, L + 1)));
        if (std::abs(cross(t[0], t[1], t[2])) / 2 < L * L / 6) continue;
        bool sharp_enough = true;
        for (int i = 0; i < 3; ++i) {
          const point2 u = t[std::size_t((i + 1) % 3)] - t[std::size_t(i)], v = t[std::size_t((i + 2) % 3)] - t[std::size_t(i)];
          sharp_enough = sharp_enough && std::acos(std::clamp(u.dot(v) / (u.norm() * v.norm()), -1.0, 1.0)) >= 25 * std::numbers::pi / 180;
        }
        if (!sharp_enough) continue;
        d.points = t;
        d.polygons.push_back(t);
        d.fill_index.push_back(0);
        break;
      }
      break;
    }
    case purdue_shape::rectangle: {
      const double w = double(randint(g, 10, 41)), h = double(randint(g, 10, 41));
      const double angle = g.below(2) ? 0.0 : g.uniform(-std::numbers::pi / 4, std::numbers::pi / 4);
      const double R = std::hypot(w, h) / 2 + 1;
      const point2 c(double(randint_f(g, R, W - R)), double(randint_f(g, R, H - R)));
      const double co = std::cos(angle), si = std::sin(angle);
      for (const point2& q : {point2(-w / 2, -h / 2), point2(w / 2, -h / 2), point2(w / 2, h / 2), point2(-w / 2, h / 2)})
        d.points.emplace_back(std::round(c.x() + co * q.x() - si * q.y()), std::round(c.y() + si * q.x() + co * q.y()));
      d.polygons.push_back(d.points);
      d.fill_index.push_back(0);
      break;
    }
    case purdue_shape::nested_rectangles: {
      const index_t w = randint(g, 16, 51), h = randint(g, 16, 51);
      const index_t x0 = randint(g, 1, s.width - w - 1), y0 = randint(g, 1, s.height - h - 1);
      const int levels = int(randint(g, 2, 4));
      index_t a = x0, b = y0, cx = x0 + w - 1, cy = y0 + h - 1;
      for (int l = 0; l < levels; ++l) {
        if (cx - a < 4 || cy - b < 4) break;
        const std::vector<point2> r = {point2(double(a), double(b)), point2(double(cx), double(b)),
                                       point2(double(cx), double(cy)), point2(double(a), double(cy))};
        d.points.insert(d.points.end(), r.begin(), r.end());
        d.polygons.push_back(r);
        d.fill_index.push_back(l);
        const index_t inset = randint(g, 1, 9);
        a += inset;
        b += inset;
        cx -= inset;
        cy -= inset;
      }
      break;
    }
    case purdue_shape::asterisk: {
      const int strokes = int(randint(g, 3, 5));
      const double L = double(randint(g, 8, 21));
      const point2 c(double(randint_f(g, L + 2, W - L - 2)), double(randint_f(g, L + 2, H - L - 2)));
      d.points.push_back(c);
      const double phase = g.uniform(0, std::numbers::pi);
      for (int i = 0; i < strokes; ++i) {
        const double a = phase + std::numbers::pi * (double(i) + g.uniform(-0.2, 0.2)) / double(strokes);
        const point2 e1(std::round(c.x() + L * std::cos(a)), std::round(c.y() + L * std::sin(a)));
        const point2 e2(std::round(c.x() - L * std::cos(a)), std::round(c.y() - L * std::sin(a)));
        d.strokes.push_back({e1, e2});
        d.points.push_back(e1);
        d.points.push_back(e2);
      }
      d.stroke_width = g.below(2) ? 1.0 : 2.0;
      break;
    }
    case purdue_shape::checkerboard: {
      const index_t rows = randint(g, 2, 5), cols = randint(g, 2, 5), cell = randint(g, 6, 13);
      const index_t x0 = randint(g, 1, std::max<index_t>(2, s.width - cols * cell - 1));
      const index_t y0 = randint(g, 1, std::max<index_t>(2, s.height - rows * cell - 1));
      for (index_t i = 0; i <= rows; ++i)
        for (index_t j = 0; j <= cols; ++j) d.points.emplace_back(double(x0 + j * cell), double(y0 + i * cell));
      for (index_t i = 0; i < rows; ++i)
        for (index_t j = 0; j < cols; ++j) {
          const double xa = double(x0 + j * cell), ya = double(y0 + i * cell);
          d.polygons.push_back({point2(xa, ya), point2(xa + double(cell), ya), point2(xa + double(cell), ya + double(cell)),
                                point2(xa, ya + double(cell))});
          d.fill_index.push_back(int((i + j) % 2));
        }
      break;
    }
  }
  d.bounds = bounds_of(d.points, d.stroke_width);
  return d;
}

}  // namespace purdue_detail

inline purdue_sample generate_purdue(const purdue_shapes_config& c, std::uint64_t seed, index_t index) {
  using namespace purdue_detail;
  require<value_error>(c.size.height >= 64 && c.size.width >= 64, "purdue shapes: size ", c.size.height, "x",
                       c.size.width, " must be at least 64x64");
  require<value_error>(c.min_points >= 1 && c.max_points >= c.min_points + 12, "purdue shapes: points range [",
                       c.min_points, ", ", c.max_points, "] is too narrow (needs max >= min + 12)");
  rng g = sample_rng(seed, index);
  const int channels = c.color ? 3 : 1;
  canvas cv(c.size.height, c.size.width, channels);
  colour bg = random_rgb(g);
  if (!c.color) bg[1] = bg[2] = bg[0];
  cv.fill(bg);
  std::vector<box> placed;
  std::vector<point2> pts;
  const int target = int(randint(g, c.min_shapes, c.max_shapes + 1));
  for (int attempt = 0; attempt < c.max_attempts; ++attempt) {
    if (int(placed.size()) >= target && int(pts.size()) >= c.min_points) break;
    const auto kind = purdue_shape(randint(g, 0, 5));
    shape_draw d = make_shape(kind, c.size, g);
    if (int(pts.size() + d.points.size()) > c.max_points) continue;
    const box& b = d.bounds;
    if (b.x0 < 0 || b.y0 < 0 || b.x1 >= c.size.width || b.y1 >= c.size.height) continue;
    bool free = true;
    for (const auto& o : placed) free = free && !overlaps(o, b, c.gap);
    if (!free) continue;
    placed.push_back(b);
    std::array<colour, 4> cols;
    for (auto& col : cols) col = contrasting(g, bg, c.min_contrast, c.color);
    // Neighbouring levels / cells need distinct colours to show their corners.
    for (std::size_t i = 1; i < cols.size(); ++i)
      while (std::abs(luminance(cols[i]) - luminance(cols[i - 1])) < c.min_contrast / 2)
        cols[i] = contrasting(g, bg, c.min_contrast, c.color);
    for (std::size_t i = 0; i < d.polygons.size(); ++i) fill_polygon(cv, d.polygons[i], cols[std::size_t(d.fill_index[i]) % 4]);
    for (const auto& s : d.strokes) draw_line(cv, s[0], s[1], d.stroke_width, cols[0]);
    pts.insert(pts.end(), d.points.begin(), d.points.end());
  }
  purdue_sample out;
  out.image = to_image(cv);
  out.points = geometry::to_tensor<float>(std::span<const point2>(pts));
  return out;
}

}  // namespace kpt::data
