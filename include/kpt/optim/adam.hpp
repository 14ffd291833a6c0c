#pragma once
// Adam with PyTorch 1.13 semantics (torch.optim.Adam, single-tensor path):
//   g = grad (negated when maximize) + weight_decay * p          (L2 penalty on the gradient)
//   m = beta1 * m + (1 - beta1) * g
//   v = beta2 * v + (1 - beta2) * g * g
//   vmax = max(vmax, v)                                            (amsgrad only; then v := vmax)
//   p -= lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
// eps is added after the square root of the bias-corrected second moment. t counts the steps
// in which the parameter had a gradient. State per parameter, saved as
// "adam.<name>.exp_avg", "adam.<name>.exp_avg_sq", "adam.<name>.max_exp_avg_sq" (amsgrad) and
// "adam.<name>.step" (I64 scalar).
#include <algorithm>
#include <cmath>

#include <ranges>

#include "kpt/optim/optimizer.hpp"

namespace kpt::optim {

struct adam_options {
  double lr = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0;
  bool amsgrad = false;
  bool maximize = false;
};

template <Real T, HostBackend B = cpu_ref>
class adam : public optimizer<adam<T, B>, adam_options, T, B> {
  using base = optimizer<adam<T, B>, adam_options, T, B>;
  friend base;

 public:
  static constexpr const char* kind_name = "adam";

  struct state {
    tensor<T, B> exp_avg, exp_avg_sq, max_exp_avg_sq;  // max_exp_avg_sq only with amsgrad
    counter step;
  };

  adam() = default;
  adam(std::vector<param<T, B>> params, const adam_options& options = {}) {
    this->add_param_group(std::move(params), options);
  }
  template <class Range>
    requires(std::ranges::range<Range> && !std::is_convertible_v<Range, std::vector<param<T, B>>>)
  adam(Range&& params, const adam_options& options = {}) {
    this->add_param_group(base::collect(params), options);
  }

  static void validate(const adam_options& o) {
    require<value_error>(o.lr >= 0, "adam: learning rate ", o.lr, " is negative");
    require<value_error>(o.eps >= 0, "adam: eps ", o.eps, " is negative");
    require<value_error>(o.beta1 >= 0 && o.beta1 < 1, "adam: beta1 ", o.beta1, " is outside [0, 1)");
    require<value_error>(o.beta2 >= 0 && o.beta2 < 1, "adam: beta2 ", o.beta2, " is outside [0, 1)");
    require<value_error>(o.weight_decay >= 0, "adam: weight_decay ", o.weight_decay, " is negative");
  }

  void step() {
    no_grad guard;
    for (std::size_t gi = 0; gi < this->groups_.size(); ++gi) {
      auto& group = this->groups_[gi];
      const adam_options& o = group.options;
      validate(o);
      for (std::size_t pi = 0; pi < group.params.size(); ++pi) {
        auto& p = group.params[pi];
        const tensor<T, B> grad = base::grad_of(p);
        if (!grad.defined()) continue;
        state& s = states_[gi][pi];
        if (o.amsgrad && !s.max_exp_avg_sq.defined()) s.max_exp_avg_sq = tensor<T, B>::zeros(p.value.shape());
        const std::int64_t t = ++s.step.data()[0];
        const double bias_correction1 = 1 - std::pow(o.beta1, double(t));
        const double bias_correction2 = 1 - std::pow(o.beta2, double(t));
        const T step_size = T(o.lr / bias_correction1);
        const T bc2_sqrt = T(std::sqrt(bias_correction2));
        const T beta1 = T(o.beta1), beta2 = T(o.beta2), one_minus_beta1 = T(1 - o.beta1),
                one_minus_beta2 = T(1 - o.beta2), wd = T(o.weight_decay), eps = T(o.eps);
        T* w = p.value.data();
        const T* gr = grad.data();
        T* m = s.exp_avg.data();
        T* v = s.exp_avg_sq.data();
        T* vmax = o.amsgrad ? s.max_exp_avg_sq.data() : nullptr;
        const index_t n = p.value.numel();
        for (index_t i = 0; i < n; ++i) {
          T g = o.maximize ? -gr[i] : gr[i];
          if (o.weight_decay != 0) g = g + wd * w[i];
          m[i] = m[i] * beta1 + one_minus_beta1 * g;
          v[i] = v[i] * beta2 + one_minus_beta2 * g * g;
          T second = v[i];
          if (vmax) second = vmax[i] = std::max(vmax[i], v[i]);
          const T denom = std::sqrt(second) / bc2_sqrt + eps;
          w[i] = w[i] + -step_size * (m[i] / denom);
        }
      }
    }
  }

  const state& state_of(std::size_t group, std::size_t index) const { return states_.at(group).at(index); }

  // Calls f(name, tensor) for every state tensor: T tensors on B, and the I64 step counters.
  // The handles are the optimiser's own: loading values into them restores the state.
  template <class F>
  void visit_state(F&& f) {
    for (std::size_t gi = 0; gi < this->groups_.size(); ++gi) {
      const auto& group = this->groups_[gi];
      for (std::size_t pi = 0; pi < group.params.size(); ++pi) {
        const std::string prefix = std::string(kind_name) + "." + group.params[pi].name + ".";
        state& s = states_[gi][pi];
        if (group.options.amsgrad && !s.max_exp_avg_sq.defined())
          s.max_exp_avg_sq = tensor<T, B>::zeros(group.params[pi].value.shape());
        f(prefix + "exp_avg", s.exp_avg);
        f(prefix + "exp_avg_sq", s.exp_avg_sq);
        if (group.options.amsgrad) f(prefix + "max_exp_avg_sq", s.max_exp_avg_sq);
        f(prefix + "step", s.step);
      }
    }
  }

 private:
  void init_state(const typename base::group_type& g) {
    std::vector<state> st;
    for (const auto& p : g.params) {
      state s;
      s.exp_avg = tensor<T, B>::zeros(p.value.shape());
      s.exp_avg_sq = tensor<T, B>::zeros(p.value.shape());
      if (g.options.amsgrad) s.max_exp_avg_sq = tensor<T, B>::zeros(p.value.shape());
      s.step = counter::zeros({});
      st.push_back(std::move(s));
    }
    states_.push_back(std::move(st));
  }

  std::vector<std::vector<state>> states_;
};

}  // namespace kpt::optim
