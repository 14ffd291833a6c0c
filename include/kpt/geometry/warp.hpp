#pragma once
// Warping points and images with a homography; valid masks with erosion.
//
//   auto q = warp_points(points, H);                      // [N, 2] -> [N, 2]: q_i = H(p_i)
//   auto m = in_view(q, {h, w});                          // [N] uint8: 1 where q_i is inside
//   auto kept = select_points(q, m);                      // the rows of q where m is 1
//   auto out = warp_image(img, H);                        // out(p) = img(H p), bilinear, 0 outside
//   auto valid = valid_mask({h, w}, H, {h, w}, 2);        // [h, w] 1/0, eroded by an ellipse of radius 2
//
// Images are tensors whose last two axes are (H, W) ([H, W], [C, H, W] or [N, C, H, W]); every
// leading index is one plane warped the same way. The homography given to warp_image and
// valid_mask maps OUTPUT pixels to INPUT pixels (see homography.hpp); warp_points maps points
// forward. So to move the points of an image into its warp by H, use warp_points(points, invert(H)).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <optional>
#include <span>
#include <type_traits>
#include <vector>

#include "kpt/core/error.hpp"
#include "kpt/core/tensor.hpp"
#include "kpt/geometry/homography.hpp"

namespace kpt::geometry {

// ---- points -----------------------------------------------------------------------------------

inline std::vector<point2> warp_points(std::span<const point2> pts, const homography& H) {
  std::vector<point2> out(pts.size());
  for (std::size_t i = 0; i < pts.size(); ++i) out[i] = apply(H, pts[i]);
  return out;
}

template <Real T, HostBackend B>
tensor<T, B> warp_points(const tensor<T, B>& pts, const homography& H) {
  require<shape_error>(pts.defined() && pts.rank() == 2 && pts.size(1) == 2,
                       "geometry::warp_points: points must have shape [N, 2] (x, y), got ",
                       pts.defined() ? pts.shape().str() : std::string("undefined"));
  auto out = tensor<T, B>::empty(pts.shape());
  const T* p = pts.data();
  T* o = out.data();
  for (index_t i = 0; i < pts.size(0); ++i) {
    const point2 q = apply(H, point2(double(p[2 * i]), double(p[2 * i + 1])));
    o[2 * i] = T(q.x());
    o[2 * i + 1] = T(q.y());
  }
  return out;
}

// Which points count as inside an image of size (H, W):
//  - closed:    0 <= x <= W - 1 and 0 <= y <= H - 1 (RP filter_points, KP2D matching score)
//  - half_open: 0 <= x < W and 0 <= y < H            (KP2D repeatability, SPEC 7.3)
enum class view_bounds { closed, half_open };

inline bool is_in_view(const point2& p, image_size s, view_bounds b = view_bounds::closed, double margin = 0) {
  const double x = p.x(), y = p.y();
  if (b == view_bounds::closed)
    return x >= margin && y >= margin && x <= double(s.width - 1) - margin && y <= double(s.height - 1) - margin;
  return x >= margin && y >= margin && x < double(s.width) - margin && y < double(s.height) - margin;
}

// 1 for points inside the image (shrunk by `margin` pixels on every side), 0 otherwise.
template <Real T, HostBackend B>
tensor<std::uint8_t, B> in_view(const tensor<T, B>& pts, image_size s, view_bounds b = view_bounds::closed,
                                double margin = 0) {
  require<shape_error>(pts.defined() && pts.rank() == 2 && pts.size(1) == 2,
                       "geometry::in_view: points must have shape [N, 2] (x, y), got ",
                       pts.defined() ? pts.shape().str() : std::string("undefined"));
  auto m = tensor<std::uint8_t, B>::empty({pts.size(0)});
  const T* p = pts.data();
  for (index_t i = 0; i < pts.size(0); ++i)
    m.data()[i] = is_in_view(point2(double(p[2 * i]), double(p[2 * i + 1])), s, b, margin);
  return m;
}

// The rows of pts ([N, 2]) whose mask entry is non-zero, in order.
template <Real T, HostBackend B>
tensor<T, B> select_points(const tensor<T, B>& pts, const tensor<std::uint8_t, B>& mask) {
  require<shape_error>(pts.defined() && pts.rank() == 2 && pts.size(1) == 2 && mask.defined() && mask.rank() == 1 &&
                           mask.size(0) == pts.size(0),
                       "geometry::select_points: needs points [N, 2] and a mask [N], got ",
                       pts.defined() ? pts.shape().str() : std::string("undefined"), " and ",
                       mask.defined() ? mask.shape().str() : std::string("undefined"));
  index_t n = 0;
  for (auto v : mask.values()) n += v != 0;
  auto out = tensor<T, B>::empty({n, 2});
  index_t j = 0;
  for (index_t i = 0; i < pts.size(0); ++i)
    if (mask.data()[i]) {
      out.data()[2 * j] = pts.data()[2 * i];
      out.data()[2 * j + 1] = pts.data()[2 * i + 1];
      ++j;
    }
  return out;
}

// ---- images -------------------------------------------------------------------------------------

enum class interpolation { bilinear, nearest };

template <class T>
concept Pixel = Real<T> || std::same_as<T, std::uint8_t>;

namespace warp_detail {

inline void check_image(const kpt::shape& s, const char* op) {
  require<shape_error>(s.rank() >= 2 && s[s.rank() - 1] > 0 && s[s.rank() - 2] > 0, op,
                       ": images must have shape [..., H, W] with H, W > 0, got ", s.str());
}

template <class T>
T to_pixel(double v) {
  if constexpr (std::is_same_v<T, std::uint8_t>) return T(std::clamp(std::floor(v + 0.5), 0.0, 255.0));
  else return T(v);
}

}  // namespace warp_detail

// out(p) = img(H p) for every output pixel p; bilinear (or nearest) sampling; every neighbour
// outside the input reads 0 (as grid_sample's zeros padding and tf.contrib.image.transform).
template <Pixel T, HostBackend B>
tensor<T, B> warp_image(const tensor<T, B>& img, const homography& H, std::optional<image_size> out_size = {},
                        interpolation mode = interpolation::bilinear) {
  warp_detail::check_image(img.shape(), "geometry::warp_image");
  require<numeric_error>(H.allFinite(), "geometry::warp_image: the homography has NaN or Inf entries");
  const int r = img.rank();
  const index_t h = img.size(r - 2), w = img.size(r - 1);
  const image_size o = out_size.value_or(image_size{h, w});
  require<value_error>(o.height > 0 && o.width > 0, "geometry::warp_image: output size ", o.height, "x", o.width,
                       " must be positive");
  kpt::shape os = img.shape();
  os[r - 2] = o.height;
  os[r - 1] = o.width;
  auto out = tensor<T, B>::empty(os);
  const index_t planes = img.numel() / (h * w);
  // Source coordinates of every output pixel, shared by all planes.
  std::vector<double> sx(std::size_t(o.height * o.width)), sy(sx.size());
  for (index_t y = 0; y < o.height; ++y)
    for (index_t x = 0; x < o.width; ++x) {
      const Eigen::Vector3d q = H * Eigen::Vector3d(double(x), double(y), 1.0);
      const std::size_t i = std::size_t(y * o.width + x);
      if (q.z() == 0.0) {
        sx[i] = sy[i] = -1e9;
      } else {
        sx[i] = q.x() / q.z();
        sy[i] = q.y() / q.z();
      }
    }
  for (index_t pl = 0; pl < planes; ++pl) {
    const T* src = img.data() + pl * h * w;
    T* dst = out.data() + pl * o.height * o.width;
    auto at = [&](index_t yy, index_t xx) -> double {
      return (xx < 0 || yy < 0 || xx >= w || yy >= h) ? 0.0 : double(src[yy * w + xx]);
    };
    for (std::size_t i = 0; i < sx.size(); ++i) {
      const double fx = sx[i], fy = sy[i];
      if (!(fx > -2.0 && fy > -2.0 && fx < double(w) + 1.0 && fy < double(h) + 1.0)) {
        dst[i] = T(0);
        continue;
      }
      if (mode == interpolation::nearest) {
        dst[i] = T(at(index_t(std::floor(fy + 0.5)), index_t(std::floor(fx + 0.5))));
        continue;
      }
      const double x0 = std::floor(fx), y0 = std::floor(fy), ax = fx - x0, ay = fy - y0;
      const index_t xi = index_t(x0), yi = index_t(y0);
      const double v = (1 - ay) * ((1 - ax) * at(yi, xi) + ax * at(yi, xi + 1)) +
                       ay * ((1 - ax) * at(yi + 1, xi) + ax * at(yi + 1, xi + 1));
      dst[i] = warp_detail::to_pixel<T>(v);
    }
  }
  return out;
}

// ---- masks --------------------------------------------------------------------------------------

// The structuring element of OpenCV getStructuringElement(MORPH_ELLIPSE, (2r, 2r)) as row offsets
// and column ranges relative to its anchor (r, r): {dy, dx_lo, dx_hi}.
struct se_row {
  int dy, dx_lo, dx_hi;
};
inline std::vector<se_row> ellipse_element(int radius) {
  std::vector<se_row> rows;
  if (radius <= 0) return rows;
  const int size = 2 * radius, c = radius;
  const double rr = double(radius) * radius;
  for (int i = 0; i < size; ++i) {
    const int dy = i - c;
    if (std::abs(dy) > radius) continue;
    const int dx = int(std::lround(double(c) * std::sqrt(std::max(0.0, (rr - double(dy) * dy) / rr))));
    const int j1 = std::max(c - dx, 0), j2 = std::min(c + dx + 1, size);
    if (j2 > j1) rows.push_back({dy, j1 - c, j2 - 1 - c});
  }
  return rows;
}

// Binary erosion of an [H, W] 0/1 mask (values != 0 are set) by the ellipse element of radius r.
// Pixels outside the image do not erode (as tf.nn.erosion2d's padding): only unset pixels inside
// the image shrink the mask.
inline std::vector<std::uint8_t> erode(const std::vector<std::uint8_t>& mask, image_size s, int radius) {
  if (radius <= 0) return mask;
  const auto se = ellipse_element(radius);
  const index_t h = s.height, w = s.width;
  // zeros[y][x + 1] = number of unset pixels in row y before column x + 1.
  std::vector<index_t> zeros(std::size_t(h * (w + 1)), 0);
  for (index_t y = 0; y < h; ++y)
    for (index_t x = 0; x < w; ++x)
      zeros[std::size_t(y * (w + 1) + x + 1)] = zeros[std::size_t(y * (w + 1) + x)] + (mask[std::size_t(y * w + x)] == 0);
  std::vector<std::uint8_t> out(mask.size(), 0);
  for (index_t y = 0; y < h; ++y)
    for (index_t x = 0; x < w; ++x) {
      if (!mask[std::size_t(y * w + x)]) continue;
      bool keep = true;
      for (const auto& row : se) {
        const index_t yy = y + row.dy;
        if (yy < 0 || yy >= h) continue;
        const index_t a = std::max<index_t>(0, x + row.dx_lo), b = std::min<index_t>(w - 1, x + row.dx_hi);
        if (b < a) continue;
        if (zeros[std::size_t(yy * (w + 1) + b + 1)] - zeros[std::size_t(yy * (w + 1) + a)] > 0) {
          keep = false;
          break;
        }
      }
      out[std::size_t(y * w + x)] = keep;
    }
  return out;
}

// Which output pixels see the input image through H (output -> input), as RP
// compute_valid_mask: nearest warp of an all-ones image, then erosion by `erosion_radius`
// (valid_border_margin: 2 for shapes, 3 for COCO). [out.height, out.width] of 0/1.
template <Pixel T = float, HostBackend B = cpu_ref>
tensor<T, B> valid_mask(image_size input, const homography& H, image_size output, int erosion_radius = 0) {
  require<value_error>(input.height > 0 && input.width > 0 && output.height > 0 && output.width > 0,
                       "geometry::valid_mask: sizes must be positive");
  require<value_error>(erosion_radius >= 0, "geometry::valid_mask: erosion_radius ", erosion_radius, " must be >= 0");
  std::vector<std::uint8_t> m(std::size_t(output.height * output.width));
  for (index_t y = 0; y < output.height; ++y)
    for (index_t x = 0; x < output.width; ++x) {
      const point2 q = apply(H, point2(double(x), double(y)));
      const double xr = std::floor(q.x() + 0.5), yr = std::floor(q.y() + 0.5);
      m[std::size_t(y * output.width + x)] =
          xr >= 0 && yr >= 0 && xr <= double(input.width - 1) && yr <= double(input.height - 1);
    }
  m = erode(m, output, erosion_radius);
  auto out = tensor<T, B>::empty({output.height, output.width});
  for (std::size_t i = 0; i < m.size(); ++i) out.data()[i] = T(m[i]);
  return out;
}
template <Pixel T = float, HostBackend B = cpu_ref>
tensor<T, B> valid_mask(image_size size, const homography& H, int erosion_radius = 0) {
  return valid_mask<T, B>(size, H, size, erosion_radius);
}

}  // namespace kpt::geometry
