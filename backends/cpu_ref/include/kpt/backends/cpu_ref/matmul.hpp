#pragma once
// Reference batched GEMM: the textbook triple loop, accumulated in double.
#include <vector>

#include "kpt/core/backend.hpp"
#include "kpt/kernels/matmul.hpp"

namespace kpt::kernels {

template <class T>
void gemm(cpu_ref, const gemm_geom& g, const T* a, const T* b, T* c) {
  const bool shared_c = g.c_batch == 0;
  // Shared C: sum every batch in double before rounding once.
  std::vector<double> acc(shared_c ? std::size_t(g.M * g.N) : 0, 0.0);
  for (index_t bt = 0; bt < g.batch; ++bt) {
    const T* ab = a + bt * g.a_batch;
    const T* bb = b + bt * g.b_batch;
    T* cb = c + bt * g.c_batch;
    for (index_t i = 0; i < g.M; ++i)
      for (index_t j = 0; j < g.N; ++j) {
        double s = 0;
        for (index_t k = 0; k < g.K; ++k) s += double(ab[i * g.a_rs + k * g.a_cs]) * double(bb[k * g.b_rs + j * g.b_cs]);
        if (shared_c) acc[std::size_t(i * g.N + j)] += s;
        else cb[i * g.N + j] = T(g.accumulate ? double(cb[i * g.N + j]) + s : s);
      }
  }
  if (shared_c)
    for (index_t i = 0; i < g.M * g.N; ++i) c[i] = T(g.accumulate ? double(c[i]) + acc[std::size_t(i)] : acc[std::size_t(i)]);
}

}  // namespace kpt::kernels
