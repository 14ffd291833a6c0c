#pragma once
// Kernel interface of batched matrix products, shared by ops and backends.
//
// A strided batched GEMM: for every batch b < batch,
//   C_b (M x N) (+)= A_b (M x K) * B_b (K x N)
// with A_b(i, k) = a[b*a_batch + i*a_rs + k*a_cs] and B_b(k, j) = b[b*b_batch + k*b_rs + j*b_cs]
// (any strides: a transposed operand is a pair of swapped strides, a shared one has batch stride
// 0) and C row-major, C_b(i, j) = c[b*c_batch + i*N + j]. When c_batch == 0 every batch adds into
// the same C (the gradient of an operand shared by all batches).
//
// Backends implement, as overloads on their tag (T = float, double):
//   gemm(B, const gemm_geom&, const T* a, const T* b, T* c)
#include "kpt/core/shape.hpp"

namespace kpt::kernels {

struct gemm_geom {
  index_t batch = 1, M = 0, N = 0, K = 0;
  index_t a_batch = 0, a_rs = 0, a_cs = 0;
  index_t b_batch = 0, b_rs = 0, b_cs = 0;
  index_t c_batch = 0;
  bool accumulate = false;  // C += A*B instead of C = A*B
};

}  // namespace kpt::kernels
