#pragma once
// Zero-copy xtensor views of host tensors, so users can apply xtensor expressions to kpt data.
// The view aliases the tensor's buffer: keep the tensor alive while the view is used.
#include <array>
#include <cstddef>

#include <xtensor/xadapt.hpp>

#include "kpt/core/tensor.hpp"

namespace kpt {

namespace detail {
template <class T, class B>
std::vector<std::size_t> xt_shape(const tensor<T, B>& t) {
  return std::vector<std::size_t>(t.shape().begin(), t.shape().end());
}
}  // namespace detail

// A writable xtensor view of t (row-major, same shape).
template <class T, HostBackend B>
auto as_xtensor(tensor<T, B>& t) {
  return xt::adapt(t.data(), std::size_t(t.numel()), xt::no_ownership(), detail::xt_shape(t));
}
// A read-only xtensor view of t.
template <class T, HostBackend B>
auto as_xtensor(const tensor<T, B>& t) {
  return xt::adapt(t.data(), std::size_t(t.numel()), xt::no_ownership(), detail::xt_shape(t));
}

}  // namespace kpt
