#pragma once
// Photometric and spatial augmentation, seeded (every draw comes from the kpt::rng passed in).
//
// SuperPoint (SPEC 3.5, RP `photometric_augmentation.py`):
//   auto out = photometric_augment(img, photometric_config::magicpoint_synthetic(), g);
// KP2D (SPEC 4.4, `non_spatial_augmentation` + `ha_augment_sample` + `spatial_augment_sample`):
//   auto pair = kp2d_pair_decisions(cfg, g);           // channel order and gray, shared by the pair
//   auto t = kp2d_photometric(target, cfg, pair, g1);  // then each image independently
//   auto s = kp2d_photometric(source, cfg, pair, g2);
//   auto sp = kp2d_spatial_augment(img, kp2d_spatial_config{}, g);   // flips + random affine
//
// Images are float tensors [C, H, W] in [0, 1]. The SuperPoint parameters are given, as in RP's
// configs, in 0..255 units (brightness 75 means +-75/255) and applied to the [0, 1] image.
#include <algorithm>
#include <array>
#include <cmath>
#include <numbers>
#include <vector>

#include "kpt/core/error.hpp"
#include "kpt/core/random.hpp"
#include "kpt/core/tensor.hpp"
#include "kpt/data/draw.hpp"
#include "kpt/data/filter.hpp"
#include "kpt/data/sample_rng.hpp"
#include "kpt/geometry/homography.hpp"
#include "kpt/geometry/warp.hpp"

namespace kpt::data {

// ---- SuperPoint photometric augmentation ----------------------------------------------------------

struct photometric_config {
  bool random_order = true;  // the six steps in a random order per image (RP random_order)
  bool brightness = true;
  double brightness_max_abs_change = 75;  // add U(-m, m) (0..255 units), clip
  bool contrast = true;
  std::array<double, 2> contrast_range = {0.3, 1.8};  // (x - mean) * U(lo, hi) + mean, clip
  bool gaussian_noise = true;
  std::array<double, 2> noise_stddev_range = {0, 15};  // sigma ~ U(lo, hi) (0..255 units), clip
  bool speckle_noise = true;
  std::array<double, 2> speckle_prob_range = {0, 0.0035};  // p ~ U: u <= p -> 0, u >= 1 - p -> 255
  bool shade = true;
  int shade_ellipses = 20;
  std::array<double, 2> shade_transparency_range = {-0.5, 0.8};
  std::array<int, 2> shade_kernel_range = {50, 100};  // randint(lo, hi), made odd
  bool motion_blur = true;
  int motion_blur_max_kernel = 7;  // ksize in {1, 3, ..., <= max}

  // magic-point_shapes.yaml (the defaults above)
  static photometric_config magicpoint_synthetic() { return {}; }
  // magic-point_coco_train.yaml: brightness 50, contrast [0.3, 1.5], noise [0, 10], shade
  // [-0.5, 0.5] / [100, 150], motion blur 3
  static photometric_config magicpoint_coco() {
    photometric_config c;
    c.brightness_max_abs_change = 50;
    c.contrast_range = {0.3, 1.5};
    c.noise_stddev_range = {0, 10};
    c.shade_transparency_range = {-0.5, 0.5};
    c.shade_kernel_range = {100, 150};
    c.motion_blur_max_kernel = 3;
    return c;
  }
  // superpoint_coco.yaml: as MagicPoint on COCO with contrast [0.5, 1.5]
  static photometric_config superpoint_coco() {
    photometric_config c = magicpoint_coco();
    c.contrast_range = {0.5, 1.5};
    return c;
  }
};

namespace augment_detail {

inline void check_image(const kpt::shape& s, const char* op) {
  require<shape_error>(s.rank() == 3 && s[1] > 0 && s[2] > 0, op, ": expects an image [C, H, W], got ", s.str());
}
inline void clip01(std::vector<float>& v) {
  for (auto& x : v) x = std::clamp(x, 0.f, 1.f);
}

inline void brightness(std::vector<float>& v, double max_change, rng& g) {
  const float d = float(g.uniform(-max_change, max_change) / 255.0);
  for (auto& x : v) x += d;
  clip01(v);
}
inline void contrast(std::vector<float>& v, index_t planes, std::array<double, 2> range, rng& g) {
  const double f = g.uniform(range[0], range[1]);
  const std::size_t n = v.size() / std::size_t(planes);
  for (index_t p = 0; p < planes; ++p) {
    float* x = v.data() + std::size_t(p) * n;
    double mean = 0;
    for (std::size_t i = 0; i < n; ++i) mean += x[i];
    mean /= double(n);
    for (std::size_t i = 0; i < n; ++i) x[i] = float((x[i] - mean) * f + mean);
  }
  clip01(v);
}
inline void gaussian_noise(std::vector<float>& v, std::array<double, 2> range, rng& g) {
  const double sigma = g.uniform(range[0], range[1]) / 255.0;
  for (auto& x : v) x += float(g.normal(0, sigma));
  clip01(v);
}
inline void speckle(std::vector<float>& v, std::array<double, 2> range, rng& g) {
  const double p = g.uniform(range[0], range[1]);
  for (auto& x : v) {
    const double u = g.uniform();
    if (u <= p) x = 0.f;
    else if (u >= 1 - p) x = 1.f;
  }
}
inline void shade(std::vector<float>& v, index_t planes, index_t h, index_t w, const photometric_config& c, rng& g) {
  canvas mask(h, w, 1, 0.f);
  const double min_dim = double(std::min(h, w)) / 4;
  for (int i = 0; i < c.shade_ellipses; ++i) {
    const double ax = std::trunc(std::max(g.uniform() * min_dim, min_dim / 5));
    const double ay = std::trunc(std::max(g.uniform() * min_dim, min_dim / 5));
    const double max_rad = std::max(ax, ay);
    const double x = double(randint_f(g, max_rad, double(w) - max_rad)), y = double(randint_f(g, max_rad, double(h) - max_rad));
    fill_ellipse(mask, {x, y}, ax, ay, g.uniform() * 90, {255.f, 255.f, 255.f});
  }
  const double t = g.uniform(c.shade_transparency_range[0], c.shade_transparency_range[1]);
  int k = int(randint(g, c.shade_kernel_range[0], c.shade_kernel_range[1]));
  if (k % 2 == 0) ++k;
  std::vector<float> blurred(mask.px.size());
  const auto gk = gaussian_kernel(std::max(k, 1));
  separable_filter(mask.plane(0), blurred.data(), h, w, gk, gk);
  const std::size_t n = std::size_t(h * w);
  for (index_t p = 0; p < planes; ++p)
    for (std::size_t i = 0; i < n; ++i) v[std::size_t(p) * n + i] *= float(1 - t * blurred[i] / 255.0);
  clip01(v);
}
inline void motion_blur(std::vector<float>& v, index_t planes, index_t h, index_t w, int max_kernel, rng& g) {
  const int mode = int(g.below(4));  // h, v, diag_down, diag_up
  const int ksize = int(randint(g, 0, (max_kernel + 1) / 2)) * 2 + 1;
  if (ksize == 1) return;  // a 1x1 normalised kernel is the identity
  const int c = (ksize - 1) / 2;
  std::vector<double> k(std::size_t(ksize * ksize), 0.0);
  for (int i = 0; i < ksize; ++i) {
    const int r = mode == 0 ? c : i;
    const int col = mode == 1 ? c : mode == 3 ? ksize - 1 - i : i;
    k[std::size_t(r * ksize + col)] = 1;
  }
  const double var = ksize * ksize / 16.0;
  double s = 0;
  for (int i = 0; i < ksize; ++i)
    for (int j = 0; j < ksize; ++j) {
      auto& e = k[std::size_t(i * ksize + j)];
      e *= std::exp(-((i - c) * (i - c) + (j - c) * (j - c)) / (2 * var));
      s += e;
    }
  for (auto& e : k) e /= s;
  std::vector<float> out(v.size());
  const std::size_t n = std::size_t(h * w);
  for (index_t p = 0; p < planes; ++p) filter2d(v.data() + std::size_t(p) * n, out.data() + std::size_t(p) * n, h, w, k, ksize, ksize);
  v.swap(out);
  clip01(v);
}

}  // namespace augment_detail

// The SuperPoint photometric augmentation of one image [C, H, W] in [0, 1].
template <HostBackend B>
tensor<float, B> photometric_augment(const tensor<float, B>& img, const photometric_config& c, rng& g) {
  using namespace augment_detail;
  check_image(img.shape(), "data::photometric_augment");
  const index_t planes = img.size(0), h = img.size(1), w = img.size(2);
  std::vector<float> v(img.data(), img.data() + img.numel());
  std::array<int, 6> order = {0, 1, 2, 3, 4, 5};  // RP config order
  if (c.random_order)
    for (int i = 5; i > 0; --i) std::swap(order[std::size_t(i)], order[std::size_t(g.below(std::uint64_t(i + 1)))]);
  for (int step : order) {
    switch (step) {
      case 0: if (c.brightness) brightness(v, c.brightness_max_abs_change, g); break;
      case 1: if (c.contrast) contrast(v, planes, c.contrast_range, g); break;
      case 2: if (c.speckle_noise) speckle(v, c.speckle_prob_range, g); break;
      case 3: if (c.gaussian_noise) gaussian_noise(v, c.noise_stddev_range, g); break;
      case 4: if (c.shade) shade(v, planes, h, w, c, g); break;
      case 5: if (c.motion_blur) motion_blur(v, planes, h, w, c.motion_blur_max_kernel, g); break;
    }
  }
  return tensor<float, B>::from(img.shape(), std::span<const float>(v));
}

// ---- KP2D photometric augmentation ------------------------------------------------------------------

struct kp2d_photometric_config {
  double p_channel_shuffle = 0.5;  // pair: with this probability the channel order is a random permutation
  double p_gray = 0.5;             // pair: RGB -> gray -> RGB
  double p_noise = 0.5;            // per image: additive Gaussian noise
  double noise_stddev = 0.05;      // in [0, 1] units (0.05 * 255 = 12.75)
  std::vector<int> blur_kernels = {0, 1, 3, 5};  // per image, uniform; 0 and 1 mean no blur (sigma auto)
  bool quantize = true;  // the reference round-trips through uint8 (x * 255 truncated)
  // ColorJitter. The released code builds it with zero parameters, so it does nothing
  // (SPEC 4.4 quirk): off by default; on, it applies the paper's jitter with these factors.
  bool color_jitter = false;
  double brightness = 0.5, contrast = 0.5, saturation = 0.2, hue = 0.05;
};

struct kp2d_pair_decision {
  std::array<int, 3> channel_order = {0, 1, 2};
  bool gray = false;
};

inline kp2d_pair_decision kp2d_pair_decisions(const kp2d_photometric_config& c, rng& g) {
  kp2d_pair_decision d;
  if (g.uniform() < c.p_channel_shuffle)
    for (int i = 2; i > 0; --i) std::swap(d.channel_order[std::size_t(i)], d.channel_order[std::size_t(g.below(std::uint64_t(i + 1)))]);
  d.gray = g.uniform() < c.p_gray;
  return d;
}

namespace augment_detail {

inline void rgb_to_hsv(float r, float g, float b, float& h, float& s, float& v) {
  const float mx = std::max({r, g, b}), mn = std::min({r, g, b}), d = mx - mn;
  v = mx;
  s = mx > 0 ? d / mx : 0;
  if (d <= 0) {
    h = 0;
    return;
  }
  if (mx == r) h = std::fmod((g - b) / d + 6.f, 6.f);
  else if (mx == g) h = (b - r) / d + 2;
  else h = (r - g) / d + 4;
  h /= 6;
}
inline void hsv_to_rgb(float h, float s, float v, float& r, float& g, float& b) {
  const float hh = (h - std::floor(h)) * 6;
  const int i = int(hh) % 6;
  const float f = hh - std::floor(hh), p = v * (1 - s), q = v * (1 - s * f), t = v * (1 - s * (1 - f));
  switch (i) {
    case 0: r = v, g = t, b = p; break;
    case 1: r = q, g = v, b = p; break;
    case 2: r = p, g = v, b = t; break;
    case 3: r = p, g = q, b = v; break;
    case 4: r = t, g = p, b = v; break;
    default: r = v, g = p, b = q; break;
  }
}

// torchvision ColorJitter on a 3-channel image in [0, 1]: the four adjustments in a random order.
inline void color_jitter(std::vector<float>& v, index_t n, const kp2d_photometric_config& c, rng& g) {
  std::array<int, 4> order = {0, 1, 2, 3};
  for (int i = 3; i > 0; --i) std::swap(order[std::size_t(i)], order[std::size_t(g.below(std::uint64_t(i + 1)))]);
  const double fb = g.uniform(std::max(0.0, 1 - c.brightness), 1 + c.brightness);
  const double fc = g.uniform(std::max(0.0, 1 - c.contrast), 1 + c.contrast);
  const double fs = g.uniform(std::max(0.0, 1 - c.saturation), 1 + c.saturation);
  const double fh = g.uniform(-c.hue, c.hue);
  float *R = v.data(), *G = v.data() + n, *Bc = v.data() + 2 * n;
  auto gray = [&](index_t i) { return 0.299f * R[i] + 0.587f * G[i] + 0.114f * Bc[i]; };
  for (int step : order) {
    if (step == 0) {
      for (auto& x : v) x = std::clamp(float(x * fb), 0.f, 1.f);
    } else if (step == 1) {
      double m = 0;
      for (index_t i = 0; i < n; ++i) m += gray(i);
      m /= double(n);
      for (auto& x : v) x = std::clamp(float(fc * x + (1 - fc) * m), 0.f, 1.f);
    } else if (step == 2) {
      for (index_t i = 0; i < n; ++i) {
        const float y = gray(i);
        for (float* ch : {R, G, Bc}) ch[i] = std::clamp(float(fs * ch[i] + (1 - fs) * y), 0.f, 1.f);
      }
    } else {
      for (index_t i = 0; i < n; ++i) {
        float h, s, val;
        rgb_to_hsv(R[i], G[i], Bc[i], h, s, val);
        hsv_to_rgb(h + float(fh), s, val, R[i], G[i], Bc[i]);
      }
    }
  }
}

}  // namespace augment_detail

// KP2D's non-spatial augmentation of one image [3, H, W] (or [1, H, W]) in [0, 1].
template <HostBackend B>
tensor<float, B> kp2d_photometric(const tensor<float, B>& img, const kp2d_photometric_config& c,
                                  const kp2d_pair_decision& pair, rng& g) {
  using namespace augment_detail;
  check_image(img.shape(), "data::kp2d_photometric");
  const index_t planes = img.size(0), h = img.size(1), w = img.size(2), n = h * w;
  require<shape_error>(planes == 1 || planes == 3, "data::kp2d_photometric: expects 1 or 3 channels, got ",
                       img.shape().str());
  auto q = [&](float x) { return c.quantize ? std::floor(std::clamp(x, 0.f, 1.f) * 255.f) / 255.f : std::clamp(x, 0.f, 1.f); };
  std::vector<float> v(std::size_t(img.numel()));
  for (index_t p = 0; p < planes; ++p) {
    const index_t src = planes == 3 ? pair.channel_order[std::size_t(p)] : 0;
    for (index_t i = 0; i < n; ++i) v[std::size_t(p * n + i)] = q(img.data()[src * n + i]);
  }
  if (g.uniform() < c.p_noise) {
    for (auto& x : v) x = q(x + float(g.normal(0, c.noise_stddev)));
  }
  require<value_error>(!c.blur_kernels.empty(), "data::kp2d_photometric: blur_kernels is empty");
  const int k = c.blur_kernels[std::size_t(g.below(c.blur_kernels.size()))];
  if (k > 1) {
    const auto gk = gaussian_kernel(k);
    std::vector<float> out(v.size());
    for (index_t p = 0; p < planes; ++p) separable_filter(v.data() + p * n, out.data() + p * n, h, w, gk, gk);
    for (std::size_t i = 0; i < v.size(); ++i) v[i] = c.quantize ? std::floor(out[i] * 255.f + 0.5f) / 255.f : out[i];
  }
  if (pair.gray && planes == 3) {
    for (index_t i = 0; i < n; ++i) {
      float y = 0.299f * v[std::size_t(i)] + 0.587f * v[std::size_t(n + i)] + 0.114f * v[std::size_t(2 * n + i)];
      if (c.quantize) y = std::floor(y * 255.f + 0.5f) / 255.f;
      v[std::size_t(i)] = v[std::size_t(n + i)] = v[std::size_t(2 * n + i)] = y;
    }
  }
  if (c.color_jitter && planes == 3) {
    color_jitter(v, n, c, g);
    if (c.quantize)
      for (auto& x : v) x = std::floor(x * 255.f + 0.5f) / 255.f;
  }
  return tensor<float, B>::from(img.shape(), std::span<const float>(v));
}

// ---- KP2D spatial augmentation -----------------------------------------------------------------------

struct kp2d_spatial_config {
  double p_vflip = 0.5, p_hflip = 0.5;
  double max_degrees = 15;                    // RandomAffine rotation U(-d, d), counter-clockwise
  double max_translate = 0.1;                 // of the width / height, rounded to whole pixels
  std::array<double, 2> scale_range = {0.9, 1.1};
};

struct spatial_result {
  tensor<float, cpu_ref> image;
  geometry::homography H;  // maps input pixels to output pixels
};

// Flips, then a random affine about the image centre (nearest, black outside), as torchvision's
// RandomVerticalFlip, RandomHorizontalFlip, RandomAffine. Returns the image and the pixel map.
template <HostBackend B>
spatial_result kp2d_spatial_augment(const tensor<float, B>& img, const kp2d_spatial_config& c, rng& g) {
  augment_detail::check_image(img.shape(), "data::kp2d_spatial_augment");
  const double W = double(img.size(2)), H = double(img.size(1));
  geometry::homography M = geometry::homography::Identity();
  if (g.uniform() < c.p_vflip) M = geometry::homography(geometry::translation(0, H - 1) * geometry::scaling(1, -1)) * M;
  if (g.uniform() < c.p_hflip) M = geometry::homography(geometry::translation(W - 1, 0) * geometry::scaling(-1, 1)) * M;
  const double angle = g.uniform(-c.max_degrees, c.max_degrees) * std::numbers::pi / 180;
  const double tx = std::round(g.uniform(-c.max_translate * W, c.max_translate * W));
  const double ty = std::round(g.uniform(-c.max_translate * H, c.max_translate * H));
  const double s = g.uniform(c.scale_range[0], c.scale_range[1]);
  geometry::homography A = geometry::homography::Identity();
  // Counter-clockwise on screen (y down): x' = cos x + sin y, y' = -sin x + cos y.
  A(0, 0) = s * std::cos(angle);
  A(0, 1) = s * std::sin(angle);
  A(1, 0) = -s * std::sin(angle);
  A(1, 1) = s * std::cos(angle);
  const double cx = (W - 1) / 2, cy = (H - 1) / 2;
  M = geometry::homography(geometry::translation(cx + tx, cy + ty) * A * geometry::translation(-cx, -cy)) * M;
  spatial_result r;
  r.H = M;
  auto in = img.template to<cpu_ref>();
  r.image = geometry::warp_image(in, geometry::invert(M), std::nullopt, geometry::interpolation::nearest);
  return r;
}

}  // namespace kpt::data
