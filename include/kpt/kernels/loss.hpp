#pragma once
// Kernel interface of the loss family: softmax cross-entropy over axis 1 of logits seen as
// [n, classes, inner] (inner = product of the trailing axes; items = n * inner).
#include <cstdint>

#include "kpt/core/shape.hpp"

namespace kpt::kernels {

struct cross_entropy_geom {
  index_t n = 0, classes = 0, inner = 1;
  index_t items() const { return n * inner; }
};

// Sums that cross_entropy divides: sum_i w_i * ce_i and sum_i w_i (in double, serial order, so
// the result does not depend on the thread count).
struct weighted_sum {
  double weighted = 0, weight = 0;
};

// Per backend:
// Item i = (b, s): lse[i] = log sum_c exp(x[b, c, s]) (computed with the max subtracted), and
// ce[i] = lse[i] - x[b, target[i], s]. Targets are already checked to be in [0, classes).
//   void cross_entropy_forward(B, const cross_entropy_geom&, const T* logits, const std::int64_t* target,
//                              T* lse, T* ce);
// weighted_sum cross_entropy_sums(B, index_t items, const T* ce, const T* weight /*nullptr: all 1*/);
// grad[b, c, s] = scale * w[i] * (exp(x[b, c, s] - lse[i]) - [c == target[i]]), w = 1 when weight is null.
//   void cross_entropy_backward(B, const cross_entropy_geom&, const T* logits, const std::int64_t* target,
//                               const T* weight, const T* lse, T scale, T* grad_logits);

}  // namespace kpt::kernels
