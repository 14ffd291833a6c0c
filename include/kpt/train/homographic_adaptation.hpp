#pragma once
// Homographic adaptation (SuperPoint paper eq. 10 / App. C; rpautrat `homography_adaptation`,
// SPEC 4.2): a detector's probability map averaged over random warps of the image, the
// pseudo-ground truth of SuperPoint's second stage.
//
//   auto net = [&](const tensor<float, cpu>& x) { return heatmap_of(x); };  // [1, 1, H, W] -> [H, W]
//   auto r = train::homographic_adaptation(image, net, {.num = 100, .seed = 7});
//   auto kps = decode::superpoint_keypoints(r.prob, {}, train::homographic_adaptation_decode());
//
// For the identity and for each of num - 1 homographies H (SPEC 4.1, H maps warped pixels to
// original ones):
//   warped = bilinear warp of the image by H            warped(p) = image(H p)
//   p      = net(warped) * mask                         mask: valid_mask(H), eroded (border 3)
//   proj   = bilinear warp of p by H^-1                 back in the original frame
//   count  = nearest warp of ones by H^-1, eroded        which original pixels the warp saw
//   proj  *= count                                      (as RP: nothing outside the eroded view)
// The identity term is the plain prediction with count 1 everywhere. Aggregation: mean =
// sum(proj) / sum(count) (RP's 'sum') or the maximum over the terms; filter_counts > 0 zeroes the
// pixels seen by fewer terms. Then NMS, threshold and top-k (homographic_adaptation_decode).
//
// Deterministic given the seed: the homographies are drawn up front from one generator, each
// term is a pure function of its homography, and the terms are accumulated in order, whatever
// the number of threads. The geometry of a batch of terms runs in parallel (oneTBB); the network
// is called from the calling thread only, one term at a time (it is usually parallel itself and
// need not be thread-safe).
#include <algorithm>
#include <concepts>
#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include <tbb/parallel_for.h>

#include "kpt/core/error.hpp"
#include "kpt/core/random.hpp"
#include "kpt/core/tensor.hpp"
#include "kpt/decode/superpoint.hpp"
#include "kpt/geometry/superpoint_homography.hpp"
#include "kpt/geometry/warp.hpp"

namespace kpt::train {

enum class ha_aggregation {
  mean,  // sum of the projected maps / sum of the counts (RP 'sum', the one used)
  max,   // maximum over the projected maps
};

struct homographic_adaptation_options {
  int num = 100;  // terms: the identity + num - 1 random homographies (RP export: 100)
  // RP's label-export settings (magic-point_coco_export.yaml over the HA defaults, SPEC 4.1 table).
  geometry::superpoint_homography_config homographies = geometry::superpoint_homography_config::ha_export();
  int valid_border_margin = 3;  // erosion radius of the masks and counts (0: none)
  ha_aggregation aggregation = ha_aggregation::mean;
  int filter_counts = 0;  // > 0: zero the pixels seen by fewer than this many terms
  std::uint64_t seed = 0;
  int batch = 8;  // terms whose geometry is computed together (memory ~ batch x 3 maps)
  // Called from the calling thread after each network call with (terms done, num): progress bars.
  std::function<void(int, int)> on_term{};
};

template <Real T, HostBackend B>
struct homographic_adaptation_result {
  tensor<T, B> prob;    // [H, W] the aggregated probability map
  tensor<T, B> counts;  // [H, W] how many terms saw each pixel (the identity counts 1 everywhere)
};

// RP's export decoding of the aggregated map: box NMS of side 4 (IoU 0.1), keep >= 0.015, the
// best top_k (EY: 600; <= 0 all), no border removal (the counts already handle the borders).
inline decode::superpoint_decode_options homographic_adaptation_decode(double threshold = 0.015, int nms_distance = 4,
                                                                       index_t top_k = 600) {
  decode::superpoint_decode_options o;
  o.threshold = threshold;
  o.nms = decode::nms_variant::box;
  o.nms_distance = nms_distance;
  o.box_iou = 0.1;
  o.border = 0;
  o.top_k = top_k;
  return o;
}

// The num - 1 random homographies of the options for an image of `size`, in the order used.
inline std::vector<geometry::homography> adaptation_homographies(const homographic_adaptation_options& o,
                                                                 geometry::image_size size) {
  require<value_error>(o.num >= 1, "homographic_adaptation: num ", o.num,
                       " must be >= 1 (the identity term plus num - 1 random homographies)");
  rng g(o.seed);
  std::vector<geometry::homography> hs;
  hs.reserve(std::size_t(o.num - 1));
  for (int i = 1; i < o.num; ++i) hs.push_back(geometry::sample_homography(o.homographies, size, g).H);
  return hs;
}

namespace ha_detail {

// An image given as [H, W], [1, H, W] or [1, 1, H, W] -> {H, W}.
template <Real T, HostBackend B>
geometry::image_size plane_size(const tensor<T, B>& t, const char* what) {
  require<shape_error>(t.defined() && t.rank() >= 2 && t.rank() <= 4 && t.numel() == t.size(-2) * t.size(-1),
                       "homographic_adaptation: ", what, " must be one plane [H, W], [1, H, W] or [1, 1, H, W], got ",
                       t.defined() ? t.shape().str() : std::string("undefined"));
  return {t.size(-2), t.size(-1)};
}

// One term in the original frame: the projected, masked map and its count.
template <Real T, HostBackend B>
struct term {
  tensor<T, B> warped;  // the network's input [1, 1, H, W]
  tensor<T, B> mask;    // valid pixels of the warped frame [H, W]
  tensor<T, B> count;   // valid pixels of the original frame [H, W]
  tensor<T, B> prob;    // the network's map, then its projection [H, W]
};

}  // namespace ha_detail

// The aggregated map of `image` (one gray plane: [H, W], [1, H, W] or [1, 1, H, W]) under the
// given homographies (warped -> original, as sample_homography's H), plus the identity term.
// `net` maps an image [1, 1, H, W] to its probability map with H x W values ([H, W] or any shape
// of that size).
template <Real T, HostBackend B, class Net>
  requires std::invocable<Net&, const tensor<T, B>&>
homographic_adaptation_result<T, B> homographic_adaptation(const tensor<T, B>& image, Net&& net,
                                                           std::span<const geometry::homography> homographies,
                                                           const homographic_adaptation_options& o) {
  using geometry::interpolation;
  const auto size = ha_detail::plane_size(image, "the image");
  require<value_error>(o.valid_border_margin >= 0, "homographic_adaptation: valid_border_margin ", o.valid_border_margin,
                       " must be >= 0");
  require<value_error>(o.filter_counts >= 0, "homographic_adaptation: filter_counts ", o.filter_counts, " must be >= 0");
  const index_t h = size.height, w = size.width, n = h * w;
  const auto plane = image.view_as({h, w});
  auto run_net = [&](const tensor<T, B>& x) -> tensor<T, B> {
    tensor<T, B> p = net(x);
    const auto ps = ha_detail::plane_size(p, "the network's probability map");
    require<shape_error>(ps == size, "homographic_adaptation: the network returned a ", ps.height, "x", ps.width,
                         " map for a ", h, "x", w, " image; it must return one probability per pixel");
    return p.view_as({h, w});
  };

  // The identity term: the plain prediction, seen everywhere once.
  auto first = run_net(plane.view_as({1, 1, h, w}));
  const int num = int(homographies.size()) + 1;
  if (o.on_term) o.on_term(1, num);
  std::vector<double> sum(first.data(), first.data() + n), best(sum), counts(std::size_t(n), 1.0);

  const std::size_t total = homographies.size(), batch = std::size_t(std::max(1, o.batch));
  std::vector<ha_detail::term<T, B>> terms(std::min(batch, total));
  for (std::size_t start = 0; start < total; start += batch) {
    const std::size_t m = std::min(batch, total - start);
    // The geometry of the batch in parallel: the warped image, its valid mask, the original
    // frame's count.
    tbb::parallel_for(std::size_t(0), m, [&](std::size_t k) {
      const auto& H = homographies[start + k];
      auto& t = terms[k];
      const auto H_inv = geometry::invert(H);
      t.warped = geometry::warp_image(plane, H, size, interpolation::bilinear).view_as({1, 1, h, w});
      t.mask = geometry::valid_mask<T, B>(size, H, o.valid_border_margin);
      t.count = geometry::valid_mask<T, B>(size, H_inv, o.valid_border_margin);
    });
    // The network, one term at a time, from this thread.
    for (std::size_t k = 0; k < m; ++k) {
      terms[k].prob = run_net(terms[k].warped);
      if (o.on_term) o.on_term(int(start + k) + 2, num);
    }
    // Mask, project back, cut to the count: again in parallel.
    tbb::parallel_for(std::size_t(0), m, [&](std::size_t k) {
      auto& t = terms[k];
      T* p = t.prob.data();
      const T* mk = t.mask.data();
      for (index_t i = 0; i < n; ++i) p[i] *= mk[i];
      t.prob = geometry::warp_image(t.prob, geometry::invert(homographies[start + k]), size, interpolation::bilinear);
      p = t.prob.data();
      const T* c = t.count.data();
      for (index_t i = 0; i < n; ++i) p[i] *= c[i];
    });
    // Accumulate in order (deterministic with any thread count).
    for (std::size_t k = 0; k < m; ++k) {
      const T* p = terms[k].prob.data();
      const T* c = terms[k].count.data();
      for (index_t i = 0; i < n; ++i) {
        sum[std::size_t(i)] += double(p[i]);
        best[std::size_t(i)] = std::max(best[std::size_t(i)], double(p[i]));
        counts[std::size_t(i)] += double(c[i]);
      }
    }
  }

  homographic_adaptation_result<T, B> r{tensor<T, B>::empty({h, w}), tensor<T, B>::empty({h, w})};
  for (index_t i = 0; i < n; ++i) {
    const std::size_t j = std::size_t(i);
    double v = o.aggregation == ha_aggregation::mean ? sum[j] / counts[j] : best[j];
    if (o.filter_counts > 0 && counts[j] < double(o.filter_counts)) v = 0;
    r.prob.data()[i] = T(v);
    r.counts.data()[i] = T(counts[j]);
  }
  return r;
}

// The same with o.num - 1 homographies drawn from o.seed and o.homographies (SPEC 4.1).
template <Real T, HostBackend B, class Net>
  requires std::invocable<Net&, const tensor<T, B>&>
homographic_adaptation_result<T, B> homographic_adaptation(const tensor<T, B>& image, Net&& net,
                                                           const homographic_adaptation_options& o = {}) {
  const auto hs = adaptation_homographies(o, ha_detail::plane_size(image, "the image"));
  return homographic_adaptation(image, net, std::span<const geometry::homography>(hs), o);
}

}  // namespace kpt::train
