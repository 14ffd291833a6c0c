#pragma once
// SuperPoint / MagicPoint outputs -> keypoints (SPEC 1.4-1.6).
//
//   kpt::no_grad ng;
//   auto out = model(x);                                         // semi [N, 65, Hc, Wc], desc
//   auto kps = decode::decode_superpoint(out.semi, out.desc);    // one keypoints per image
//
// Steps, in magicleap's order: channel softmax over the 65 logits -> drop the dustbin (last
// channel) -> depth-to-space, heat[8h + i, 8w + j] = prob[8i + j, h, w] -> keep heat >= threshold
// -> NMS -> sort by score -> drop points within `border` pixels of the edge -> top-k -> sample
// descriptors. Maxpool NMS runs on the dense heatmap (as SuperGlue), before the threshold; the
// result is the same as thresholding first.
// Defaults are magicleap's demo: softmax with +1e-5 and no max-subtraction, conf 0.015, grid NMS
// radius 4, border 4, no top-k, the magicleap sampling convention.
#include <cmath>
#include <cstdint>
#include <vector>

#include "kpt/autograd/grad_mode.hpp"
#include "kpt/core/error.hpp"
#include "kpt/core/tensor.hpp"
#include "kpt/decode/keypoints.hpp"
#include "kpt/decode/nms.hpp"
#include "kpt/decode/sampling.hpp"

namespace kpt::decode {

enum class softmax_variant {
  magicleap,  // exp(s) / (sum exp(s) + 1e-5), no max-subtraction (ML demo)
  exact,      // the usual softmax (rpautrat, SuperGlue)
};

enum class nms_variant { none, grid, box, maxpool };

struct superpoint_decode_options {
  softmax_variant softmax = softmax_variant::magicleap;
  double threshold = 0.015;  // keep heat >= threshold (ML conf_thresh)
  nms_variant nms = nms_variant::grid;
  // grid: Chebyshev radius (ML nms_dist); box: the box side (rpautrat `nms`); maxpool: the radius.
  int nms_distance = 4;
  double box_iou = 0.1;  // box NMS only
  int border = 4;        // drop x < border, x >= W - border (same for y); 0: keep all
  index_t top_k = 0;     // <= 0: all
  sampling_convention sampling = sampling::magicleap;
};

// semi [N, C*C + 1, Hc, Wc] (or one image [C*C + 1, Hc, Wc]) -> heatmaps [N, C Hc, C Wc]
// (or [C Hc, C Wc]); C = 8 for SuperPoint.
template <Real T, HostBackend B>
tensor<T, B> superpoint_heatmap(const tensor<T, B>& semi, softmax_variant variant = softmax_variant::magicleap) {
  require<shape_error>(semi.defined() && (semi.rank() == 4 || semi.rank() == 3),
                       "decode::superpoint_heatmap: semi must be [N, 65, Hc, Wc] or [65, Hc, Wc], got ",
                       semi.defined() ? semi.shape().str() : std::string("undefined"));
  const bool batched = semi.rank() == 4;
  const index_t n = batched ? semi.size(0) : 1, ch = semi.size(-3), hc = semi.size(-2), wc = semi.size(-1);
  const index_t cell = index_t(std::lround(std::sqrt(double(ch - 1))));
  require<shape_error>(ch >= 2 && cell * cell + 1 == ch, "decode::superpoint_heatmap: ", ch,
                       " channels is not cell*cell + 1 (65 for 8x8 cells plus the dustbin), in ", semi.shape().str());
  const index_t h = hc * cell, w = wc * cell, plane = hc * wc;
  auto heat = batched ? tensor<T, B>::empty({n, h, w}) : tensor<T, B>::empty({h, w});
  std::vector<double> e(static_cast<std::size_t>(ch));
  for (index_t b = 0; b < n; ++b) {
    const T* s = semi.data() + b * ch * plane;
    T* o = heat.data() + b * h * w;
    for (index_t y = 0; y < hc; ++y)
      for (index_t x = 0; x < wc; ++x) {
        double top = 0, sum = 0;
        if (variant == softmax_variant::exact) {
          top = -INFINITY;
          for (index_t c = 0; c < ch; ++c) top = std::max(top, double(s[c * plane + y * wc + x]));
        }
        for (index_t c = 0; c < ch; ++c) sum += e[std::size_t(c)] = std::exp(double(s[c * plane + y * wc + x]) - top);
        if (variant == softmax_variant::magicleap) sum += 1e-5;
        for (index_t c = 0; c + 1 < ch; ++c) {  // the last channel (dustbin) is dropped
          const index_t i = c / cell, j = c % cell;
          o[(cell * y + i) * w + cell * x + j] = T(e[std::size_t(c)] / sum);
        }
      }
  }
  return heat;
}

// One heatmap [H, W] (and optionally its coarse descriptor map [D, Hc, Wc]) -> keypoints.
template <Real T, HostBackend B>
keypoints<T, B> superpoint_keypoints(const tensor<T, B>& heat, const tensor<T, B>& desc = {},
                                     const superpoint_decode_options& o = {}) {
  require<shape_error>(heat.defined() && heat.rank() == 2, "decode::superpoint_keypoints: the heatmap must be [H, W], got ",
                       heat.defined() ? heat.shape().str() : std::string("undefined"));
  require<value_error>(o.border >= 0 && o.nms_distance >= 0, "decode::superpoint_keypoints: border ", o.border,
                       " and nms_distance ", o.nms_distance, " must be >= 0");
  const index_t h = heat.size(0), w = heat.size(1);
  const T* p = heat.data();
  // Compared in T, as numpy compares a float32 map with a Python float (0.015f keeps 0.015f).
  const T thr = T(o.threshold);
  std::vector<candidate> c;
  if (o.nms == nms_variant::maxpool) {
    const auto keep = nms_maxpool(std::span<const T>(p, std::size_t(h * w)), h, w, o.nms_distance);
    for (index_t i = 0; i < h * w; ++i)
      if (keep[std::size_t(i)] && p[i] >= thr) c.push_back({double(i % w), double(i / w), double(p[i]), i});
  } else {
    for (index_t i = 0; i < h * w; ++i)
      if (p[i] >= thr) c.push_back({double(i % w), double(i / w), double(p[i]), i});
    if (o.nms == nms_variant::grid) c = nms_grid(c, h, w, o.nms_distance);
    else if (o.nms == nms_variant::box) c = nms_box(c, double(o.nms_distance), o.box_iou);
  }
  const double b = o.border;
  std::erase_if(c, [&](const candidate& k) { return k.x < b || k.y < b || k.x >= double(w) - b || k.y >= double(h) - b; });
  keep_top_k(c, o.top_k);
  auto kps = to_keypoints<T, B>(c);
  if (desc.defined()) {
    require<shape_error>(desc.rank() == 3, "decode::superpoint_keypoints: descriptors must be [D, Hc, Wc], got ",
                         desc.shape().str());
    kps.desc = sample_descriptors(desc, kps.xy, h, w, o.sampling);
  }
  return kps;
}

// A batch of network outputs -> one keypoints per image. desc [N, D, Hc, Wc] may be undefined
// (MagicPoint): the keypoints then carry no descriptors.
template <Real T, HostBackend B>
std::vector<keypoints<T, B>> decode_superpoint(const tensor<T, B>& semi, const tensor<T, B>& desc = {},
                                               const superpoint_decode_options& o = {}) {
  no_grad guard;
  require<shape_error>(semi.defined() && semi.rank() == 4, "decode::decode_superpoint: semi must be [N, 65, Hc, Wc], got ",
                       semi.defined() ? semi.shape().str() : std::string("undefined"));
  if (desc.defined())
    require<shape_error>(desc.rank() == 4 && desc.size(0) == semi.size(0) && desc.size(2) == semi.size(2) &&
                             desc.size(3) == semi.size(3),
                         "decode::decode_superpoint: descriptors ", desc.shape().str(), " do not match semi ",
                         semi.shape().str(), " (expected [N, D, Hc, Wc])");
  const auto heat = superpoint_heatmap(semi, o.softmax);
  std::vector<keypoints<T, B>> out;
  for (index_t b = 0; b < semi.size(0); ++b) {
    const auto hb = detail::batch_item(heat, b, 3, "decode::decode_superpoint", "heatmap");
    const auto db = desc.defined() ? detail::batch_item(desc, b, 4, "decode::decode_superpoint", "descriptor map") : tensor<T, B>{};
    out.push_back(superpoint_keypoints(hb, db, o));
  }
  return out;
}

}  // namespace kpt::decode
