#pragma once
// batch_norm(x [N, C, ...], weight, bias, running_mean, running_var, options) and
// instance_norm(x [N, C, ...], eps), as torch batch_norm / instance_norm.
#include "kpt/autograd/apply.hpp"
#include "kpt/kernels/norm.hpp"

namespace kpt {

struct batch_norm_options {
  bool training = true;   // batch statistics (and running-stat update) or running statistics
  double momentum = 0.1;  // running = (1 - momentum) * running + momentum * batch
  double eps = 1e-5;
};

namespace ops_detail {

// Normalises x viewed as geom with per-channel statistics, then the optional affine map.
template <bool Instance, class T, class B>
struct norm_op {
  static constexpr std::string_view name = Instance ? "instance_norm" : "batch_norm";
  kernels::norm_geom geom{};
  double eps = 1e-5, momentum = 0.1;
  bool batch_stats = true;
  tensor<T, B> running_mean, running_var;  // forward only: read (eval) or updated (training)
  tensor<T, B> x, weight, mean, var;       // saved for backward

  tensor<T, B> forward(const autograd::op_context<3>& ctx, const tensor<T, B>& in, const tensor<T, B>& w,
                       const tensor<T, B>& b) {
    tensor<T, B> m, v;
    if (batch_stats) {
      m = tensor<T, B>::empty({geom.c});
      v = tensor<T, B>::empty({geom.c});
      norm_stats(B{}, geom, in.data(), m.data(), v.data());
    } else {
      // A copy when recording: a later training step updates the running stats in place.
      m = ctx.recording ? running_mean.clone() : running_mean;
      v = ctx.recording ? running_var.clone() : running_var;
    }
    auto y = tensor<T, B>::empty(in.shape());
    norm_forward(B{}, geom, in.data(), m.data(), v.data(), w.data(), b.data(), eps, y.data());
    if (batch_stats && running_mean.defined())  // a side effect, outside autograd
      norm_update_running(B{}, geom.c, m.data(), v.data(), geom.count(), momentum, running_mean.data(),
                          running_var.data());
    running_mean = running_var = tensor<T, B>{};  // the tape must not hold the caller's buffers
    if (ctx.recording) {
      x = in;
      weight = w;
      mean = std::move(m);
      var = std::move(v);
    }
    return y;
  }

  void backward(const autograd::op_context<3>& ctx, const tensor<T, B>& g, std::array<tensor<T, B>, 3>& grads) {
    if (ctx.needs(0)) grads[0] = tensor<T, B>::empty(x.shape());
    if (ctx.needs(1)) grads[1] = tensor<T, B>::empty({geom.c});
    if (ctx.needs(2)) grads[2] = tensor<T, B>::empty({geom.c});
    norm_backward(B{}, geom, g.data(), x.data(), mean.data(), var.data(), weight.data(), eps, batch_stats,
                  grads[0].data(), grads[1].data(), grads[2].data());
  }
};

template <class T, class B>
void check_channel_vector(const char* what, const tensor<T, B>& t, const kpt::shape& xs) {
  if (!t.defined()) return;
  require<shape_error>(t.shape() == kpt::shape{xs[1]}, "batch_norm: ", what, " has shape ", t.shape().str(),
                       " but x ", xs.str(), " needs [", xs[1], "]");
}

}  // namespace ops_detail

// x is [N, C], [N, C, L] or [N, C, H, W] (any rank >= 2; statistics per channel C); weight and
// bias are [C] or undefined (1 and 0). running_mean / running_var are [C], both or neither
// defined. Training (or no running stats): batch statistics with the biased variance, and the
// running stats, when given, are updated in place with the unbiased one. Eval: running stats.
template <class T, class B>
tensor<T, B> batch_norm(const tensor<T, B>& x, const tensor<T, B>& weight, const tensor<T, B>& bias,
                        tensor<T, B>& running_mean, tensor<T, B>& running_var, batch_norm_options opt = {}) {
  require<shape_error>(x.defined(), "batch_norm: x is an undefined tensor");
  const kpt::shape& s = x.shape();
  require<shape_error>(s.rank() >= 2, "batch_norm: expects x of shape [N, C, ...], got ", s.str());
  ops_detail::check_channel_vector("weight", weight, s);
  ops_detail::check_channel_vector("bias", bias, s);
  ops_detail::check_channel_vector("running_mean", running_mean, s);
  ops_detail::check_channel_vector("running_var", running_var, s);
  require<value_error>(running_mean.defined() == running_var.defined(),
                       "batch_norm: running_mean and running_var must both be defined or both undefined");
  require<value_error>(opt.eps >= 0, "batch_norm: eps must be non-negative, got ", opt.eps);
  require<value_error>(opt.momentum >= 0 && opt.momentum <= 1, "batch_norm: momentum must be in [0, 1], got ",
                       opt.momentum);
  ops_detail::norm_op<false, T, B> op;
  const index_t nc = s[0] * s[1];
  op.geom = {s[0], s[1], nc ? s.numel() / nc : 1};
  op.eps = opt.eps;
  op.momentum = opt.momentum;
  op.batch_stats = opt.training || !running_mean.defined();
  require<value_error>(!op.batch_stats || op.geom.count() > 1,
                       "batch_norm: batch statistics need more than 1 value per channel, x has shape ", s.str());
  op.running_mean = running_mean;  // handles: the update writes into the caller's buffers
  op.running_var = running_var;
  return autograd::apply(std::move(op), x, weight, bias);
}

// x is [N, C, L] or [N, C, H, W] (any rank >= 3): each (sample, channel) plane is normalised with
// its own mean and biased variance; no affine map, no running statistics.
template <class T, class B>
tensor<T, B> instance_norm(const tensor<T, B>& x, double eps = 1e-5) {
  require<shape_error>(x.defined(), "instance_norm: x is an undefined tensor");
  const kpt::shape& s = x.shape();
  require<shape_error>(s.rank() >= 3, "instance_norm: expects x of shape [N, C, L] or [N, C, H, W], got ",
                       s.str());
  require<value_error>(eps >= 0, "instance_norm: eps must be non-negative, got ", eps);
  ops_detail::norm_op<true, T, B> op;
  const index_t planes = s[0] * s[1];
  op.geom = {1, planes, planes ? s.numel() / planes : 0};
  require<value_error>(op.geom.s > 1, "instance_norm: needs more than 1 value per plane, x has shape ", s.str());
  op.eps = eps;
  return autograd::apply(std::move(op), x, tensor<T, B>{}, tensor<T, B>{});
}

}  // namespace kpt
