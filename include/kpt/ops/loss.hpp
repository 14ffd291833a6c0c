#pragma once
// Softmax cross-entropy with a per-item weight.
//
//   cross_entropy(logits [N, C] or [N, C, d1, ...], target [N] or [N, d1, ...] (int64 class indices in [0, C)),
//                 item_weight (target's shape, or an undefined tensor for all ones))
//     = sum_i w_i * ce_i / sum_i w_i   (0 when sum_i w_i = 0),  ce_i = logsumexp_c(logits_i) - logits_i[target_i]
//
// The classes are axis 1 (PyTorch's layout); the log-softmax subtracts the maximum, so large logits
// are safe. Gradients flow to the logits and to item_weight (d/dw_i = (ce_i - loss) / sum w).
// With the weight a 0/1 mask this is the mean of ce over the masked items.
#include <cstdint>

#include "kpt/autograd/apply.hpp"
#include "kpt/kernels/loss.hpp"
#include "kpt/ops/binary.hpp"
#include "kpt/ops/index.hpp"

namespace kpt {

namespace ops_detail {

template <class T, class B>
struct cross_entropy_op {
  static constexpr std::string_view name = "cross_entropy";
  kernels::cross_entropy_geom geom;
  tensor<std::int64_t, B> target;
  // Saved for backward (when recording).
  tensor<T, B> logits, weight, lse, ce;
  double total_weight = 0, loss = 0;

  tensor<T, B> forward(const autograd::op_context<2>& ctx, const tensor<T, B>& x, const tensor<T, B>& w) {
    auto l = tensor<T, B>::empty(target.shape()), c = tensor<T, B>::empty(target.shape());
    const index_t items = geom.items();
    kernels::weighted_sum sums;
    if (items > 0) {
      cross_entropy_forward(B{}, geom, x.data(), target.data(), l.data(), c.data());
      sums = cross_entropy_sums(B{}, items, static_cast<const T*>(c.data()), w.defined() ? w.data() : nullptr);
    }
    total_weight = sums.weight;
    loss = sums.weight != 0 ? sums.weighted / sums.weight : 0.0;
    if (ctx.recording) {
      if (ctx.needs(0)) logits = x;
      weight = w;
      lse = l;
      ce = c;
    }
    return tensor<T, B>::scalar(T(loss));
  }

  void backward(const autograd::op_context<2>& ctx, const tensor<T, B>& g, std::array<tensor<T, B>, 2>& grads) {
    if (total_weight == 0) {  // the loss is the constant 0
      if (ctx.needs(0)) grads[0] = tensor<T, B>::zeros(logits.shape());
      if (ctx.needs(1)) grads[1] = tensor<T, B>::zeros(weight.shape());
      return;
    }
    const double scale = double(g.item()) / total_weight;
    if (ctx.needs(0)) {
      auto gl = tensor<T, B>::empty(logits.shape());
      if (gl.numel() > 0)
        cross_entropy_backward(B{}, geom, static_cast<const T*>(logits.data()), target.data(),
                               weight.defined() ? static_cast<const T*>(weight.data()) : nullptr,
                               static_cast<const T*>(lse.data()), T(scale), gl.data());
      grads[0] = std::move(gl);
    }
    if (ctx.needs(1)) {
      // d loss / d w_i = (ce_i - loss) / sum w
      grads[1] = (ce - tensor<T, B>::scalar(T(loss))) * tensor<T, B>::scalar(T(scale));
    }
  }
};

}  // namespace ops_detail

template <class T, class B>
tensor<T, B> cross_entropy(const tensor<T, B>& logits, const tensor<std::int64_t, B>& target,
                           const tensor<T, B>& item_weight = {}) {
  require<shape_error>(logits.defined(), "cross_entropy: the logits are an undefined tensor");
  require<shape_error>(target.defined(), "cross_entropy: the target is an undefined tensor");
  const auto& s = logits.shape();
  const auto& ts = target.shape();
  require<shape_error>(s.rank() >= 2, "cross_entropy: logits must be [N, C] or [N, C, d1, ...], got shape ", s.str());
  bool ok = ts.rank() == s.rank() - 1 && ts[0] == s[0];
  for (int d = 2; ok && d < s.rank(); ++d) ok = ts[d - 1] == s[d];
  require<shape_error>(ok, "cross_entropy: target shape ", ts.str(), " does not fit logits shape ", s.str(),
                       " (expected the logits' shape without axis 1)");
  require<shape_error>(s[1] >= 1, "cross_entropy: logits shape ", s.str(), " has no classes");
  if (item_weight.defined())
    require<shape_error>(item_weight.shape() == ts, "cross_entropy: item_weight shape ", item_weight.shape().str(),
                         " must equal the target shape ", ts.str(), " (logits shape ", s.str(), ")");
  ops_detail::check_indices("cross_entropy", target, s[1],
                            detail::concat("the ", s[1], " classes of logits of shape ", s.str()).c_str());
  ops_detail::cross_entropy_op<T, B> op;
  op.geom.n = s[0];
  op.geom.classes = s[1];
  op.geom.inner = 1;
  for (int d = 2; d < s.rank(); ++d) op.geom.inner *= s[d];
  op.target = target;
  return autograd::apply(std::move(op), logits, item_weight);
}

}  // namespace kpt
