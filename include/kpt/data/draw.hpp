#pragma once
// A small raster canvas and the drawing primitives the synthetic shapes need (filled circles,
// ellipses and polygons, thick lines), with OpenCV-like semantics: integer pixel centres, filled
// shapes include their outline, lines of thickness t > 1 are capsules of radius t / 2 (round caps).
// Values are floats in 0..255 (the references draw on uint8 images). Planar storage [C][H][W].
#include <algorithm>
#include <array>
#include <cmath>
#include <span>
#include <vector>

#include "kpt/core/shape.hpp"
#include "kpt/core/tensor.hpp"
#include "kpt/geometry/homography.hpp"

namespace kpt::data {

using geometry::point2;
using colour = std::array<float, 3>;  // only the first `channels` entries are used

struct canvas {
  index_t height = 0, width = 0;
  int channels = 1;
  std::vector<float> px;  // [channels][height][width]

  canvas() = default;
  canvas(index_t h, index_t w, int c = 1, float value = 0.f)
      : height(h), width(w), channels(c), px(std::size_t(h * w * c), value) {}

  float* plane(int c) { return px.data() + std::size_t(c) * std::size_t(height * width); }
  const float* plane(int c) const { return px.data() + std::size_t(c) * std::size_t(height * width); }
  float& at(int c, index_t y, index_t x) { return px[std::size_t((c * height + y) * width + x)]; }
  float at(int c, index_t y, index_t x) const { return px[std::size_t((c * height + y) * width + x)]; }
  void fill(const colour& v) {
    for (int c = 0; c < channels; ++c) std::fill_n(plane(c), height * width, v[std::size_t(c)]);
  }
  // Horizontal run [x0, x1] of row y, clipped.
  void span(index_t y, index_t x0, index_t x1, const colour& v) {
    if (y < 0 || y >= height) return;
    x0 = std::max<index_t>(x0, 0);
    x1 = std::min<index_t>(x1, width - 1);
    if (x1 < x0) return;
    for (int c = 0; c < channels; ++c) std::fill(plane(c) + y * width + x0, plane(c) + y * width + x1 + 1, v[std::size_t(c)]);
  }
  void set(index_t y, index_t x, const colour& v) {
    if (y < 0 || y >= height || x < 0 || x >= width) return;
    for (int c = 0; c < channels; ++c) at(c, y, x) = v[std::size_t(c)];
  }
  // Mean of channel c.
  double mean(int c = 0) const {
    double s = 0;
    const float* p = plane(c);
    for (index_t i = 0; i < height * width; ++i) s += p[i];
    return s / double(height * width);
  }
};

// ---- spans: every primitive is a set of horizontal runs ------------------------------------------
// f(y, x0, x1) is called for runs that may be unclipped and may overlap.

template <class F>
void line_pixels(point2 a, point2 b, F&& f) {
  const double dx = b.x() - a.x(), dy = b.y() - a.y();
  const index_t n = std::max<index_t>(1, index_t(std::ceil(std::max(std::abs(dx), std::abs(dy)))));
  for (index_t i = 0; i <= n; ++i) {
    const double t = double(i) / double(n);
    const index_t x = index_t(std::floor(a.x() + t * dx + 0.5)), y = index_t(std::floor(a.y() + t * dy + 0.5));
    f(y, x, x);
  }
}

// Pixels whose centres lie inside the polygon (even-odd rule), plus its 1-pixel outline.
template <class F>
void polygon_pixels(std::span<const point2> pts, index_t height, F&& f) {
  const std::size_t n = pts.size();
  if (n == 0) return;
  double ymin = pts[0].y(), ymax = pts[0].y();
  for (const auto& p : pts) {
    ymin = std::min(ymin, p.y());
    ymax = std::max(ymax, p.y());
  }
  const index_t y0 = std::max<index_t>(0, index_t(std::ceil(ymin))), y1 = std::min<index_t>(height - 1, index_t(std::floor(ymax)));
  std::vector<double> xs;
  for (index_t y = y0; y <= y1; ++y) {
    xs.clear();
    const double yc = double(y);
    for (std::size_t i = 0; i < n; ++i) {
      const point2& a = pts[i];
      const point2& b = pts[(i + 1) % n];
      if ((a.y() <= yc && yc < b.y()) || (b.y() <= yc && yc < a.y()))
        xs.push_back(a.x() + (yc - a.y()) * (b.x() - a.x()) / (b.y() - a.y()));
    }
    std::sort(xs.begin(), xs.end());
    for (std::size_t i = 0; i + 1 < xs.size(); i += 2) {
      const index_t xa = index_t(std::ceil(xs[i])), xb = index_t(std::floor(xs[i + 1]));
      if (xb >= xa) f(y, xa, xb);
    }
  }
  for (std::size_t i = 0; i < n; ++i) line_pixels(pts[i], pts[(i + 1) % n], f);
}

template <class F>
void circle_pixels(point2 c, double r, F&& f) {
  if (r < 0) return;
  for (index_t y = index_t(std::ceil(c.y() - r)); y <= index_t(std::floor(c.y() + r)); ++y) {
    const double d = double(y) - c.y(), h = std::sqrt(std::max(0.0, r * r - d * d));
    const index_t xa = index_t(std::ceil(c.x() - h)), xb = index_t(std::floor(c.x() + h));
    if (xb >= xa) f(y, xa, xb);
  }
}

// Ellipse with semi-axes (ax, ay) rotated by angle_deg (clockwise on screen, as cv::ellipse).
template <class F>
void ellipse_pixels(point2 c, double ax, double ay, double angle_deg, F&& f) {
  if (ax <= 0 || ay <= 0) {
    f(index_t(std::lround(c.y())), index_t(std::lround(c.x())), index_t(std::lround(c.x())));
    return;
  }
  const double t = angle_deg * 3.14159265358979323846 / 180.0, co = std::cos(t), si = std::sin(t);
  // u = x cos + y sin, v = -x sin + y cos;  u^2/ax^2 + v^2/ay^2 <= 1  <=>  A x^2 + B x y + C y^2 <= 1
  const double A = co * co / (ax * ax) + si * si / (ay * ay), B = 2 * co * si * (1 / (ax * ax) - 1 / (ay * ay)),
               C = si * si / (ax * ax) + co * co / (ay * ay);
  const double ext = std::sqrt(A / (A * C - B * B / 4));  // half height of the ellipse
  for (index_t y = index_t(std::ceil(c.y() - ext)); y <= index_t(std::floor(c.y() + ext)); ++y) {
    const double v = double(y) - c.y();
    const double disc = B * B * v * v - 4 * A * (C * v * v - 1);
    if (disc < 0) continue;
    const double s = std::sqrt(disc);
    const index_t xa = index_t(std::ceil(c.x() + (-B * v - s) / (2 * A))), xb = index_t(std::floor(c.x() + (-B * v + s) / (2 * A)));
    if (xb >= xa) f(y, xa, xb);
  }
}

// A segment of thickness t: 1-pixel line for t <= 1, else a capsule of radius t / 2.
template <class F>
void thick_line_pixels(point2 a, point2 b, double thickness, index_t height, F&& f) {
  if (thickness <= 1.0) {
    line_pixels(a, b, f);
    return;
  }
  const double r = thickness / 2;
  const point2 d = b - a;
  const double len = d.norm();
  if (len > 0) {
    const point2 n = point2(-d.y(), d.x()) * (r / len);
    const std::array<point2, 4> quad = {point2(a + n), point2(b + n), point2(b - n), point2(a - n)};
    polygon_pixels(quad, height, f);
  }
  circle_pixels(a, r, f);
  circle_pixels(b, r, f);
}

// ---- drawing -----------------------------------------------------------------------------------

inline void fill_polygon(canvas& cv, std::span<const point2> pts, const colour& v) {
  polygon_pixels(pts, cv.height, [&](index_t y, index_t x0, index_t x1) { cv.span(y, x0, x1, v); });
}
inline void fill_circle(canvas& cv, point2 c, double r, const colour& v) {
  circle_pixels(c, r, [&](index_t y, index_t x0, index_t x1) { cv.span(y, x0, x1, v); });
}
inline void fill_ellipse(canvas& cv, point2 c, double ax, double ay, double angle_deg, const colour& v) {
  ellipse_pixels(c, ax, ay, angle_deg, [&](index_t y, index_t x0, index_t x1) { cv.span(y, x0, x1, v); });
}
inline void draw_line(canvas& cv, point2 a, point2 b, double thickness, const colour& v) {
  thick_line_pixels(a, b, thickness, cv.height, [&](index_t y, index_t x0, index_t x1) { cv.span(y, x0, x1, v); });
}

// ---- canvas <-> tensors ------------------------------------------------------------------------

// The canvas as a float image [C, H, W] in [0, 1] (values rounded to 8 bits first when `quantize`).
template <HostBackend B = cpu_ref>
tensor<float, B> to_image(const canvas& cv, bool quantize = true) {
  auto t = tensor<float, B>::empty({cv.channels, cv.height, cv.width});
  for (std::size_t i = 0; i < cv.px.size(); ++i) {
    double v = std::clamp(double(cv.px[i]), 0.0, 255.0);
    if (quantize) v = std::floor(v + 0.5);
    t.data()[i] = float(v / 255.0);
  }
  return t;
}

// An image [C, H, W] (float in [0, 1]) as a canvas in 0..255.
template <HostBackend B>
canvas to_canvas(const tensor<float, B>& img) {
  require<shape_error>(img.defined() && img.rank() == 3, "data::to_canvas: expects an image [C, H, W], got ",
                       img.defined() ? img.shape().str() : std::string("undefined"));
  canvas cv(img.size(1), img.size(2), int(img.size(0)));
  for (std::size_t i = 0; i < cv.px.size(); ++i) cv.px[i] = img.data()[i] * 255.f;
  return cv;
}

namespace draw_detail {

template <HostBackend B>
void check_picture_input(const tensor<float, B>& img, const char* who) {
  require<shape_error>(img.defined() && img.rank() == 3 && (img.size(0) == 1 || img.size(0) == 3), who,
                       ": expects an image [1 or 3, H, W], got ", img.defined() ? img.shape().str() : std::string("undefined"));
}

// Copies img ([1 or 3, H, W] in [0, 1]) enlarged `scale` times (nearest) into the RGB canvas cv
// (0..255) with its left edge at column x0.
template <HostBackend B>
void blit(canvas& cv, const tensor<float, B>& img, int scale, index_t x0) {
  const index_t h = img.size(1), w = img.size(2), c = img.size(0);
  for (int k = 0; k < 3; ++k)
    for (index_t y = 0; y < h * scale; ++y)
      for (index_t x = 0; x < w * scale; ++x)
        cv.at(k, y, x0 + x) = 255.f * img.data()[((c == 3 ? k : 0) * h + y / scale) * w + x / scale];
}

// Where pixel centre p of an image lands in its enlarged copy at column x0.
inline point2 enlarged(point2 p, int scale, index_t x0 = 0) {
  return point2(p.x() * scale + (scale - 1) / 2.0 + double(x0), p.y() * scale + (scale - 1) / 2.0);
}

// A dot ringed with black, so that it shows on any colour.
inline void ringed_dot(canvas& cv, point2 c, double radius, const colour& dot) {
  fill_circle(cv, c, radius + 1, {0, 0, 0});
  fill_circle(cv, c, radius, dot);
}

template <HostBackend B>
tensor<std::uint8_t, B> to_bytes(const canvas& cv) {
  auto out = tensor<std::uint8_t, B>::empty({cv.channels, cv.height, cv.width});
  for (std::size_t i = 0; i < cv.px.size(); ++i)
    out.data()[i] = std::uint8_t(std::clamp(std::floor(double(cv.px[i]) + 0.5), 0.0, 255.0));
  return out;
}

}  // namespace draw_detail

// An RGB picture of an image with points marked, for people to look at: the image (gray or RGB,
// [C, H, W] in [0, 1]) enlarged `scale` times (nearest), each point (x, y) drawn as a filled dot
// of radius `radius` (in enlarged pixels) at the centre of its enlarged pixel, in `dot`, ringed
// with black so that it shows on any colour.
template <HostBackend B>
tensor<std::uint8_t, B> overlay_points(const tensor<float, B>& img, std::span<const point2> pts, int scale = 1,
                                       double radius = 1.5, colour dot = {255.f, 0.f, 0.f}) {
  draw_detail::check_picture_input(img, "data::overlay_points");
  require<value_error>(scale >= 1, "data::overlay_points: scale ", scale, " must be >= 1");
  canvas cv(img.size(1) * scale, img.size(2) * scale, 3);
  draw_detail::blit(cv, img, scale, 0);
  for (const auto& p : pts) fill_circle(cv, draw_detail::enlarged(p, scale), radius + 1, {0, 0, 0});
  for (const auto& p : pts) fill_circle(cv, draw_detail::enlarged(p, scale), radius, dot);
  return draw_detail::to_bytes<B>(cv);
}

// One correspondence to draw: point a of the left image, point b of the right one.
struct match_line {
  point2 a, b;
  colour c;
};

// An RGB picture of matches: image `left` and image `right` ([1 or 3, H, W] in [0, 1]; the lower
// one padded with black) side by side, both enlarged `scale` times, and for every line a segment of
// `thickness` from a to b in its colour with ringed dots at both ends. Lines are drawn in order,
// so the last ones are on top.
template <HostBackend B>
tensor<std::uint8_t, B> draw_matches(const tensor<float, B>& left, const tensor<float, B>& right,
                                     std::span<const match_line> lines, int scale = 1, double thickness = 1.0) {
  draw_detail::check_picture_input(left, "data::draw_matches (left image)");
  draw_detail::check_picture_input(right, "data::draw_matches (right image)");
  require<value_error>(scale >= 1, "data::draw_matches: scale ", scale, " must be >= 1");
  const index_t x0 = left.size(2) * scale;
  canvas cv(std::max(left.size(1), right.size(1)) * scale, x0 + right.size(2) * scale, 3);
  draw_detail::blit(cv, left, scale, 0);
  draw_detail::blit(cv, right, scale, x0);
  const double r = std::max(1.5, thickness + 0.5);
  for (const auto& l : lines) {
    const point2 a = draw_detail::enlarged(l.a, scale), b = draw_detail::enlarged(l.b, scale, x0);
    draw_line(cv, a, b, thickness, l.c);
    draw_detail::ringed_dot(cv, a, r, l.c);
    draw_detail::ringed_dot(cv, b, r, l.c);
  }
  return draw_detail::to_bytes<B>(cv);
}

}  // namespace kpt::data
