#pragma once
// SuperPoint losses in the paper's form (SPEC 2.1-2.3; SP-paper eq. 1-6), built from kpt ops.
//
//   detector_loss(semi [N, 65, Hc, Wc], labels int64 [N, Hc, Wc], cell_weight [N, Hc, Wc] or {})
//     = sum(w * ce) / count(w != 0) (TF SUM_BY_NONZERO_WEIGHTS; = mean of ce over valid cells for
//     a 0/1 mask, over all cells without a weight). The weight is a constant (no gradient).
//   descriptor_loss(desc [N, D, Hc, Wc], warped_desc, homographies, warped_cell_valid, options)
//     s(h,w,h',w') = 1 iff ||H(p_hw) - p_h'w'|| <= radius, p_hw = (cell*w + offset, cell*h + offset)
//     (x, y) pixels, H = image pixel -> warped pixel;
//     l = lambda_d * s * max(0, m_p - d.d') + (1 - s) * max(0, d.d' - m_n)  (raw dot products via
//     a batched matmul: no RP normalisation / ReLU of the similarities);
//     Ld = sum(l * valid(h',w')) / (sum(valid) * Hc * Wc)  (= the paper's 1/(HcWc)^2 per image,
//     averaged over the batch, when every cell is valid).
//   superpoint_loss(...) = Lp(semi) + Lp(warped semi) + lambda * Ld, each term returned too.
#include <cstdint>
#include <vector>

#include "kpt/geometry/homography.hpp"
#include "kpt/ops/binary.hpp"
#include "kpt/ops/loss.hpp"
#include "kpt/ops/matmul.hpp"
#include "kpt/ops/pointwise.hpp"
#include "kpt/ops/reduce.hpp"
#include "kpt/ops/shape.hpp"

namespace kpt::losses {

template <Real T, Backend B>
tensor<T, B> detector_loss(const tensor<T, B>& semi, const tensor<std::int64_t, B>& labels,
                           const tensor<T, B>& cell_weight = {}) {
  require<shape_error>(semi.defined() && semi.rank() == 4,
                       "detector_loss: semi must be the [N, 65, Hc, Wc] detector logits, got ",
                       semi.defined() ? semi.shape().str() : std::string("an undefined tensor"));
  if (!cell_weight.defined()) return cross_entropy(semi, labels);
  // cross_entropy divides by sum(w); the reference divides by the number of non-zero weights.
  const auto w = cell_weight.detach();
  double total = 0;
  index_t nonzero = 0;
  for (T v : w.to_vector()) total += double(v), nonzero += v != T(0);
  if (nonzero == 0 || total == 0) return tensor<T, B>::scalar(T(0));
  const auto ce = cross_entropy(semi, labels, w);
  return total == double(nonzero) ? ce : mul_scalar(ce, total / double(nonzero));
}

struct descriptor_loss_options {
  double lambda_d = 250;         // weight of the positive hinge (paper)
  double positive_margin = 1;    // m_p
  double negative_margin = 0.2;  // m_n
  double radius = 8;             // correspondence threshold T in pixels (paper 8; RP 7.5)
  double cell_centre_offset = 4; // cell centre = cell*i + offset (RP 8h + 4)
  index_t cell = 8;
};

// The correspondence matrix s [N, Hc*Wc, Hc*Wc] (row: cell of the first image, column: cell of
// the warped image), from homographies mapping image pixels to warped-image pixels.
template <Real T, Backend B>
tensor<T, B> descriptor_correspondences(const std::vector<geometry::homography>& homographies, index_t hc, index_t wc,
                                        const descriptor_loss_options& opt = {}) {
  const index_t n = index_t(homographies.size()), m = hc * wc;
  std::vector<T> s(std::size_t(n * m * m), T(0));
  auto centre = [&](index_t i) {
    return geometry::point2(double(opt.cell * (i % wc)) + opt.cell_centre_offset,
                            double(opt.cell * (i / wc)) + opt.cell_centre_offset);
  };
  for (index_t b = 0; b < n; ++b)
    for (index_t i = 0; i < m; ++i) {
      const auto q = geometry::apply(homographies[std::size_t(b)], centre(i));
      for (index_t j = 0; j < m; ++j)
        s[std::size_t((b * m + i) * m + j)] = T((q - centre(j)).norm() <= opt.radius ? 1 : 0);
    }
  return tensor<T, B>::from({n, m, m}, std::span<const T>(s));
}

template <Real T, Backend B>
tensor<T, B> descriptor_loss(const tensor<T, B>& desc, const tensor<T, B>& warped_desc,
                             const std::vector<geometry::homography>& homographies,
                             const tensor<T, B>& warped_cell_valid = {}, const descriptor_loss_options& opt = {}) {
  require<shape_error>(desc.defined() && warped_desc.defined() && desc.rank() == 4 &&
                           desc.shape() == warped_desc.shape(),
                       "descriptor_loss: desc and warped_desc must both be [N, D, Hc, Wc] of equal shape, got ",
                       desc.defined() ? desc.shape().str() : "undefined", " and ",
                       warped_desc.defined() ? warped_desc.shape().str() : "undefined");
  const index_t n = desc.size(0), d = desc.size(1), hc = desc.size(2), wc = desc.size(3), m = hc * wc;
  require<shape_error>(index_t(homographies.size()) == n, "descriptor_loss: ", homographies.size(),
                       " homographies for a batch of ", n, " (give one per image)");
  require<value_error>(opt.radius >= 0 && opt.cell > 0, "descriptor_loss: radius (", opt.radius,
                       ") must be >= 0 and cell (", opt.cell, ") positive");
  tensor<T, B> valid = warped_cell_valid.defined() ? warped_cell_valid.detach() : tensor<T, B>::ones({n, hc, wc});
  require<shape_error>(valid.shape() == kpt::shape{n, hc, wc}, "descriptor_loss: warped_cell_valid has shape ",
                       valid.shape().str(), ", expected [", n, ", ", hc, ", ", wc, "]");
  double count = 0;
  for (T v : valid.to_vector()) count += double(v);
  if (count == 0) return tensor<T, B>::scalar(T(0));

  const auto s = descriptor_correspondences<T, B>(homographies, hc, wc, opt);
  // dot[b, i, j] = d_i . d'_j
  const auto a = transpose(reshape(desc, {n, d, m}), 1, 2);
  const auto dot = matmul(a, reshape(warped_desc, {n, d, m}));
  const auto pos = mul_scalar(s * relu(rsub_scalar(opt.positive_margin, dot)), opt.lambda_d);
  const auto neg = rsub_scalar(1.0, s) * relu(sub_scalar(dot, opt.negative_margin));
  const auto masked = (pos + neg) * reshape(valid, {n, 1, m});
  return div_scalar(sum(masked), count * double(m));
}

struct superpoint_loss_options {
  double lambda = 1e-4;  // weight of the descriptor loss (paper)
  descriptor_loss_options descriptor;
};

template <class T, class B>
struct superpoint_loss_terms {
  tensor<T, B> total, detector, warped_detector, descriptor;
};

// cell_valid / warped_cell_valid: [N, Hc, Wc] 0/1 weights ({} = all valid); the warped one also
// masks the descriptor loss.
template <Real T, Backend B>
superpoint_loss_terms<T, B> superpoint_loss(const tensor<T, B>& semi, const tensor<T, B>& warped_semi,
                                            const tensor<std::int64_t, B>& labels,
                                            const tensor<std::int64_t, B>& warped_labels, const tensor<T, B>& desc,
                                            const tensor<T, B>& warped_desc,
                                            const std::vector<geometry::homography>& homographies,
                                            const tensor<T, B>& cell_valid = {},
                                            const tensor<T, B>& warped_cell_valid = {},
                                            const superpoint_loss_options& opt = {}) {
  superpoint_loss_terms<T, B> r;
  r.detector = detector_loss(semi, labels, cell_valid);
  r.warped_detector = detector_loss(warped_semi, warped_labels, warped_cell_valid);
  r.descriptor = descriptor_loss(desc, warped_desc, homographies, warped_cell_valid, opt.descriptor);
  r.total = r.detector + r.warped_detector + mul_scalar(r.descriptor, opt.lambda);
  return r;
}

}  // namespace kpt::losses
