#pragma once
// SGD with momentum, PyTorch 1.13 semantics (torch.optim.SGD):
//   g = grad (negated when maximize) + weight_decay * p
//   with momentum: buf = g at the first step, then buf = momentum * buf + (1 - dampening) * g;
//                  g = nesterov ? g + momentum * buf : buf
//   p -= lr * g
// State per parameter, saved as "sgd.<name>.momentum_buffer" (with momentum) and
// "sgd.<name>.step" (I64 scalar: steps taken; 0 means the buffer is not initialised yet).
#include <ranges>

#include "kpt/optim/optimizer.hpp"

namespace kpt::optim {

struct sgd_options {
  double lr = 1e-2;
  double momentum = 0;
  double dampening = 0;
  double weight_decay = 0;
  bool nesterov = false;
  bool maximize = false;
};

template <Real T, HostBackend B = cpu_ref>
class sgd : public optimizer<sgd<T, B>, sgd_options, T, B> {
  using base = optimizer<sgd<T, B>, sgd_options, T, B>;
  friend base;

 public:
  static constexpr const char* kind_name = "sgd";

  struct state {
    tensor<T, B> momentum_buffer;  // defined when the group has momentum
    counter step;
  };

  sgd() = default;
  sgd(std::vector<param<T, B>> params, const sgd_options& options = {}) {
    this->add_param_group(std::move(params), options);
  }
  template <class Range>
    requires(std::ranges::range<Range> && !std::is_convertible_v<Range, std::vector<param<T, B>>>)
  sgd(Range&& params, const sgd_options& options = {}) {
    this->add_param_group(base::collect(params), options);
  }

  static void validate(const sgd_options& o) {
    require<value_error>(o.lr >= 0, "sgd: learning rate ", o.lr, " is negative");
    require<value_error>(o.momentum >= 0, "sgd: momentum ", o.momentum, " is negative");
    require<value_error>(o.weight_decay >= 0, "sgd: weight_decay ", o.weight_decay, " is negative");
    require<value_error>(!o.nesterov || (o.momentum > 0 && o.dampening == 0),
                         "sgd: nesterov momentum needs momentum > 0 and dampening 0 (momentum ", o.momentum,
                         ", dampening ", o.dampening, ")");
  }

  void step() {
    no_grad guard;
    for (std::size_t gi = 0; gi < this->groups_.size(); ++gi) {
      auto& group = this->groups_[gi];
      const sgd_options& o = group.options;
      validate(o);
      for (std::size_t pi = 0; pi < group.params.size(); ++pi) {
        auto& p = group.params[pi];
        const tensor<T, B> grad = base::grad_of(p);
        if (!grad.defined()) continue;
        state& s = states_[gi][pi];
        // PyTorch starts the buffer as a copy of the first gradient (also when momentum is
        // switched on after some plain steps).
        const bool first = s.step.data()[0] == 0 || !s.momentum_buffer.defined();
        ++s.step.data()[0];
        if (o.momentum != 0 && !s.momentum_buffer.defined()) s.momentum_buffer = tensor<T, B>::zeros(p.value.shape());
        const T wd = T(o.weight_decay), momentum = T(o.momentum), one_minus_dampening = T(1 - o.dampening),
                minus_lr = T(-o.lr);
        T* w = p.value.data();
        const T* gr = grad.data();
        T* buf = o.momentum != 0 ? s.momentum_buffer.data() : nullptr;
        const index_t n = p.value.numel();
        for (index_t i = 0; i < n; ++i) {
          T g = o.maximize ? -gr[i] : gr[i];
          if (o.weight_decay != 0) g = g + wd * w[i];
          if (buf) {
            buf[i] = first ? g : buf[i] * momentum + one_minus_dampening * g;
            g = o.nesterov ? g + momentum * buf[i] : buf[i];
          }
          w[i] = w[i] + minus_lr * g;
        }
      }
    }
  }

  const state& state_of(std::size_t group, std::size_t index) const { return states_.at(group).at(index); }

  // Calls f(name, tensor) for every state tensor (see adam::visit_state).
  template <class F>
  void visit_state(F&& f) {
    for (std::size_t gi = 0; gi < this->groups_.size(); ++gi) {
      const auto& group = this->groups_[gi];
      for (std::size_t pi = 0; pi < group.params.size(); ++pi) {
        const std::string prefix = std::string(kind_name) + "." + group.params[pi].name + ".";
        state& s = states_[gi][pi];
        if (group.options.momentum != 0) {
          if (!s.momentum_buffer.defined()) s.momentum_buffer = tensor<T, B>::zeros(group.params[pi].value.shape());
          f(prefix + "momentum_buffer", s.momentum_buffer);
        }
        f(prefix + "step", s.step);
      }
    }
  }

 private:
  void init_state(const typename base::group_type& g) {
    std::vector<state> st;
    for (const auto& p : g.params) {
      state s;
      if (g.options.momentum != 0) s.momentum_buffer = tensor<T, B>::zeros(p.value.shape());
      s.step = counter::zeros({});
      st.push_back(std::move(s));
    }
    states_.push_back(std::move(st));
  }

  std::vector<std::vector<state>> states_;
};

}  // namespace kpt::optim
