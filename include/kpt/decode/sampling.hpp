#pragma once
// Bilinear sampling of a coarse descriptor map at keypoints, with the pixel -> map coordinate
// convention selectable (SPEC 1.6): the references disagree on where a pixel falls on the map.
//
//   auto d = sample_descriptors(map, kps.xy, {H, W}, sampling::magicleap);   // [N, D], unit rows
//
// A convention maps pixel coordinate x of an image `full` pixels wide to the continuous column u of
// a map `coarse` columns wide (the same function maps y to the row); column c of the map sits at
// u = c. Conventions (W = full, Wc = coarse; with W = 8 Wc):
//   magicleap        u = x Wc / W - 0.5        grid_sample(x / (W/2) - 1), align_corners=False
//                                              (PyTorch >= 1.3, how the ML demo runs today)
//   magicleap_torch04  u = x (Wc - 1) / W      the same call under PyTorch 0.4 (align_corners=True)
//   pixel_centre     u = (x + 0.5) Wc / W - 0.5  rpautrat's PyTorch port / SuperGlue
//   tf_resize        u = x Wc / W              rpautrat TF: resize_bilinear (no half pixel), then read
//   kp2d             u = x (Wc - 1) / (W - 1)  KP2D: grid_sample(x / ((W-1)/2) - 1), align_corners=True
// Taps outside the map count as 0 (grid_sample's zeros padding) except for tf_resize, which clamps
// to the edge as TF's resize does. The sampled vectors are L2-normalised (norm floored at 1e-12).
#include <algorithm>
#include <array>
#include <cmath>
#include <string>
#include <string_view>

#include "kpt/core/error.hpp"
#include "kpt/core/tensor.hpp"

namespace kpt::decode {

enum class sample_padding { zeros, border };

struct sampling_convention {
  std::string_view name;
  double (*u)(double x, index_t full, index_t coarse);  // pixel -> continuous map index
  sample_padding padding = sample_padding::zeros;
};

namespace sampling {
inline constexpr sampling_convention magicleap{
    "magicleap", [](double x, index_t full, index_t coarse) { return x * double(coarse) / double(full) - 0.5; }};
inline constexpr sampling_convention magicleap_torch04{
    "magicleap_torch04", [](double x, index_t full, index_t coarse) { return x * double(coarse - 1) / double(full); }};
inline constexpr sampling_convention pixel_centre{
    "pixel_centre", [](double x, index_t full, index_t coarse) { return (x + 0.5) * double(coarse) / double(full) - 0.5; }};
inline constexpr sampling_convention tf_resize{
    "tf_resize", [](double x, index_t full, index_t coarse) { return x * double(coarse) / double(full); },
    sample_padding::border};
inline constexpr sampling_convention kp2d{
    "kp2d", [](double x, index_t full, index_t coarse) { return full > 1 ? x * double(coarse - 1) / double(full - 1) : 0.0; }};

inline constexpr std::array<sampling_convention, 5> all = {magicleap, magicleap_torch04, pixel_centre, tf_resize, kp2d};

// The convention called `name` (value_error listing the names otherwise).
inline sampling_convention by_name(std::string_view name) {
  std::string names;
  for (const auto& c : all) {
    if (c.name == name) return c;
    names += (names.empty() ? "" : ", ") + std::string(c.name);
  }
  throw value_error("decode::sampling::by_name: unknown convention '" + std::string(name) + "'; use one of " + names);
}
}  // namespace sampling

// Bilinear sample of map [D, Hc, Wc] at pixel positions xy [N, 2] (x, y) of a full x full image:
// [N, D], each row L2-normalised when `normalize`.
template <Real T, HostBackend B>
tensor<T, B> sample_descriptors(const tensor<T, B>& map, const tensor<T, B>& xy, index_t full_height, index_t full_width,
                                const sampling_convention& conv, bool normalize = true) {
  require<shape_error>(map.defined() && map.rank() == 3, "decode::sample_descriptors: the map must be [D, Hc, Wc], got ",
                       map.defined() ? map.shape().str() : std::string("undefined"));
  require<shape_error>(xy.defined() && xy.rank() == 2 && xy.size(1) == 2,
                       "decode::sample_descriptors: positions must be [N, 2] (x, y), got ",
                       xy.defined() ? xy.shape().str() : std::string("undefined"));
  require<value_error>(full_height > 0 && full_width > 0, "decode::sample_descriptors: image size ", full_height, "x",
                       full_width, " must be positive");
  const index_t d = map.size(0), hc = map.size(1), wc = map.size(2), n = xy.size(0);
  auto out = tensor<T, B>::zeros({n, d});
  const T* m = map.data();
  // Taps along one axis: up to two (index, weight) pairs; a tap outside the map is dropped (zeros)
  // or moved to the edge (border).
  struct taps {
    index_t i[2];
    double w[2];
    int n = 0;
  };
  auto axis = [&](double u, index_t size) {
    taps t;
    const double f = std::floor(u);
    const index_t i0 = index_t(f);
    const double a = u - f;
    const index_t idx[2] = {i0, i0 + 1};
    const double wt[2] = {1 - a, a};
    for (int k = 0; k < 2; ++k) {
      index_t i = idx[k];
      if (i < 0 || i >= size) {
        if (conv.padding == sample_padding::zeros) continue;
        i = std::clamp<index_t>(i, 0, size - 1);
      }
      t.i[t.n] = i, t.w[t.n] = wt[k], ++t.n;
    }
    return t;
  };
  std::vector<double> acc(static_cast<std::size_t>(d));
  for (index_t k = 0; k < n; ++k) {
    const double x = double(xy.data()[2 * k]), y = double(xy.data()[2 * k + 1]);
    const taps tx = axis(conv.u(x, full_width, wc), wc), ty = axis(conv.u(y, full_height, hc), hc);
    std::fill(acc.begin(), acc.end(), 0.0);
    for (int a = 0; a < ty.n; ++a)
      for (int b = 0; b < tx.n; ++b) {
        const double w = ty.w[a] * tx.w[b];
        const T* p = m + ty.i[a] * wc + tx.i[b];
        for (index_t c = 0; c < d; ++c) acc[std::size_t(c)] += w * double(p[c * hc * wc]);
      }
    double norm = 1;
    if (normalize) {
      double ss = 0;
      for (double v : acc) ss += v * v;
      norm = std::max(std::sqrt(ss), 1e-12);
    }
    for (index_t c = 0; c < d; ++c) out.data()[k * d + c] = T(acc[std::size_t(c)] / norm);
  }
  return out;
}

}  // namespace kpt::decode
