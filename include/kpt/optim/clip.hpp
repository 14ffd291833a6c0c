#pragma once
// Gradient clipping, in place on the gradients of a range of parameters (tensors, optim::param,
// or [name, tensor] pairs); parameters without a gradient are skipped.
//
//   double norm = optim::clip_grad_norm(opt.parameters(), 1.0);   // torch.nn.utils.clip_grad_norm_
//   optim::clip_grad_value(opt.parameters(), 0.5);                 // torch.nn.utils.clip_grad_value_
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "kpt/autograd/grad_mode.hpp"
#include "kpt/core/error.hpp"
#include "kpt/core/tensor.hpp"
#include "kpt/optim/optimizer.hpp"

namespace kpt::optim {

namespace detail {
template <class Range>
auto grads_of(Range&& params) {
  using E = std::remove_cvref_t<decltype(*std::ranges::begin(params))>;
  using X = decltype([] {
    if constexpr (is_tensor<E>::value) return E{};
    else if constexpr (is_param<E>::value) return decltype(E::value){};
    else return std::remove_cvref_t<std::tuple_element_t<1, E>>{};
  }());
  std::vector<X> out;
  for (auto&& e : params) {
    const X g = tensor_of<typename X::value_type, typename X::backend_type>(e).grad();
    if (g.defined()) out.push_back(g);
  }
  return out;
}
}  // namespace detail

// Scales all gradients by min(1, max_norm / (total + 1e-6)), where total is the norm_type-norm
// of all gradients together (norm_type = infinity: the largest |g|). Returns total (computed in
// double). error_if_nonfinite: a NaN or infinite total is a numeric_error and nothing is scaled.
template <class Range>
double clip_grad_norm(Range&& params, double max_norm, double norm_type = 2.0, bool error_if_nonfinite = false) {
  require<value_error>(norm_type > 0, "clip_grad_norm: norm_type ", norm_type, " must be positive");
  no_grad guard;
  auto grads = detail::grads_of(params);
  if (grads.empty()) return 0.0;
  const bool inf_norm = std::isinf(norm_type);
  double total = 0;
  for (const auto& g : grads) {
    const auto* d = g.data();
    for (index_t i = 0; i < g.numel(); ++i) {
      const double a = std::abs(double(d[i]));
      if (inf_norm) total = std::isnan(a) || std::isnan(total) ? std::numeric_limits<double>::quiet_NaN() : std::max(total, a);
      else if (norm_type == 2.0) total += a * a;
      else if (norm_type == 1.0) total += a;
      else total += std::pow(a, norm_type);
    }
  }
  if (!inf_norm) total = norm_type == 2.0 ? std::sqrt(total) : norm_type == 1.0 ? total : std::pow(total, 1.0 / norm_type);
  require<numeric_error>(!error_if_nonfinite || std::isfinite(total), "clip_grad_norm: the total norm of order ",
                         norm_type, " of the gradients is ", total,
                         "; a gradient holds NaN or Inf (set error_if_nonfinite = false to scale anyway)");
  const double coef = std::min(max_norm / (total + 1e-6), 1.0);
  for (auto& g : grads) {
    using T = typename std::remove_cvref_t<decltype(g)>::value_type;
    const T c = T(coef);
    auto* d = g.data();
    for (index_t i = 0; i < g.numel(); ++i) d[i] *= c;
  }
  return total;
}

// Clamps every gradient value into [-clip_value, clip_value] (NaN stays NaN).
template <class Range>
void clip_grad_value(Range&& params, double clip_value) {
  require<value_error>(clip_value >= 0, "clip_grad_value: clip_value ", clip_value, " is negative");
  no_grad guard;
  for (auto& g : detail::grads_of(params)) {
    using T = typename std::remove_cvref_t<decltype(g)>::value_type;
    const T hi = T(clip_value), lo = T(-clip_value);
    auto* d = g.data();
    for (index_t i = 0; i < g.numel(); ++i)
      if (d[i] > hi) d[i] = hi;
      else if (d[i] < lo) d[i] = lo;
  }
}

}  // namespace kpt::optim
