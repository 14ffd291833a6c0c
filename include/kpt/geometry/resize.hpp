#pragma once
// Image resizing, and the matching homography adjustment (adjust_for_resize in homography.hpp).
//
//   auto small = resize(img, {240, 320});                          // bilinear (cv2 INTER_LINEAR)
//   auto thumb = resize(img, {120, 160}, resize_mode::area);       // box average (cv2 INTER_AREA)
//   H2 = adjust_for_resize(H, size1, {240, 320}, sizek, {240, 320}); // H between the resized images
//
// Both modes place pixel centres as OpenCV does: output pixel x samples the input at
// (x + 0.5) * W_in / W_out - 0.5 (bilinear, clamped to the border) or averages the input over
// [x, x + 1) * W_in / W_out (area, exact box integration; when enlarging this is close to nearest).
// Images are tensors [..., H, W]; every leading index is one plane.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "kpt/core/error.hpp"
#include "kpt/core/tensor.hpp"
#include "kpt/geometry/homography.hpp"
#include "kpt/geometry/warp.hpp"

namespace kpt::geometry {

enum class resize_mode { bilinear, area };

namespace resize_detail {

struct tap {
  index_t src;
  double weight;
};
// Taps of every output index along one axis.
inline std::vector<std::vector<tap>> axis_taps(index_t in, index_t out, resize_mode mode) {
  std::vector<std::vector<tap>> taps(static_cast<std::size_t>(out));
  const double scale = double(in) / double(out);
  for (index_t o = 0; o < out; ++o) {
    auto& t = taps[std::size_t(o)];
    if (mode == resize_mode::bilinear) {
      double f = (double(o) + 0.5) * scale - 0.5;
      f = std::clamp(f, 0.0, double(in - 1));
      const index_t i0 = index_t(std::floor(f));
      const index_t i1 = std::min(i0 + 1, in - 1);
      const double a = f - double(i0);
      t.push_back({i0, 1 - a});
      if (a > 0 && i1 != i0) t.push_back({i1, a});
    } else {
      const double lo = double(o) * scale, hi = double(o + 1) * scale;
      for (index_t i = index_t(std::floor(lo)); i < index_t(std::ceil(hi)) && i < in; ++i) {
        const double w = std::min(hi, double(i + 1)) - std::max(lo, double(i));
        if (w > 1e-12) t.push_back({i, w / scale});
      }
    }
  }
  return taps;
}

}  // namespace resize_detail

template <Pixel T, HostBackend B>
tensor<T, B> resize(const tensor<T, B>& img, image_size out, resize_mode mode = resize_mode::bilinear) {
  warp_detail::check_image(img.shape(), "geometry::resize");
  require<value_error>(out.height > 0 && out.width > 0, "geometry::resize: output size ", out.height, "x",
                       out.width, " must be positive");
  const int r = img.rank();
  const index_t h = img.size(r - 2), w = img.size(r - 1);
  kpt::shape os = img.shape();
  os[r - 2] = out.height;
  os[r - 1] = out.width;
  auto res = tensor<T, B>::empty(os);
  const auto tx = resize_detail::axis_taps(w, out.width, mode), ty = resize_detail::axis_taps(h, out.height, mode);
  const index_t planes = img.numel() / (h * w);
  std::vector<double> rows(std::size_t(h * out.width));  // horizontally resized plane
  for (index_t pl = 0; pl < planes; ++pl) {
    const T* src = img.data() + pl * h * w;
    T* dst = res.data() + pl * out.height * out.width;
    for (index_t y = 0; y < h; ++y)
      for (index_t x = 0; x < out.width; ++x) {
        double v = 0;
        for (const auto& t : tx[std::size_t(x)]) v += t.weight * double(src[y * w + t.src]);
        rows[std::size_t(y * out.width + x)] = v;
      }
    for (index_t y = 0; y < out.height; ++y)
      for (index_t x = 0; x < out.width; ++x) {
        double v = 0;
        for (const auto& t : ty[std::size_t(y)]) v += t.weight * rows[std::size_t(t.src * out.width + x)];
        dst[y * out.width + x] = warp_detail::to_pixel<T>(v);
      }
  }
  return res;
}

}  // namespace kpt::geometry
