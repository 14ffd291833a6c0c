#pragma once
// nn::batch_norm<Momentum = 0.1, Eps = 1e-5>: torch.nn.BatchNorm1d/2d over the channels of the
// previous layer (affine, tracking running statistics).
// State, in PyTorch's state_dict order: weight [C] (1), bias [C] (0) -- parameters;
// running_mean [C] (0), running_var [C] (1), num_batches_tracked (int64 scalar, 0) -- buffers.
// Training mode: batch statistics, running statistics updated in place (unbiased variance) and
// num_batches_tracked incremented; eval mode: running statistics. `options` holds the momentum
// and eps and may be changed at run time; train(bool) sets options.training.
#include "kpt/nn/module.hpp"
#include "kpt/ops/norm.hpp"

namespace kpt::nn {

template <double Momentum = 0.1, double Eps = 1e-5>
struct batch_norm {
  static_assert(Momentum >= 0 && Momentum <= 1, "nn::batch_norm<Momentum, Eps>: Momentum must be in [0, 1]");
  static_assert(Eps >= 0, "nn::batch_norm<Momentum, Eps>: Eps must be >= 0");

  template <int In>
  static constexpr int out_channels = In;

  template <int C, class T, class B>
  struct layer {
    static constexpr int channels = C;
    tensor<T, B> weight, bias, running_mean, running_var;
    tensor<std::int64_t, B> num_batches_tracked;
    batch_norm_options options{true, Momentum, Eps};

    explicit layer(rng&) { reset(); }
    layer() { reset(); }
    void reset_parameters(rng&) { reset(); }

    tensor<T, B> forward(const tensor<T, B>& x) {
      auto y = kpt::batch_norm(x, weight, bias, running_mean, running_var, options);
      if (options.training) {  // counted after the op, so a rejected input changes nothing
        const std::int64_t n = num_batches_tracked.item() + 1;
        B::copy_from_host(num_batches_tracked.data(), &n, 1);
      }
      return y;
    }
    void train(bool on = true) { options.training = on; }

    template <class F>
    void visit(path& p, F& f) {
      f(p.join("weight"), weight, param_kind::parameter);
      f(p.join("bias"), bias, param_kind::parameter);
      f(p.join("running_mean"), running_mean, param_kind::buffer);
      f(p.join("running_var"), running_var, param_kind::buffer);
      f(p.join("num_batches_tracked"), num_batches_tracked, param_kind::buffer);
    }

   private:
    void reset() {
      weight = tensor<T, B>::ones({C});
      weight.requires_grad_(true);
      bias = tensor<T, B>::zeros({C});
      bias.requires_grad_(true);
      running_mean = tensor<T, B>::zeros({C});
      running_var = tensor<T, B>::ones({C});
      num_batches_tracked = tensor<std::int64_t, B>::scalar(0);
    }
  };
};

}  // namespace kpt::nn
