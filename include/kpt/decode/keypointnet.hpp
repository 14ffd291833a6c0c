#pragma once
// KeyPointNet outputs -> keypoints (SPEC 5.1, 7.2): one keypoint per cell, no NMS.
//
//   kpt::no_grad ng;
//   model.eval();
//   auto out = model(model.normalize_input(rgb));                 // score, coord, per-cell desc
//   auto kps = decode::decode_keypointnet(out.score, out.coord, out.desc);
//
// The eval forward already regresses the positions (cell centre + offset, clamped), masks the
// border cells and samples unit descriptors at each position. Decoding keeps the cells whose score
// is above `threshold` (KP2D: > 0, which drops the zeroed border cells) and the top-k by score.
// For raw maps (training-mode outputs, or a network of your own) the pieces are here too:
// keypointnet_coordinates (tanh offsets -> pixels), keypointnet_border_mask, and
// keypointnet_descriptors (dense map -> per-cell unit descriptors, align_corners = true).
#include <algorithm>
#include <vector>

#include "kpt/autograd/grad_mode.hpp"
#include "kpt/core/error.hpp"
#include "kpt/core/tensor.hpp"
#include "kpt/decode/keypoints.hpp"
#include "kpt/decode/sampling.hpp"

namespace kpt::decode {

struct keypointnet_decode_options {
  double threshold = 0.0;  // keep score > threshold (strict, KP2D's conf_threshold)
  index_t top_k = 0;       // <= 0: all
};

// Tanh offsets [N, 2, Hc, Wc] (ox, oy in (-1, 1)) -> pixel positions [N, 2, Hc, Wc]:
// x = cell j + (cell - 1)/2 + cross_ratio (cell - 1)/2 ox, clamped to [0, W - 1] (y likewise), with
// W = cell Wc. KP2D: cell 8, cross_ratio 2 (do_cross) -> x = 8j + 3.5 + 7 ox.
template <Real T, HostBackend B>
tensor<T, B> keypointnet_coordinates(const tensor<T, B>& offsets, double cross_ratio, index_t cell = 8) {
  require<shape_error>(offsets.defined() && offsets.rank() == 4 && offsets.size(1) == 2,
                       "decode::keypointnet_coordinates: offsets must be [N, 2, Hc, Wc], got ",
                       offsets.defined() ? offsets.shape().str() : std::string("undefined"));
  require<value_error>(cell > 0, "decode::keypointnet_coordinates: cell ", cell, " must be > 0");
  const index_t n = offsets.size(0), hc = offsets.size(2), wc = offsets.size(3), plane = hc * wc;
  const double step = double(cell - 1) / 2.0, lim[2] = {double(cell * wc - 1), double(cell * hc - 1)};
  auto out = tensor<T, B>::empty(offsets.shape());
  for (index_t b = 0; b < n; ++b)
    for (index_t a = 0; a < 2; ++a)  // a = 0: x (column j), a = 1: y (row i)
      for (index_t i = 0; i < hc; ++i)
        for (index_t j = 0; j < wc; ++j) {
          const index_t at = (b * 2 + a) * plane + i * wc + j;
          const double centre = double(cell * (a == 0 ? j : i)) + step;
          out.data()[at] = T(std::clamp(centre + cross_ratio * step * double(offsets.data()[at]), 0.0, lim[a]));
        }
  return out;
}

// [Hc, Wc]: 0 on the first and last cell row and column, 1 elsewhere (KP2D's score mask).
template <Real T = float, HostBackend B = cpu_ref>
tensor<T, B> keypointnet_border_mask(index_t hc, index_t wc) {
  auto m = tensor<T, B>::empty({hc, wc});
  for (index_t i = 0; i < hc; ++i)
    for (index_t j = 0; j < wc; ++j) m.data()[i * wc + j] = T(i == 0 || j == 0 || i == hc - 1 || j == wc - 1 ? 0 : 1);
  return m;
}

// Dense descriptors [N, D, Hd, Wd] sampled at coord [N, 2, Hc, Wc] (pixels of an H x W image) with
// KP2D's align_corners = true convention, L2-normalised: [N, D, Hc, Wc] (what the eval forward returns).
template <Real T, HostBackend B>
tensor<T, B> keypointnet_descriptors(const tensor<T, B>& dense, const tensor<T, B>& coord, index_t height, index_t width) {
  no_grad guard;
  require<shape_error>(dense.defined() && dense.rank() == 4 && coord.defined() && coord.rank() == 4 &&
                           coord.size(1) == 2 && dense.size(0) == coord.size(0),
                       "decode::keypointnet_descriptors: expects dense [N, D, Hd, Wd] and coord [N, 2, Hc, Wc], got ",
                       dense.defined() ? dense.shape().str() : std::string("undefined"), " and ",
                       coord.defined() ? coord.shape().str() : std::string("undefined"));
  const index_t n = dense.size(0), d = dense.size(1), hc = coord.size(2), wc = coord.size(3), m = hc * wc;
  auto out = tensor<T, B>::empty({n, d, hc, wc});
  for (index_t b = 0; b < n; ++b) {
    auto xy = tensor<T, B>::empty({m, 2});
    const T* c = coord.data() + b * 2 * m;
    for (index_t k = 0; k < m; ++k) xy.data()[2 * k] = c[k], xy.data()[2 * k + 1] = c[m + k];
    const auto map = detail::batch_item(dense, b, 4, "decode::keypointnet_descriptors", "dense descriptor map");
    const auto s = sample_descriptors(map, xy, height, width, sampling::kp2d);  // [m, d]
    for (index_t k = 0; k < m; ++k)
      for (index_t ch = 0; ch < d; ++ch) out.data()[(b * d + ch) * m + k] = s.data()[k * d + ch];
  }
  return out;
}

// Eval-mode outputs score [N, 1, Hc, Wc], coord [N, 2, Hc, Wc], desc [N, D, Hc, Wc] (per-cell; may
// be undefined) -> one keypoints per image: the cells with score > threshold, top-k by score,
// sorted by score (ties in row-major cell order).
template <Real T, HostBackend B>
std::vector<keypoints<T, B>> decode_keypointnet(const tensor<T, B>& score, const tensor<T, B>& coord,
                                                const tensor<T, B>& desc = {},
                                                const keypointnet_decode_options& o = {}) {
  no_grad guard;
  require<shape_error>(score.defined() && score.rank() == 4 && score.size(1) == 1,
                       "decode::decode_keypointnet: score must be [N, 1, Hc, Wc], got ",
                       score.defined() ? score.shape().str() : std::string("undefined"));
  const index_t n = score.size(0), hc = score.size(2), wc = score.size(3), m = hc * wc;
  require<shape_error>(coord.defined() && coord.shape() == kpt::shape({n, 2, hc, wc}), "decode::decode_keypointnet: coord ",
                       coord.defined() ? coord.shape().str() : std::string("undefined"), " does not match score ",
                       score.shape().str(), " (expected [N, 2, Hc, Wc])");
  if (desc.defined())
    require<shape_error>(desc.rank() == 4 && desc.size(0) == n && desc.size(2) == hc && desc.size(3) == wc,
                         "decode::decode_keypointnet: descriptors ", desc.shape().str(), " are not one per cell of ",
                         score.shape().str(),
                         " (expected the eval-mode [N, D, Hc, Wc]; sample a dense map with keypointnet_descriptors)");
  const T thr = T(o.threshold);
  std::vector<keypoints<T, B>> out;
  for (index_t b = 0; b < n; ++b) {
    const T* s = score.data() + b * m;
    const T* c = coord.data() + b * 2 * m;
    std::vector<candidate> cand;
    for (index_t k = 0; k < m; ++k)
      if (s[k] > thr) cand.push_back({double(c[k]), double(c[m + k]), double(s[k]), k});
    keep_top_k(cand, o.top_k);
    auto kps = to_keypoints<T, B>(cand);
    if (desc.defined()) {
      const index_t d = desc.size(1);
      kps.desc = tensor<T, B>::empty({index_t(cand.size()), d});
      const T* p = desc.data() + b * d * m;
      for (std::size_t r = 0; r < cand.size(); ++r)
        for (index_t ch = 0; ch < d; ++ch) kps.desc.data()[index_t(r) * d + ch] = p[ch * m + cand[r].source];
    }
    out.push_back(std::move(kps));
  }
  return out;
}

}  // namespace kpt::decode
