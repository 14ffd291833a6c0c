#pragma once
// Tape nodes. A recorded op owns the state its backward needs and points at the nodes (or leaf
// gradient slots) of its inputs; the graph is freed as backward walks it.
#include <array>
#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "kpt/core/tensor.hpp"

namespace kpt::autograd {

// Where the gradient of one input goes: the node that produced it, the slot of a leaf, or
// nowhere (an input that needs no gradient).
template <class T, class B>
struct edge {
  std::shared_ptr<node<T, B>> fn;
  std::shared_ptr<grad_slot<T, B>> slot;
};

template <class T, class B>
struct node {
  std::vector<edge<T, B>> next;  // one per input, in the op's argument order
  std::vector<kpt::shape> input_shapes;
  virtual ~node() = default;
  virtual std::string_view name() const = 0;
  // Fills grads[i] for the inputs that need a gradient (others may stay undefined), then frees
  // the saved state; a second call throws autograd_error.
  virtual void backward(const tensor<T, B>& grad_out, std::span<tensor<T, B>> grads) = 0;
};

// What an op learns from apply(): which inputs need a gradient and whether it is recorded
// (an op saves tensors for backward only when recording).
template <std::size_t N>
struct op_context {
  std::array<bool, N> needs_grad{};
  bool recording = false;
  bool needs(std::size_t i) const { return needs_grad[i]; }
};

template <class Op, class T, class B, std::size_t N>
struct op_node final : node<T, B> {
  op_node(Op&& op, const op_context<N>& ctx) : op_(std::move(op)), ctx_(ctx) {}

  std::string_view name() const override { return Op::name; }

  void backward(const tensor<T, B>& grad_out, std::span<tensor<T, B>> grads) override {
    require<autograd_error>(op_.has_value(), "backward: the graph through '", Op::name,
                            "' was already freed by an earlier backward(); run the forward again");
    std::array<tensor<T, B>, N> g;
    op_->backward(ctx_, grad_out, g);
    for (std::size_t i = 0; i < N; ++i) {
      if (!ctx_.needs(i) || !g[i].defined()) continue;
      require<shape_error>(g[i].shape() == this->input_shapes[i], "backward of '", Op::name,
                           "': gradient of input ", i, " has shape ", g[i].shape().str(),
                           " but the input has shape ", this->input_shapes[i].str(), " (a kpt bug)");
      grads[i] = std::move(g[i]);
    }
    op_.reset();  // free saved tensors now, not when the last handle to the output dies
  }

 private:
  std::optional<Op> op_;
  op_context<N> ctx_;
};

}  // namespace kpt::autograd
