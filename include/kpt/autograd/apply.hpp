#pragma once
// apply<Op>(op, inputs...): run an op's forward and, when grad mode is on and an input requires
// grad, record a tape node for it. An op is a struct with
//   static constexpr std::string_view name;
//   tensor forward(const op_context<N>&, const tensor&... inputs);
//   void backward(const op_context<N>&, const tensor& grad_out, std::array<tensor, N>& grads);
// Inputs may be undefined tensors (an absent bias): they never need a gradient.
#include "kpt/autograd/grad_mode.hpp"
#include "kpt/autograd/node.hpp"

namespace kpt::autograd {

template <class T, class B>
edge<T, B> edge_of(const tensor<T, B>& t) {
  if (!t.requires_grad()) return {};
  return {t.grad_fn(), t.is_leaf() ? t.grad_slot() : nullptr};
}

template <class Op, class T, class B, class... Rest>
  requires(std::same_as<Rest, tensor<T, B>> && ...)
tensor<T, B> apply(Op op, const tensor<T, B>& first, const Rest&... rest) {
  constexpr std::size_t N = 1 + sizeof...(Rest);
  op_context<N> ctx;
  ctx.needs_grad = {first.requires_grad(), rest.requires_grad()...};
  if constexpr (Real<T>) {
    bool any = false;
    for (bool b : ctx.needs_grad) any = any || b;
    ctx.recording = any && grad_enabled();
  }
  tensor<T, B> out = op.forward(ctx, first, rest...);
  if (ctx.recording) {
    auto n = std::make_shared<op_node<Op, T, B, N>>(std::move(op), ctx);
    n->next = {edge_of(first), edge_of(rest)...};
    n->input_shapes = {first.defined() ? first.shape() : kpt::shape{},
                       (rest.defined() ? rest.shape() : kpt::shape{})...};
    out.set_grad_fn(std::move(n));
  }
  return out;
}

}  // namespace kpt::autograd
