#pragma once
// What SGD and Adam share: named parameters, parameter groups (each with its own options and
// learning rate), zero_grad, and per-parameter state visited by name for checkpoints.
//
//   std::vector<optim::param<float>> ps = {{"fc.weight", w}, {"fc.bias", b}};
//   optim::adam<float> opt(ps, {.lr = 1e-3});
//   opt.add_param_group({{"head.weight", h}}, {.lr = 1e-4});   // a second group
//   loss.backward(); opt.step(); opt.zero_grad();
//
// Parameters are tensor handles: the optimiser updates their buffers in place (under no_grad),
// so the network that owns them sees the new values. Host backends only (plain loops).
#include <cstdint>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "kpt/autograd/grad_mode.hpp"
#include "kpt/core/error.hpp"
#include "kpt/core/tensor.hpp"

namespace kpt::optim {

// A parameter and the name its optimiser state is saved under (use the state_dict key).
template <Real T, HostBackend B = cpu_ref>
struct param {
  std::string name;
  tensor<T, B> value;
};

template <class Options, Real T, HostBackend B>
struct param_group {
  std::vector<param<T, B>> params;
  Options options;
  double initial_lr = 0;  // options.lr when the group was added; schedules scale it
};

namespace detail {
template <class X>
struct is_param : std::false_type {};
template <class T, class B>
struct is_param<param<T, B>> : std::true_type {};

// The tensor of a range element: a tensor, a param, or anything that destructures as [name, tensor].
template <class T, class B, class E>
tensor<T, B> tensor_of(E&& e) {
  using X = std::remove_cvref_t<E>;
  if constexpr (std::is_same_v<X, tensor<T, B>>) return e;
  else if constexpr (is_param<X>::value) return e.value;
  else {
    auto&& [name, t] = e;
    (void)name;
    return t;
  }
}
}  // namespace detail

// Step counters live on the host whatever the backend.
using counter = tensor<std::int64_t, cpu_ref>;

template <class Derived, class Options, Real T, HostBackend B>
class optimizer {
 public:
  using value_type = T;
  using backend_type = B;
  using options_type = Options;
  using group_type = param_group<Options, T, B>;

  // Every range element becomes a param: a param itself, a [name, tensor] pair (a network's
  // parameter list), or a bare tensor (named by its index, "0", "1", ... as in PyTorch).
  template <class Range>
  static std::vector<param<T, B>> collect(Range&& r) {
    std::vector<param<T, B>> out;
    for (auto&& e : r) {
      using X = std::remove_cvref_t<decltype(e)>;
      if constexpr (std::is_same_v<X, tensor<T, B>>) out.push_back({std::to_string(out.size()), e});
      else if constexpr (detail::is_param<X>::value) out.push_back(e);
      else {
        auto&& [name, t] = e;
        out.push_back({std::string(name), t});
      }
    }
    return out;
  }

  // Adds a group; its parameters must be defined leaves, not in another group, with unique names.
  void add_param_group(std::vector<param<T, B>> params, const Options& options) {
    const char* op = Derived::kind_name;
    Derived::validate(options);
    for (std::size_t i = 0; i < params.size(); ++i) {
      const auto& p = params[i];
      require<value_error>(!p.name.empty(), op, ": parameter ", i, " of group ", groups_.size(), " has no name");
      require<value_error>(p.value.defined(), op, ": parameter '", p.name, "' is an undefined tensor");
      require<value_error>(p.value.is_leaf(), op, ": parameter '", p.name,
                           "' is the result of an op, not a leaf; optimise the leaf tensors (detach() it)");
      for (const auto& g : groups_)
        for (const auto& q : g.params) {
          require<value_error>(!q.value.same(p.value), op, ": parameter '", p.name, "' is already in a group (as '",
                               q.name, "'); a parameter may appear in one group only");
          require<value_error>(q.name != p.name, op, ": two parameters are named '", p.name,
                               "'; names identify the optimiser state and must be unique");
        }
      for (std::size_t j = 0; j < i; ++j) {
        require<value_error>(!params[j].value.same(p.value), op, ": parameter '", p.name, "' appears twice (also as '",
                             params[j].name, "')");
        require<value_error>(params[j].name != p.name, op, ": two parameters are named '", p.name, "'");
      }
    }
    groups_.push_back({std::move(params), options, options.lr});
    static_cast<Derived*>(this)->init_state(groups_.back());
  }

  std::size_t num_groups() const { return groups_.size(); }
  const group_type& group(std::size_t g) const { return groups_.at(g); }
  // A group's options, to change between steps (lr, weight decay, ...).
  Options& options(std::size_t g = 0) { return groups_.at(g).options; }
  const Options& options(std::size_t g = 0) const { return groups_.at(g).options; }
  double lr(std::size_t g = 0) const { return groups_.at(g).options.lr; }
  // Sets the learning rate of every group.
  void set_lr(double lr) {
    require<value_error>(lr >= 0, Derived::kind_name, ": learning rate ", lr, " is negative");
    for (auto& g : groups_) g.options.lr = lr;
  }
  double initial_lr(std::size_t g = 0) const { return groups_.at(g).initial_lr; }
  void set_initial_lr(std::size_t g, double lr) { groups_.at(g).initial_lr = lr; }

  // All parameters of all groups, in order.
  std::vector<tensor<T, B>> parameters() const {
    std::vector<tensor<T, B>> out;
    for (const auto& g : groups_)
      for (const auto& p : g.params) out.push_back(p.value);
    return out;
  }

  // PyTorch 1.13's default: gradients are zeroed in place, so a parameter that receives no
  // gradient in the next backward still takes a step (weight decay, momentum). set_to_none
  // drops them instead, and step() then skips those parameters.
  void zero_grad(bool set_to_none = false) {
    for (auto& g : groups_)
      for (auto& p : g.params) {
        if (set_to_none) {
          p.value.zero_grad();
        } else if (auto grad = p.value.grad(); grad.defined()) {
          B::fill(grad.data(), std::size_t(grad.numel()), T(0));
        }
      }
  }

 protected:
  // The gradient of p checked against its shape, or undefined when p has none.
  static tensor<T, B> grad_of(const param<T, B>& p) {
    tensor<T, B> g = p.value.grad();
    if (g.defined())
      require<shape_error>(g.shape() == p.value.shape(), Derived::kind_name, ": the gradient of '", p.name,
                           "' has shape ", g.shape().str(), " but the parameter has shape ", p.value.shape().str());
    return g;
  }

  std::vector<group_type> groups_;
};

}  // namespace kpt::optim
