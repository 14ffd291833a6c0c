#pragma once
// Reference dropout: one mask draw per group, in order.
#include "kpt/core/backend.hpp"
#include "kpt/kernels/dropout.hpp"

namespace kpt::kernels {

template <class T>
void dropout_apply(cpu_ref, const dropout_geom& g, const T* x, T* y) {
  const T scale = T(1.0 / (1.0 - g.p));
  for (index_t k = 0; k < g.groups; ++k) {
    const bool keep = dropout_keep(g, k);
    for (index_t i = k * g.group_size; i < (k + 1) * g.group_size; ++i) y[i] = keep ? x[i] * scale : T(0);
  }
}

}  // namespace kpt::kernels
