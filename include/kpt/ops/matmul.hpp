#pragma once
// matmul: batched matrix product with gradients. a [..., M, K] times b [..., K, N] -> [..., M, N];
// the leading (batch) dimensions are equal, or one operand has rank 2 and is shared by all batches.
#include "kpt/autograd/apply.hpp"
#include "kpt/kernels/matmul.hpp"

namespace kpt {

namespace ops_detail {

template <class T, class B>
struct matmul_op {
  static constexpr std::string_view name = "matmul";
  index_t batch = 1, M = 0, K = 0, N = 0;
  bool a_shared = false, b_shared = false;  // rank 2 with batch > 1
  tensor<T, B> a, b;                        // saved for backward

  kernels::gemm_geom product_geom() const {
    kernels::gemm_geom g;
    g.batch = batch, g.M = M, g.N = N, g.K = K;
    g.a_batch = a_shared ? 0 : M * K, g.a_rs = K, g.a_cs = 1;
    g.b_batch = b_shared ? 0 : K * N, g.b_rs = N, g.b_cs = 1;
    g.c_batch = M * N;
    return g;
  }

  tensor<T, B> forward(const autograd::op_context<2>& ctx, const tensor<T, B>& x, const tensor<T, B>& y) {
    auto c = tensor<T, B>::empty(out_shape);
    gemm(B{}, product_geom(), x.data(), y.data(), c.data());
    if (ctx.recording) {
      if (ctx.needs(1)) a = x;
      if (ctx.needs(0)) b = y;
    }
    return c;
  }

  void backward(const autograd::op_context<2>& ctx, const tensor<T, B>& gc, std::array<tensor<T, B>, 2>& grads) {
    if (ctx.needs(0)) {  // dA_b = dC_b * B_b^T, summed over batches when A is shared
      kernels::gemm_geom g;
      g.batch = batch, g.M = M, g.N = K, g.K = N;
      g.a_batch = M * N, g.a_rs = N, g.a_cs = 1;
      g.b_batch = b_shared ? 0 : K * N, g.b_rs = 1, g.b_cs = N;
      g.c_batch = a_shared ? 0 : M * K;
      grads[0] = tensor<T, B>::empty(a_shared ? kpt::shape{M, K} : a_shape);
      gemm(B{}, g, gc.data(), b.data(), grads[0].data());
    }
    if (ctx.needs(1)) {  // dB_b = A_b^T * dC_b
      kernels::gemm_geom g;
      grads[1] = tensor<T, B>::empty(b_shared ? kpt::shape{K, N} : b_shape);
      if (b_shared && !a_shared) {
        // sum_b A_b^T dC_b = A'^T dC' with the batches stacked: one product with K' = batch*M.
        g.batch = 1, g.M = K, g.N = N, g.K = batch * M;
        g.a_rs = 1, g.a_cs = K;
        g.b_rs = N, g.b_cs = 1;
        g.c_batch = K * N;
      } else {
        g.batch = batch, g.M = K, g.N = N, g.K = M;
        g.a_batch = a_shared ? 0 : M * K, g.a_rs = 1, g.a_cs = K;
        g.b_batch = M * N, g.b_rs = N, g.b_cs = 1;
        g.c_batch = b_shared ? 0 : K * N;
      }
      gemm(B{}, g, a.data(), gc.data(), grads[1].data());
    }
  }

  kpt::shape a_shape, b_shape, out_shape;
};

}  // namespace ops_detail

template <Real T, Backend B>
tensor<T, B> matmul(const tensor<T, B>& a, const tensor<T, B>& b) {
  require<shape_error>(a.defined() && b.defined(), "matmul: an operand is an undefined tensor");
  const kpt::shape& sa = a.shape();
  const kpt::shape& sb = b.shape();
  require<shape_error>(sa.rank() >= 2 && sb.rank() >= 2, "matmul: operands must have rank 2 or more, got shapes ",
                       sa.str(), " and ", sb.str());
  const index_t M = sa[sa.rank() - 2], K = sa[sa.rank() - 1], N = sb[sb.rank() - 1];
  require<shape_error>(sb[sb.rank() - 2] == K, "matmul: shapes ", sa.str(), " and ", sb.str(),
                       " do not fit (inner dimensions ", K, " and ", sb[sb.rank() - 2], " differ)");
  ops_detail::matmul_op<T, B> op;
  op.M = M, op.K = K, op.N = N;
  op.a_shape = sa, op.b_shape = sb;
  // The batch dimensions come from the operand of higher rank; a rank-2 operand is shared.
  const kpt::shape& lead = sa.rank() >= sb.rank() ? sa : sb;
  if (sa.rank() > 2 && sb.rank() > 2) {
    bool same = sa.rank() == sb.rank();
    for (int i = 0; same && i < sa.rank() - 2; ++i) same = sa[i] == sb[i];
    require<shape_error>(same, "matmul: shapes ", sa.str(), " and ", sb.str(),
                         " have different batch dimensions (they must be equal, or one operand must have rank 2)");
  }
  std::array<index_t, max_rank> dims{};
  for (int i = 0; i < lead.rank() - 2; ++i) {
    dims[std::size_t(i)] = lead[i];
    op.batch *= lead[i];
  }
  dims[std::size_t(lead.rank() - 2)] = M;
  dims[std::size_t(lead.rank() - 1)] = N;
  const kpt::shape out(std::span<const index_t>(dims.data(), std::size_t(lead.rank())));
  op.a_shared = sa.rank() == 2 && op.batch > 1;
  op.b_shared = sb.rank() == 2 && op.batch > 1;
  if (sa.rank() == 2 && sb.rank() == 2) op.batch = 1;

  op.out_shape = out;
  return autograd::apply(std::move(op), a, b);
}

}  // namespace kpt
