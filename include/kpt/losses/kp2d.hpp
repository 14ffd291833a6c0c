#pragma once
// KP2D (KeyPointNet + IO-Net) training losses, following SPEC 6.1-6.6b (KP
// `KeypointNetwithIOLoss.forward`) exactly, built from kpt ops.
//
// Inputs: the train-mode outputs of KeyPointNet on the source (augmented, `image_aug`) and the
// target (`image`) images: score [B, 1, Hc, Wc], coord [B, 2, Hc, Wc] in pixels (x, y), dense
// descriptors [B, D, Hd, Wd]; and per image the homography H mapping NORMALISED source coords to
// normalised target coords (to_norm(x) = x / ((W-1)/2) - 1, W = cell * Wc).
//
//   q_s = to_norm(p_s);  q_w = dehom(H hom(q_s)) (differentiable);  p_w = to_pix(q_w)
//   border_i = interior cell AND |q_w,i| < 1 (both coords, strict)
//   d_i = min_j ||p_w,i - p_t,j|| (gradient through the chosen distance to both sides)
//   valid_i = d_i < assoc_threshold AND border_i
//   L_loc  = mean_valid d                                                        (6.2)
//   L_desc = sum_b triplet_b / B (nested hardest negative, coords detached)      (6.3)
//   L_usp  = mean_valid (s_t[j*] + s_s) (d - mean_valid d)                        (6.4)
//   L_mse  = mean_border (bilinear(s_t, detached q_w) - s_s)^2                    (6.4)
//   L_io   = MSE(IO-Net(...), +-1) if the batch has more than io_min_inliers inliers  (6.6)
//   total  = 1 L_loc + 2 L_desc + 1 L_usp + 2 L_mse + 1 L_io (weights configurable; 6.5)
// A mean over an empty set (no valid / border cell) is 0 here (torch would give NaN).
//
//   kp2d_loss(source, target, homographies, options = {}, ionet = no_ionet{}) -> kp2d_loss_terms
// `ionet` is any callable [B, 5, P, 1] -> [B, 1, P, 1] (e.g. models::ionet); without one L_io = 0.
// Selections (association, masks, negatives, top-k) are made on the host from the values; the
// loss terms are kpt ops, so gradients follow SPEC 6.6b (coords detached in L_desc and L_mse).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "kpt/autograd/grad_mode.hpp"
#include "kpt/geometry/homography.hpp"
#include "kpt/ops/binary.hpp"
#include "kpt/ops/distance.hpp"
#include "kpt/ops/grid_sample.hpp"
#include "kpt/ops/index.hpp"
#include "kpt/ops/matmul.hpp"
#include "kpt/ops/pointwise.hpp"
#include "kpt/ops/reduce.hpp"
#include "kpt/ops/select.hpp"
#include "kpt/ops/shape.hpp"

namespace kpt::losses {

template <class T, class B>
struct kp2d_outputs {
  tensor<T, B> score;  // [B, 1, Hc, Wc]
  tensor<T, B> coord;  // [B, 2, Hc, Wc], pixels (x, y)
  tensor<T, B> desc;   // [B, D, Hd, Wd]
};

struct kp2d_weights {
  double loc = 1, desc = 2, usp = 1, mse = 2, io = 1;  // SPEC 6.5 (v4: beta = 2 x config 1.0)
};

struct kp2d_loss_options {
  index_t cell = 8;                   // image size = cell * (Hc, Wc)
  double assoc_threshold = 4;         // epsilon_uv in pixels (valid: d < 4, strict)
  double relax = 4;                   // Chebyshev exclusion window of the negative mining (code 4; paper 8)
  double margin = 0.2;                // triplet margin
  double triplet_eps = 1e-6;          // as torch pairwise_distance(a - b + eps)
  index_t min_border_cells = 20;      // images with fewer border cells skip the descriptor loss
  index_t io_points = 300;            // lowest-score points per image for IO-Net
  double io_inlier_threshold = 4;     // pixels, strict
  index_t io_min_inliers = 10;        // L_io only if the batch has MORE inliers than this
  kp2d_weights weights;
};

template <class T, class B>
struct kp2d_loss_terms {
  tensor<T, B> total, loc, desc, usp, mse, io;
  // diagnostics
  index_t border_cells = 0, valid_cells = 0, triplet_images = 0, io_inliers = 0;
  bool io_active = false;
  double recall = 0;  // SPEC 6.3 step 6: sum over the images the descriptor loss used / B (as KP)
};

// Stand-in for "no IO-Net": the IO term is 0.
struct no_ionet {};

namespace kp2d_detail {

template <class T, class B>
tensor<T, B> vec_tensor(const kpt::shape& s, const std::vector<T>& v) {
  return tensor<T, B>::from(s, std::span<const T>(v));
}
template <class B>
tensor<std::int64_t, B> idx_tensor(const kpt::shape& s, const std::vector<std::int64_t>& v) {
  return tensor<std::int64_t, B>::from(s, std::span<const std::int64_t>(v));
}

// [B, 2, Hc, Wc] -> [B, M, 2]
template <class T, class B>
tensor<T, B> as_points(const tensor<T, B>& coord) {
  return permute(reshape(coord, {coord.size(0), 2, -1}), {0, 2, 1});
}

// Everything the terms share: coordinates, association and masks.
template <class T, class B>
struct setup {
  index_t b = 0, m = 0, hc = 0, wc = 0, h = 0, w = 0;
  tensor<T, B> q_s, q_w, p_w, p_t, q_t;  // [B, M, 2]
  tensor<T, B> d;                        // [B, M]
  tensor<std::int64_t, B> jstar;         // [B, M]
  std::vector<T> q_s_h, q_w_h, p_w_h, p_t_h;
  std::vector<std::uint8_t> border, valid;
  index_t n_border = 0, n_valid = 0;
};

template <class T, class B>
setup<T, B> make_setup(const kp2d_outputs<T, B>& src, const kp2d_outputs<T, B>& tgt,
                       const std::vector<geometry::homography>& homographies, const kp2d_loss_options& opt) {
  auto check = [](const tensor<T, B>& t, const char* what, int rank) {
    require<shape_error>(t.defined() && t.rank() == rank, "kp2d_loss: ", what, " must have rank ", rank, ", got ",
                         t.defined() ? t.shape().str() : std::string("an undefined tensor"));
  };
  check(src.score, "source score [B, 1, Hc, Wc]", 4), check(tgt.score, "target score [B, 1, Hc, Wc]", 4);
  check(src.coord, "source coord [B, 2, Hc, Wc]", 4), check(tgt.coord, "target coord [B, 2, Hc, Wc]", 4);
  setup<T, B> s;
  const auto& ss = src.score.shape();
  s.b = ss[0], s.hc = ss[2], s.wc = ss[3], s.m = s.hc * s.wc;
  s.h = opt.cell * s.hc, s.w = opt.cell * s.wc;
  require<shape_error>(ss[1] == 1 && tgt.score.shape() == ss, "kp2d_loss: scores must be [B, 1, Hc, Wc] and equal, got ",
                       ss.str(), " and ", tgt.score.shape().str());
  const kpt::shape cs{s.b, 2, s.hc, s.wc};
  require<shape_error>(src.coord.shape() == cs && tgt.coord.shape() == cs, "kp2d_loss: coords must be ", cs.str(),
                       " (as the scores), got ", src.coord.shape().str(), " and ", tgt.coord.shape().str());
  require<shape_error>(index_t(homographies.size()) == s.b, "kp2d_loss: ", homographies.size(),
                       " homographies for a batch of ", s.b, " (give one per image)");
  require<value_error>(s.h > 1 && s.w > 1, "kp2d_loss: image size ", s.h, "x", s.w, " is too small");

  const std::vector<T> half_v{T(double(s.w - 1) / 2), T(double(s.h - 1) / 2)};
  const auto half = vec_tensor<T, B>({1, 1, 2}, half_v);
  const auto p_s = as_points(src.coord);
  s.p_t = as_points(tgt.coord);
  s.q_s = sub_scalar(p_s / half, 1.0);
  s.q_t = sub_scalar(s.p_t / half, 1.0);
  // q_w = dehom(hom(q_s) H^T)
  std::vector<T> ht(std::size_t(s.b * 9));
  for (index_t i = 0; i < s.b; ++i)
    for (int r = 0; r < 3; ++r)
      for (int c = 0; c < 3; ++c) ht[std::size_t(i * 9 + r * 3 + c)] = T(homographies[std::size_t(i)](c, r));
  const auto hom = concat({s.q_s, tensor<T, B>::ones({s.b, s.m, 1})}, 2);
  const auto warped = matmul(hom, vec_tensor<T, B>({s.b, 3, 3}, ht));
  s.q_w = slice(warped, 2, 0, 2) / slice(warped, 2, 2, 3);
  s.p_w = add_scalar(s.q_w, 1.0) * half;

  const auto dist = pairwise_distance(s.p_w, s.p_t);  // [B, M, M]
  s.jstar = argmin(dist, 2);
  s.d = reshape(gather(dist, 2, reshape(s.jstar, {s.b, s.m, 1})), {s.b, s.m});

  s.q_s_h = s.q_s.to_vector(), s.q_w_h = s.q_w.to_vector(), s.p_w_h = s.p_w.to_vector(), s.p_t_h = s.p_t.to_vector();
  const auto d_h = s.d.to_vector();
  s.border.assign(std::size_t(s.b * s.m), 0);
  s.valid.assign(std::size_t(s.b * s.m), 0);
  for (index_t i = 0; i < s.b * s.m; ++i) {
    const index_t cell = i % s.m, r = cell / s.wc, c = cell % s.wc;
    const bool interior = r > 0 && r < s.hc - 1 && c > 0 && c < s.wc - 1;
    const double u = double(s.q_w_h[std::size_t(2 * i)]), v = double(s.q_w_h[std::size_t(2 * i + 1)]);
    s.border[std::size_t(i)] = interior && std::abs(u) < 1 && std::abs(v) < 1;
    s.valid[std::size_t(i)] = s.border[std::size_t(i)] && double(d_h[std::size_t(i)]) < opt.assoc_threshold;
    s.n_border += s.border[std::size_t(i)];
    s.n_valid += s.valid[std::size_t(i)];
  }
  return s;
}

template <class T, class B>
tensor<T, B> mask_tensor(const setup<T, B>& s, const std::vector<std::uint8_t>& m) {
  std::vector<T> v(m.begin(), m.end());
  return vec_tensor<T, B>({s.b, s.m}, v);
}

// Bilinear samples (align_corners = true) of map [1, C, H, W] at normalised points [N, 2]
// (host values: no gradient into the coordinates) -> [N, C].
template <class T, class B>
tensor<T, B> sample_at(const tensor<T, B>& map, const std::vector<T>& pts) {
  const index_t n = index_t(pts.size() / 2);
  const auto grid = vec_tensor<T, B>({1, 1, n, 2}, pts);
  return transpose(reshape(grid_sample(map, grid, true), {map.size(1), n}), 0, 1);
}

// Nested hardest-negative triplet loss of one image (SPEC 6.3 steps 1-4); returns the loss and
// adds to `recall` the fraction of anchors whose nearest positive is their own.
template <class T, class B>
tensor<T, B> triplet_one(const setup<T, B>& s, const kp2d_outputs<T, B>& src, const kp2d_outputs<T, B>& tgt, index_t b,
                         const kp2d_loss_options& opt, double& recall) {
  std::vector<index_t> cells;
  for (index_t i = 0; i < s.m; ++i)
    if (s.border[std::size_t(b * s.m + i)]) cells.push_back(i);
  const index_t n = index_t(cells.size());
  std::vector<T> qs(std::size_t(2 * n)), qw(std::size_t(2 * n));
  for (index_t k = 0; k < n; ++k)
    for (int c = 0; c < 2; ++c) {
      qs[std::size_t(2 * k + c)] = s.q_s_h[std::size_t(2 * (b * s.m + cells[std::size_t(k)]) + c)];
      qw[std::size_t(2 * k + c)] = s.q_w_h[std::size_t(2 * (b * s.m + cells[std::size_t(k)]) + c)];
    }
  const auto anchor = l2_normalize(sample_at(slice(src.desc, 0, b, b + 1), qs), 1);  // [N, D]
  const auto positive = l2_normalize(sample_at(slice(tgt.desc, 0, b, b + 1), qw), 1);
  std::vector<T> sim;
  {
    no_grad guard;
    sim = matmul(anchor, transpose(positive, 0, 1)).to_vector();
  }
  std::vector<std::int64_t> negative(static_cast<std::size_t>(n));
  index_t hits = 0;
  for (index_t i = 0; i < n; ++i) {
    const index_t ci = b * s.m + cells[std::size_t(i)];
    double best = INFINITY, first = INFINITY;
    index_t arg = 0, first_arg = 0;
    for (index_t j = 0; j < n; ++j) {
      const double dot = std::clamp(double(sim[std::size_t(i * n + j)]), -1.0, 1.0);
      const double dist = std::sqrt(2.0 - 2.0 * dot);
      if (dist < first) first = dist, first_arg = j;
      const index_t cj = b * s.m + cells[std::size_t(j)];
      const bool near = std::abs(double(s.p_w_h[std::size_t(2 * cj)]) - double(s.p_w_h[std::size_t(2 * ci)])) <= opt.relax &&
                        std::abs(double(s.p_w_h[std::size_t(2 * cj + 1)]) - double(s.p_w_h[std::size_t(2 * ci + 1)])) <= opt.relax;
      const double masked = near ? 2.0 : dist;
      if (masked < best) best = masked, arg = j;
    }
    negative[std::size_t(i)] = arg;
    hits += first_arg == i;
  }
  recall += double(hits) / double(n);
  const auto neg = index_select(positive, 0, idx_tensor<B>({n}, negative));
  auto norm = [&](const tensor<T, B>& a, const tensor<T, B>& p) {
    return sqrt(sum(pow(add_scalar(a - p, opt.triplet_eps), 2.0), {1}));
  };
  return mean(relu(add_scalar(norm(anchor, positive) - norm(anchor, neg), opt.margin)));
}

// Indices of the k lowest values of each row of x [B, M], each row in increasing (raster) order.
template <class T, class B>
std::vector<std::int64_t> lowest_in_raster_order(const tensor<T, B>& x, index_t k) {
  auto idx = topk(x.detach(), k, 1, false).second.to_vector();
  for (std::size_t r = 0; r < idx.size(); r += std::size_t(k)) std::sort(idx.begin() + r, idx.begin() + r + k);
  return idx;
}

// The IO-Net term (SPEC 6.6); `ionet` maps [B, 5, P, 1] to [B, 1, P, 1] logits.
template <class T, class B, class Net>
tensor<T, B> io_loss(const setup<T, B>& s, const kp2d_outputs<T, B>& src, const kp2d_outputs<T, B>& tgt, Net&& ionet,
                     const kp2d_loss_options& opt, index_t& inliers, bool& active) {
  const index_t p = opt.io_points;
  require<value_error>(p > 0 && p <= s.m, "kp2d_loss: io_points = ", p, " must be in [1, Hc*Wc = ", s.m, "]");
  const auto si = lowest_in_raster_order(reshape(src.score, {s.b, s.m}), p);
  const auto ti = lowest_in_raster_order(reshape(tgt.score, {s.b, s.m}), p);
  auto twice = [&](const std::vector<std::int64_t>& v) {
    std::vector<std::int64_t> o(v.size() * 2);
    for (std::size_t i = 0; i < v.size(); ++i) o[2 * i] = o[2 * i + 1] = v[i];
    return idx_tensor<B>({s.b, p, 2}, o);
  };
  const auto qs = gather(s.q_s, 1, twice(si));  // [B, P, 2], not detached
  const auto qt = gather(s.q_t, 1, twice(ti));
  auto describe = [&](const tensor<T, B>& map, const tensor<T, B>& q) {
    return l2_normalize(reshape(grid_sample(map, reshape(q, {s.b, 1, p, 2}), true), {s.b, map.size(1), p}), 1);
  };
  const auto fs = describe(src.desc, qs), ft = describe(tgt.desc, qt);  // [B, D, P]
  const auto dmat = sqrt(rsub_scalar(2.0, mul_scalar(clamp(matmul(transpose(fs, 1, 2), ft), -1.0, 1.0), 2.0)));
  const auto jn = argmin(dmat, 2);                                      // [B, P]
  const auto dmin = gather(dmat, 2, reshape(jn, {s.b, p, 1}));          // [B, P, 1]
  const auto jn_h = jn.to_vector();
  const auto assoc = gather(qt, 1, twice(jn_h));                         // [B, P, 2]
  const auto input = reshape(permute(concat({qs, assoc, dmin}, 2), {0, 2, 1}), {s.b, 5, p, 1});
  const auto r = reshape(ionet(input), {s.b, p});

  std::vector<T> gt(std::size_t(s.b * p));
  inliers = 0;
  for (index_t b = 0; b < s.b; ++b)
    for (index_t k = 0; k < p; ++k) {
      const std::size_t at = std::size_t(b * p + k);
      const index_t src_cell = b * s.m + si[at];
      const index_t tgt_cell = b * s.m + ti[std::size_t(b * p + jn_h[at])];
      const double dx = double(s.p_t_h[std::size_t(2 * tgt_cell)]) - double(s.p_w_h[std::size_t(2 * src_cell)]);
      const double dy = double(s.p_t_h[std::size_t(2 * tgt_cell + 1)]) - double(s.p_w_h[std::size_t(2 * src_cell + 1)]);
      const bool in = std::sqrt(dx * dx + dy * dy) < opt.io_inlier_threshold;
      gt[at] = in ? T(1) : T(-1);
      inliers += in;
    }
  active = inliers > opt.io_min_inliers;
  if (!active) return tensor<T, B>::scalar(T(0));
  return mean(pow(r - vec_tensor<T, B>({s.b, p}, gt), 2.0));
}

}  // namespace kp2d_detail

template <class T, class B, class Net = no_ionet>
kp2d_loss_terms<T, B> kp2d_loss(const kp2d_outputs<T, B>& src, const kp2d_outputs<T, B>& tgt,
                                const std::vector<geometry::homography>& homographies, const kp2d_loss_options& opt = {},
                                Net&& ionet = {}) {
  using namespace kp2d_detail;
  const auto s = make_setup(src, tgt, homographies, opt);
  kp2d_loss_terms<T, B> r;
  r.border_cells = s.n_border, r.valid_cells = s.n_valid;
  const auto zero = tensor<T, B>::scalar(T(0));
  const auto valid = mask_tensor(s, s.valid), border = mask_tensor(s, s.border);

  // location and usp (SPEC 6.2, 6.4)
  if (s.n_valid > 0) {
    const double nv = double(s.n_valid);
    r.loc = div_scalar(sum(s.d * valid), nv);
    const auto st = gather(reshape(tgt.score, {s.b, s.m}), 1, s.jstar);
    const auto centred = s.d - r.loc;  // mean_valid d, not detached
    r.usp = div_scalar(sum((st + reshape(src.score, {s.b, s.m})) * centred * valid), nv);
  } else {
    r.loc = zero, r.usp = zero;
  }
  // score consistency (SPEC 6.4)
  if (s.n_border > 0) {
    const auto grid = reshape(s.q_w.detach(), {s.b, 1, s.m, 2});
    const auto hat = reshape(grid_sample(tgt.score, grid, true), {s.b, s.m});
    r.mse = div_scalar(sum(pow(hat - reshape(src.score, {s.b, s.m}), 2.0) * border), double(s.n_border));
  } else {
    r.mse = zero;
  }
  // descriptors (SPEC 6.3)
  require<shape_error>(src.desc.defined() && tgt.desc.defined() && src.desc.rank() == 4 &&
                           src.desc.shape() == tgt.desc.shape() && src.desc.size(0) == s.b,
                       "kp2d_loss: dense descriptors must be [B, D, Hd, Wd], equal for source and target, got ",
                       src.desc.defined() ? src.desc.shape().str() : "undefined", " and ",
                       tgt.desc.defined() ? tgt.desc.shape().str() : "undefined");
  r.desc = zero;
  for (index_t b = 0; b < s.b; ++b) {
    index_t nb = 0;
    for (index_t i = 0; i < s.m; ++i) nb += s.border[std::size_t(b * s.m + i)];
    if (nb < opt.min_border_cells) continue;
    r.desc = r.desc + triplet_one(s, src, tgt, b, opt, r.recall);
    ++r.triplet_images;
  }
  r.desc = div_scalar(r.desc, double(s.b));
  r.recall /= double(s.b);
  // IO-Net (SPEC 6.6)
  if constexpr (std::is_same_v<std::remove_cvref_t<Net>, no_ionet>) {
    r.io = zero;
  } else {
    r.io = io_loss(s, src, tgt, ionet, opt, r.io_inliers, r.io_active);
  }
  const auto& w = opt.weights;
  r.total = mul_scalar(r.loc, w.loc) + mul_scalar(r.desc, w.desc) + mul_scalar(r.usp, w.usp) +
            mul_scalar(r.mse, w.mse) + mul_scalar(r.io, w.io);
  return r;
}

}  // namespace kpt::losses
