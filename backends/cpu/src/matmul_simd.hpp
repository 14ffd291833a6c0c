#pragma once
// SIMD batched GEMM (kpt::kernels::gemm) on the shared driver of gemm_simd.hpp, and the FMA
// peak probe used by the benchmarks.
#include <cstdint>

#include "kpt/kernels/matmul.hpp"

namespace kpt::cpu_detail {

template <class Arch, class T>
void gemm_simd(Arch, const kernels::gemm_geom& g, const T* a, const T* b, T* c);
template <class Arch>
double fma_probe_simd(Arch, std::int64_t iterations);

}  // namespace kpt::cpu_detail

#ifdef KPT_CPU_ARCH
#include "gemm_simd.hpp"

namespace kpt::cpu_detail {

template <class Arch, class T>
void gemm_simd(Arch, const kernels::gemm_geom& g, const T* a, const T* b, T* c) {
  if (g.M == 0 || g.N == 0 || g.batch == 0) return;
  // A is packed once per distinct batch (once in all when it is shared).
  const index_t distinct = g.a_batch == 0 ? 1 : g.batch;
  const index_t asize = packed_a_size<Arch, T>(g.M, g.K);
  scratch<T, slot_a> apack(distinct * asize);
  for (index_t i = 0; i < distinct; ++i)
    pack_a<Arch>(g.M, g.K, a + i * g.a_batch, g.a_rs, g.a_cs, apack.get() + i * asize, g.K, 0);
  gemm_job<T> job;
  job.batch = g.batch, job.M = g.M, job.N = g.N, job.K = g.K;
  job.apack = apack.get();
  job.apack_batch = g.a_batch == 0 ? 0 : asize;
  job.c = c, job.ldc = g.N, job.c_batch = g.c_batch;
  job.accumulate = g.accumulate;
  if (g.batch == 1) job.c_batch = g.M * g.N;  // one product: nothing to sum
  gemm_run<Arch>(job, pack_b_strided<Arch, T>{b, g.b_batch, g.b_rs, g.b_cs});
}

template <class Arch>
double fma_probe_simd(Arch, std::int64_t iterations) {
  using V = xsimd::batch<float, Arch>;
  // Enough independent chains to cover the FMA latency (4 cycles) times the FMA ports (2), and few
  // enough to stay in registers with the two constants: 16 of AVX-512's 32, 12 of AVX2's 16. With 16
  // chains on AVX2 two of them spilled and the probe read 55 GFLOP/s on a Zen 3 core against 98
  // with 8-14 chains, which made every AVX2 peak fraction 1.8x too high.
  constexpr int chains = is_avx512<Arch> ? 16 : 12;
  V acc[chains];
  for (int i = 0; i < chains; ++i) acc[i] = V(float(i) * 0.01f);
  const V m(0.999f), add(0.001f);
  for (std::int64_t it = 0; it < iterations; ++it) {
#pragma GCC unroll 16
    for (int i = 0; i < chains; ++i) acc[i] = xsimd::fma(acc[i], m, add);
  }
  V sum(0.f);
  for (int i = 0; i < chains; ++i) sum += acc[i];
  // Keep the result observable so the loop cannot be removed.
  volatile float sink = xsimd::hadd(sum);
  (void)sink;
  return double(iterations) * chains * V::size * 2.0;
}

template void gemm_simd<KPT_CPU_ARCH, float>(KPT_CPU_ARCH, const kernels::gemm_geom&, const float*, const float*,
                                             float*);
template void gemm_simd<KPT_CPU_ARCH, double>(KPT_CPU_ARCH, const kernels::gemm_geom&, const double*, const double*,
                                              double*);
template double fma_probe_simd<KPT_CPU_ARCH>(KPT_CPU_ARCH, std::int64_t);

}  // namespace kpt::cpu_detail
#endif
