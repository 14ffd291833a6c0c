#pragma once
// Walking the state of a network (a bound stack, a layer or a model) by name.
//
//   nn::visit_params(net, f)     every state_dict entry, in PyTorch's state_dict order, with names
//                                equal to PyTorch's keys ("conv1a.0.weight", "conv1a.1.running_var").
//                                f(name, t) or f(name, t, kind): t is tensor<T, B>& (weights, biases,
//                                running statistics) or tensor<std::int64_t, B>& (BatchNorm's
//                                num_batches_tracked), so f is usually a generic lambda; kind is
//                                nn::param_kind::parameter for trainable tensors (requires_grad,
//                                PyTorch's named_parameters) and nn::param_kind::buffer for
//                                running_mean, running_var and num_batches_tracked.
//   nn::visit_trainable(net, f)  the parameters only: f(name, tensor<T, B>&) (optimisers).
//   nn::param_names(net), nn::count_parameters(net), nn::count_buffers(net), nn::duplicate_names(net)
//   nn::init(net, rng)           re-initialise every layer (PyTorch's defaults), in state_dict order
//   nn::set_training(net, on)    train(on) on any bound layer
#include <algorithm>
#include <concepts>
#include <string>
#include <vector>

#include "kpt/nn/module.hpp"

namespace kpt::nn {

template <class Net, class F>
void visit_params(Net& net, F&& f) {
  path p;
  auto adapt = [&f](const std::string& name, auto& t, param_kind kind) {
    if constexpr (std::invocable<F&, const std::string&, decltype(t), param_kind>) f(name, t, kind);
    else f(name, t);
  };
  detail::visit(net, p, adapt);
}

template <class Net, class F>
void visit_trainable(Net& net, F&& f) {
  visit_params(net, [&f](const std::string& name, auto& t, param_kind kind) {
    if constexpr (Real<typename std::remove_cvref_t<decltype(t)>::value_type>)
      if (kind == param_kind::parameter) f(name, t);
  });
}

template <class Net>
std::vector<std::string> param_names(Net& net) {
  std::vector<std::string> names;
  visit_params(net, [&names](const std::string& name, auto&) { names.push_back(name); });
  return names;
}

// Number of trainable values (PyTorch: sum(p.numel() for p in m.parameters())).
template <class Net>
index_t count_parameters(Net& net) {
  index_t n = 0;
  visit_params(net, [&n](const std::string&, auto& t, param_kind kind) {
    if (kind == param_kind::parameter) n += t.numel();
  });
  return n;
}

// Number of buffer values (running statistics and num_batches_tracked).
template <class Net>
index_t count_buffers(Net& net) {
  index_t n = 0;
  visit_params(net, [&n](const std::string&, auto& t, param_kind kind) {
    if (kind == param_kind::buffer) n += t.numel();
  });
  return n;
}

// Names that occur more than once (empty for a well-formed network; a collision means two unnamed
// layers got the same position name in different containers: name one with nn::named).
template <class Net>
std::vector<std::string> duplicate_names(Net& net) {
  std::vector<std::string> names = param_names(net), dups;
  std::sort(names.begin(), names.end());
  for (std::size_t i = 1; i < names.size(); ++i)
    if (names[i] == names[i - 1] && (dups.empty() || dups.back() != names[i])) dups.push_back(names[i]);
  return dups;
}

template <class Net>
void init(Net& net, rng& g) {
  detail::reset(net, g);
}

template <class Net>
void set_training(Net& net, bool on) {
  detail::train(net, on);
}

}  // namespace kpt::nn
