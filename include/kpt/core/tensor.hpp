#pragma once
// kpt::tensor<T, Backend>: a contiguous, row-major array of rank 0 to 5 that can take part in
// reverse-mode differentiation. A tensor is a handle: copies share the same buffer and the
// same autograd identity (as in PyTorch); clone() makes a deep copy.
#include <cmath>
#include <concepts>
#include <memory>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include "kpt/core/backend.hpp"
#include "kpt/core/error.hpp"
#include "kpt/core/shape.hpp"

namespace kpt {

template <class T>
concept Scalar = std::same_as<T, float> || std::same_as<T, double> || std::same_as<T, std::int64_t> ||
                 std::same_as<T, std::int32_t> || std::same_as<T, std::uint8_t>;
template <class T>
concept Real = std::same_as<T, float> || std::same_as<T, double>;

template <Scalar T, Backend B>
class tensor;

namespace autograd {
template <class T, class B>
struct node;
// Where the gradient of a leaf tensor accumulates. Nodes point at it, not at the leaf's data,
// so the tape never keeps a leaf's buffer alive.
template <class T, class B>
struct grad_slot {
  tensor<T, B> grad;
};
}  // namespace autograd

namespace detail {
template <class T, class B>
struct tensor_impl {
  std::shared_ptr<T[]> data;
  kpt::shape shape;
  bool requires_grad = false;
  std::shared_ptr<autograd::grad_slot<T, B>> slot;  // leaves that require grad
  std::shared_ptr<autograd::node<T, B>> grad_fn;    // results of recorded ops
};
}  // namespace detail

template <Scalar T, Backend B>
class tensor {
 public:
  using value_type = T;
  using backend_type = B;

  // An undefined tensor (no buffer, no shape): defined() is false.
  tensor() = default;

  // Uninitialised storage of the given shape.
  static tensor empty(const kpt::shape& s) {
    tensor t;
    t.impl_ = std::make_shared<detail::tensor_impl<T, B>>();
    t.impl_->shape = s;
    t.impl_->data = B::template allocate<T>(std::size_t(s.numel()));
    return t;
  }
  static tensor full(const kpt::shape& s, T value) {
    tensor t = empty(s);
    B::fill(t.data(), std::size_t(t.numel()), value);
    return t;
  }
  static tensor zeros(const kpt::shape& s) { return full(s, T(0)); }
  static tensor ones(const kpt::shape& s) { return full(s, T(1)); }
  // Copies host values into a new tensor; values.size() must equal s.numel().
  static tensor from(const kpt::shape& s, std::span<const T> values) {
    require<shape_error>(index_t(values.size()) == s.numel(), "tensor::from: ", values.size(),
                         " values do not fill shape ", s.str(), " (", s.numel(), " elements)");
    tensor t = empty(s);
    B::copy_from_host(t.data(), values.data(), values.size());
    return t;
  }
  static tensor from(const kpt::shape& s, std::initializer_list<T> values) {
    return from(s, std::span<const T>(values.begin(), values.size()));
  }
  static tensor scalar(T value) { return full(kpt::shape{}, value); }

  bool defined() const { return impl_ != nullptr; }
  const kpt::shape& shape() const {
    require<error>(defined(), "tensor::shape: the tensor is undefined");
    return impl_->shape;
  }
  int rank() const { return shape().rank(); }
  index_t numel() const { return defined() ? impl_->shape.numel() : 0; }
  // Size of an axis; negative axes count from the end.
  index_t size(int axis) const { return shape()[shape().axis(axis, "tensor::size")]; }

  T* data() { return defined() ? impl_->data.get() : nullptr; }
  const T* data() const { return defined() ? impl_->data.get() : nullptr; }

  // ---- host access (host backends only) -----------------------------------------------
  std::span<T> values()
    requires B::is_host
  {
    return {data(), std::size_t(numel())};
  }
  std::span<const T> values() const
    requires B::is_host
  {
    return {data(), std::size_t(numel())};
  }
  // The single value of a one-element tensor.
  T item() const {
    require<shape_error>(numel() == 1, "tensor::item: needs exactly one element, shape is ",
                         defined() ? shape().str() : std::string("undefined"));
    T v;
    B::copy_to_host(&v, data(), 1);
    return v;
  }
  // Element at a full multi-index (bounds-checked; host backends only; slow, for tests and tools).
  T at(std::initializer_list<index_t> idx) const
    requires B::is_host
  {
    return data()[offset_of(idx)];
  }
  T& at(std::initializer_list<index_t> idx)
    requires B::is_host
  {
    return data()[offset_of(idx)];
  }
  // All values copied to a host vector (any backend).
  std::vector<T> to_vector() const {
    std::vector<T> v(static_cast<std::size_t>(numel()));
    B::copy_to_host(v.data(), data(), v.size());
    return v;
  }

  // Deep copy to another backend (no autograd history).
  template <Backend B2>
  tensor<T, B2> to() const {
    auto out = tensor<T, B2>::empty(shape());
    if constexpr (B::is_host) {
      B2::copy_from_host(out.data(), data(), std::size_t(numel()));
    } else {
      std::vector<T> tmp = to_vector();
      B2::copy_from_host(out.data(), tmp.data(), tmp.size());
    }
    return out;
  }
  // Deep copy on the same backend with no autograd history.
  tensor clone() const { return to<B>(); }
  // Same buffer, same shape, cut from the tape.
  tensor detach() const {
    tensor t;
    t.impl_ = std::make_shared<detail::tensor_impl<T, B>>();
    t.impl_->data = impl_->data;
    t.impl_->shape = impl_->shape;
    return t;
  }
  // Same buffer seen with another shape of equal size (no autograd: use kpt::reshape for that).
  tensor view_as(const kpt::shape& s) const {
    require<shape_error>(s.numel() == numel(), "tensor::view_as: cannot view ", shape().str(), " as ",
                         s.str(), " (", numel(), " vs ", s.numel(), " elements)");
    tensor t = detach();
    t.impl_->shape = s;
    return t;
  }

  // ---- autograd ------------------------------------------------------------------------
  bool requires_grad() const { return defined() && impl_->requires_grad; }
  // Marks a leaf as a parameter whose gradient backward() accumulates into grad().
  tensor& requires_grad_(bool on = true)
    requires Real<T>
  {
    require<autograd_error>(defined(), "tensor::requires_grad_: the tensor is undefined");
    require<autograd_error>(!impl_->grad_fn, "tensor::requires_grad_: only leaf tensors can be marked; "
                                             "this one is the result of '", node_name(), "' (use detach())");
    impl_->requires_grad = on;
    if (on && !impl_->slot) impl_->slot = std::make_shared<autograd::grad_slot<T, B>>();
    return *this;
  }
  bool is_leaf() const { return !defined() || !impl_->grad_fn; }
  // The accumulated gradient of a leaf (undefined before the first backward()).
  tensor grad() const { return impl_ && impl_->slot ? impl_->slot->grad : tensor{}; }
  void set_grad(tensor g) {
    require<autograd_error>(impl_ && impl_->slot, "tensor::set_grad: not a leaf that requires grad");
    impl_->slot->grad = std::move(g);
  }
  void zero_grad() {
    if (impl_ && impl_->slot) impl_->slot->grad = tensor{};
  }
  const std::shared_ptr<autograd::node<T, B>>& grad_fn() const { return impl_->grad_fn; }
  const std::shared_ptr<autograd::grad_slot<T, B>>& grad_slot() const { return impl_->slot; }
  // Reverse-mode differentiation from this scalar (defined in kpt/autograd/backward.hpp).
  void backward() const;

  // Internal: attach the node that produced this tensor.
  void set_grad_fn(std::shared_ptr<autograd::node<T, B>> fn) {
    impl_->grad_fn = std::move(fn);
    impl_->requires_grad = true;
  }
  // Two handles to the same tensor.
  bool same(const tensor& o) const { return impl_ == o.impl_; }

 private:
  std::string node_name() const;
  index_t offset_of(std::initializer_list<index_t> idx) const {
    const auto& s = shape();
    require<shape_error>(int(idx.size()) == s.rank(), "tensor::at: ", idx.size(), " indices for shape ",
                         s.str());
    index_t off = 0;
    int axis = 0;
    for (index_t i : idx) {
      require<value_error>(i >= 0 && i < s[axis], "tensor::at: index ", i, " out of range on axis ", axis,
                           " of shape ", s.str());
      off = off * s[axis] + i;
      ++axis;
    }
    return off;
  }

  std::shared_ptr<detail::tensor_impl<T, B>> impl_;
};

template <class X>
struct is_tensor : std::false_type {};
template <class T, class B>
struct is_tensor<tensor<T, B>> : std::true_type {};
template <class X>
concept Tensor = is_tensor<std::remove_cvref_t<X>>::value;

}  // namespace kpt

// The reverse sweep lives with autograd; included here so that tensor::backward() is always defined.
#include "kpt/autograd/backward.hpp"
