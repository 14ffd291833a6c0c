#pragma once
// The reverse sweep: topological order over the nodes reachable from the output, gradients
// summed where a tensor fed several ops, leaf gradients accumulated into their slots.
#include <unordered_map>
#include <unordered_set>

#include "kpt/autograd/grad_mode.hpp"
#include "kpt/autograd/node.hpp"
#include "kpt/kernels/elementwise.hpp"

namespace kpt::autograd {

namespace detail {
// a + b, out of place: a gradient buffer may be shared by several consumers.
template <class T, class B>
void accumulate(tensor<T, B>& into, tensor<T, B> g) {
  if (!into.defined()) {
    into = std::move(g);
    return;
  }
  const auto geom = kernels::make_broadcast("backward (accumulate)", into.shape(), g.shape());
  require<shape_error>(geom.out == into.shape(), "backward: gradient of shape ", g.shape().str(),
                       " cannot accumulate into ", into.shape().str());
  auto sum = tensor<T, B>::empty(into.shape());
  binary(B{}, kernels::binary_fn::add, geom, into.data(), g.data(), sum.data());
  into = std::move(sum);
}
}  // namespace detail

// Back-propagates `seed` (the gradient of some scalar with respect to `out`, same shape as out)
// through the tape. kpt::tensor::backward() is the usual entry point; gradcheck uses this one.
template <class T, class B>
void backward(const tensor<T, B>& out, const tensor<T, B>& seed) {
  require<autograd_error>(out.defined(), "backward: the tensor is undefined");
  require<autograd_error>(out.requires_grad(),
                          "backward: the tensor does not require grad (no input was marked with "
                          "requires_grad_(), or it was computed under no_grad)");
  require<shape_error>(seed.shape() == out.shape(), "backward: seed shape ", seed.shape().str(),
                       " does not match output shape ", out.shape().str());
  no_grad guard;  // backward formulas are not themselves recorded
  if (out.is_leaf()) {
    auto& slot = *out.grad_slot();
    detail::accumulate(slot.grad, seed.clone());
    return;
  }
  // Iterative post-order DFS; reversed, it is a topological order (consumers before producers).
  std::vector<node<T, B>*> order;
  std::unordered_set<node<T, B>*> seen;
  std::vector<std::pair<node<T, B>*, std::size_t>> stack{{out.grad_fn().get(), 0}};
  seen.insert(out.grad_fn().get());
  while (!stack.empty()) {
    auto& [n, i] = stack.back();
    if (i < n->next.size()) {
      node<T, B>* child = n->next[i++].fn.get();
      if (child && seen.insert(child).second) stack.push_back({child, 0});
    } else {
      order.push_back(n);
      stack.pop_back();
    }
  }
  std::unordered_map<node<T, B>*, tensor<T, B>> pending;
  pending[out.grad_fn().get()] = seed;
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    node<T, B>* n = *it;
    auto found = pending.find(n);
    if (found == pending.end()) continue;  // no gradient reached this node
    tensor<T, B> g = std::move(found->second);
    pending.erase(found);
    std::vector<tensor<T, B>> grads(n->next.size());
    n->backward(g, grads);
    for (std::size_t i = 0; i < grads.size(); ++i) {
      if (!grads[i].defined()) continue;
      const auto& e = n->next[i];
      if (e.fn) detail::accumulate(pending[e.fn.get()], std::move(grads[i]));
      else if (e.slot) {
        // A leaf keeps its own copy: a gradient buffer may be shared with another input
        // (add passes g to both) and optimisers update grads in place.
        detail::accumulate(e.slot->grad, e.slot->grad.defined() ? std::move(grads[i]) : grads[i].clone());
      }
    }
  }
}

}  // namespace kpt::autograd

namespace kpt {

template <Scalar T, Backend B>
void tensor<T, B>::backward() const {
  require<autograd_error>(defined() && numel() == 1,
                          "backward: needs a scalar (one element) to start from, got shape ",
                          defined() ? shape().str() : std::string("undefined"),
                          "; reduce it first, e.g. with kpt::sum or kpt::mean");
  if constexpr (Real<T>) autograd::backward(*this, tensor<T, B>::ones(shape()));
}

template <Scalar T, Backend B>
std::string tensor<T, B>::node_name() const {
  return impl_ && impl_->grad_fn ? std::string(impl_->grad_fn->name()) : std::string("(leaf)");
}

}  // namespace kpt
