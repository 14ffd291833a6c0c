#pragma once
// sum_to(g, s): the gradient of a broadcast. Sums g over the axes that broadcasting added or
// stretched, giving a tensor of shape s. Not recorded (used inside backward functions).
#include "kpt/core/tensor.hpp"
#include "kpt/kernels/elementwise.hpp"

namespace kpt::ops_detail {

template <class T, class B>
tensor<T, B> sum_to(const tensor<T, B>& g, const kpt::shape& s) {
  if (g.shape() == s) return g;
  const kpt::shape& gs = g.shape();
  require<shape_error>(gs.rank() >= s.rank(), "sum_to: cannot reduce ", gs.str(), " to ", s.str());
  unsigned mask = 0;
  const int lead = gs.rank() - s.rank();
  for (int i = 0; i < gs.rank(); ++i) {
    const bool added = i < lead;
    if (added || (s[i - lead] == 1 && gs[i] != 1)) mask |= 1u << i;
    else
      require<shape_error>(s[i - lead] == gs[i], "sum_to: cannot reduce ", gs.str(), " to ", s.str());
  }
  auto out = tensor<T, B>::empty(s);
  reduce_sum(B{}, kernels::make_reduce(gs, mask), g.data(), out.data());
  return out;
}

}  // namespace kpt::ops_detail
