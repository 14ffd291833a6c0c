#pragma once
// Image filters on float planes (row-major H x W), with OpenCV's default border: reflect-101
// (... 2 1 | 0 1 2 ... n-1 | n-2 n-3 ...). They behave like cv::blur, cv::GaussianBlur and
// cv::filter2D, which the reference data pipelines use (SPEC 3.1-3.5, 4.4).
//
//   box_blur(src, dst, h, w, k)              k x k mean, anchor k / 2 (cv::blur)
//   gaussian_kernel(k, sigma)                cv::getGaussianKernel (sigma <= 0: from k)
//   separable_filter(src, dst, h, w, kx, ky) rows with kx, then columns with ky
//   filter2d(src, dst, h, w, kernel, kh, kw) correlation with a kh x kw kernel (cv::filter2D)
//   gaussian_blur(img, k) / motion-blur etc. work on image tensors [C, H, W] plane by plane.
#include <algorithm>
#include <cmath>
#include <vector>

#include "kpt/core/error.hpp"
#include "kpt/core/shape.hpp"
#include "kpt/core/tensor.hpp"

namespace kpt::data {

// Index i folded into [0, n) by reflect-101 (repeatedly, for kernels larger than the image).
inline index_t reflect101(index_t i, index_t n) {
  if (n == 1) return 0;
  while (i < 0 || i >= n) {
    if (i < 0) i = -i;
    if (i >= n) i = 2 * n - 2 - i;
  }
  return i;
}

// k x k box mean (k >= 1), anchor at k / 2 as cv::blur. Running sums: O(1) per pixel whatever k.
// dst may be src (in place). round_result: results rounded to integers (cv::blur on uint8 images;
// values must be >= 0).
inline void box_blur(const float* src, float* dst, index_t h, index_t w, int kx, int ky, bool round_result = false) {
  require<value_error>(kx >= 1 && ky >= 1, "data::box_blur: kernel ", kx, "x", ky, " must be >= 1");
  thread_local std::vector<float> tmp;  // reused: large canvases would page-fault on every call
  tmp.resize(static_cast<std::size_t>(h * w));
  // Horizontal: a running sum along the reflected row (copied once into a padded buffer).
  const index_t ax = kx / 2;
  std::vector<index_t> xmap(static_cast<std::size_t>(w + kx - 1));
  for (index_t i = 0; i < w + kx - 1; ++i) xmap[std::size_t(i)] = reflect101(i - ax, w);
  std::vector<float> padded(xmap.size());
  const float inv_kx = 1.f / float(kx);
  for (index_t y = 0; y < h; ++y) {
    const float* row = src + y * w;
    for (std::size_t i = 0; i < xmap.size(); ++i) padded[i] = row[xmap[i]];
    double s = 0;
    for (index_t i = 0; i < kx; ++i) s += padded[std::size_t(i)];
    float* out = tmp.data() + y * w;
    for (index_t x = 0; x < w; ++x) {
      out[x] = float(s) * inv_kx;
      if (x + 1 < w) s += double(padded[std::size_t(x + kx)]) - double(padded[std::size_t(x)]);
    }
  }
  // Vertical: running column sums, row by row (cache friendly).
  const index_t ay = ky / 2;
  std::vector<double> col(static_cast<std::size_t>(w), 0.0);
  for (index_t i = 0; i < ky; ++i) {
    const float* r = tmp.data() + reflect101(i - ay, h) * w;
    for (index_t x = 0; x < w; ++x) col[std::size_t(x)] += r[x];
  }
  for (index_t y = 0; y < h; ++y) {
    float* out = dst + y * w;
    if (round_result)
      for (index_t x = 0; x < w; ++x) out[x] = float(int(col[std::size_t(x)] / ky + 0.5));
    else
      for (index_t x = 0; x < w; ++x) out[x] = float(col[std::size_t(x)] / ky);
    if (y + 1 == h) break;
    const float* add = tmp.data() + reflect101(y + 1 + ky - 1 - ay, h) * w;
    const float* sub = tmp.data() + reflect101(y - ay, h) * w;
    for (index_t x = 0; x < w; ++x) col[std::size_t(x)] += double(add[x]) - double(sub[x]);
  }
}

// cv::getGaussianKernel(k, sigma): sigma <= 0 means 0.3 ((k - 1) / 2 - 1) + 0.8, and then the
// fixed binomial tables for k = 1, 3, 5, 7 (as OpenCV).
inline std::vector<double> gaussian_kernel(int k, double sigma = 0) {
  require<value_error>(k >= 1 && k % 2 == 1, "data::gaussian_kernel: size ", k, " must be odd and >= 1");
  if (sigma <= 0) {
    switch (k) {
      case 1: return {1.0};
      case 3: return {0.25, 0.5, 0.25};
      case 5: return {1 / 16.0, 4 / 16.0, 6 / 16.0, 4 / 16.0, 1 / 16.0};
      case 7: return {1 / 64.0, 6 / 64.0, 15 / 64.0, 20 / 64.0, 15 / 64.0, 6 / 64.0, 1 / 64.0};
      default: sigma = 0.3 * ((k - 1) * 0.5 - 1) + 0.8;
    }
  }
  std::vector<double> g(static_cast<std::size_t>(k));
  double s = 0;
  for (int i = 0; i < k; ++i) {
    const double d = i - (k - 1) / 2.0;
    g[std::size_t(i)] = std::exp(-d * d / (2 * sigma * sigma));
    s += g[std::size_t(i)];
  }
  for (auto& v : g) v /= s;
  return g;
}

// Rows filtered with kx, then columns with ky (centred kernels of odd size). Each row is copied
// once into a reflect-padded buffer, and the column pass combines whole rows, so both inner
// loops are plain multiply-adds over contiguous memory.
inline void separable_filter(const float* src, float* dst, index_t h, index_t w, const std::vector<double>& kx,
                             const std::vector<double>& ky) {
  const index_t rx = index_t(kx.size()) / 2, ry = index_t(ky.size()) / 2;
  std::vector<float> tmp(static_cast<std::size_t>(h * w));
  std::vector<float> padded(static_cast<std::size_t>(w + 2 * rx));
  std::vector<float> fx(kx.begin(), kx.end()), fy(ky.begin(), ky.end());
  for (index_t y = 0; y < h; ++y) {
    for (index_t i = 0; i < w + 2 * rx; ++i) padded[std::size_t(i)] = src[y * w + reflect101(i - rx, w)];
    float* __restrict out = tmp.data() + y * w;
    const float* __restrict in = padded.data();
    for (index_t x = 0; x < w; ++x) {
      float acc = 0;
      for (std::size_t i = 0; i < fx.size(); ++i) acc += fx[i] * in[std::size_t(x) + i];
      out[x] = acc;
    }
  }
  std::vector<float> acc(static_cast<std::size_t>(w));
  for (index_t y = 0; y < h; ++y) {
    std::fill(acc.begin(), acc.end(), 0.f);
    for (index_t i = 0; i < index_t(fy.size()); ++i) {
      const float* __restrict row = tmp.data() + reflect101(y + i - ry, h) * w;
      float* __restrict a = acc.data();
      const float k = fy[std::size_t(i)];
      for (index_t x = 0; x < w; ++x) a[x] += k * row[x];
    }
    std::copy(acc.begin(), acc.end(), dst + y * w);
  }
}

// Correlation with a kh x kw kernel (row-major), anchor at the centre (cv::filter2D).
inline void filter2d(const float* src, float* dst, index_t h, index_t w, const std::vector<double>& kernel, int kh,
                     int kw) {
  require<value_error>(int(kernel.size()) == kh * kw, "data::filter2d: kernel has ", kernel.size(),
                       " values for ", kh, "x", kw);
  const index_t ay = kh / 2, ax = kw / 2;
  for (index_t y = 0; y < h; ++y)
    for (index_t x = 0; x < w; ++x) {
      double s = 0;
      for (int i = 0; i < kh; ++i) {
        const index_t yy = reflect101(y + i - ay, h);
        for (int j = 0; j < kw; ++j) {
          const double k = kernel[std::size_t(i * kw + j)];
          if (k != 0.0) s += k * src[yy * w + reflect101(x + j - ax, w)];
        }
      }
      dst[y * w + x] = float(s);
    }
}

// Gaussian blur of every plane of an image tensor [..., H, W] (float), kernel k (odd), sigma as
// gaussian_kernel. k = 1 is the identity.
template <HostBackend B>
tensor<float, B> gaussian_blur(const tensor<float, B>& img, int k, double sigma = 0) {
  require<shape_error>(img.defined() && img.rank() >= 2, "data::gaussian_blur: expects an image [..., H, W], got ",
                       img.defined() ? img.shape().str() : std::string("undefined"));
  const auto g = gaussian_kernel(k, sigma);
  const index_t h = img.size(-2), w = img.size(-1), planes = img.numel() / std::max<index_t>(h * w, 1);
  auto out = tensor<float, B>::empty(img.shape());
  for (index_t p = 0; p < planes; ++p) separable_filter(img.data() + p * h * w, out.data() + p * h * w, h, w, g, g);
  return out;
}

}  // namespace kpt::data
