// Micro benchmarks of the convolution kernels against this machine's measured FP32 FMA peak.
//
//   fma_peak/threads:N      independent xsimd FMA chains (kpt::kernels::fma_probe) on N threads
//   conv2d_fwd<B>/shape/threads, conv2d_bwd_input<B>/..., conv2d_bwd_weight<B>/...
//                           3x3, padding 1, batch 1 at KeyPointNet's shapes; bwd_input = the
//                           input gradient, bwd_weight = the weight gradient, a forward's worth
//                           of FLOPs each. Counters: GFLOP/s and peak_frac (GFLOP/s over
//                           the FMA peak measured in this run with the same thread count). FLOPs
//                           are those of direct sums: the Winograd layers (64+ channels) do about
//                           a quarter of them, so their equivalent rate can pass the peak.
//   conv2d_bwd_bias<cpu>/shape/threads
//                           the bias gradient: a sum over dY, counter GB/s of dY read.
//   matmul<cpu>/n/threads   square n x n x n products.
// cpu_ref is the single-threaded scalar oracle: run once per shape (slow at large shapes).
#include <benchmark/benchmark.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include <chrono>
#include <map>
#include <mutex>
#include <string>

#include "harness.hpp"
#include "kpt/backends/cpu/conv.hpp"
#include "kpt/backends/cpu/matmul.hpp"
#include "kpt/backends/cpu/threads.hpp"
#include "kpt/backends/cpu_ref/conv.hpp"
#include "kpt/core/tensor.hpp"

namespace {

using kpt::index_t;
using clock_type = std::chrono::steady_clock;

// FLOPs of `iterations` FMA rounds on each of `threads` threads, run at once in an arena of
// that many threads; returns GFLOP/s over the wall time.
double fma_rate(int threads, std::int64_t iterations) {
  tbb::task_arena arena(threads);
  double flops[64] = {};
  const auto t0 = clock_type::now();
  arena.execute([&] {
    tbb::parallel_for(0, threads, 1, [&](int i) { flops[i] = kpt::kernels::fma_probe(kpt::cpu{}, iterations); },
                      tbb::static_partitioner{});
  });
  const double secs = std::chrono::duration<double>(clock_type::now() - t0).count();
  double total = 0;
  for (int i = 0; i < threads; ++i) total += flops[i];
  return total / secs * 1e-9;
}

// The FMA peak of `threads` threads, measured once per run (best of a few tries, ~0.1 s each).
double measured_peak(int threads) {
  static std::mutex m;
  static std::map<int, double> cache;
  std::lock_guard lock(m);
  auto it = cache.find(threads);
  if (it != cache.end()) return it->second;
  double best = 0;
  for (int i = 0; i < 5; ++i) best = std::max(best, fma_rate(threads, 4'000'000));
  cache[threads] = best;
  return best;
}

void BM_fma_peak(benchmark::State& state) {
  const int threads = int(state.range(0));
  kpt::set_num_threads(threads);
  double rate = 0;
  for (auto _ : state) rate = std::max(rate, fma_rate(threads, 4'000'000));
  state.counters["GFLOP/s"] = rate;
  state.counters["GFLOP/s/thread"] = rate / threads;
}
BENCHMARK(BM_fma_peak)->ArgName("threads")->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond);

struct conv_shape {
  index_t c, o, h, w;
  const char* label;
};
// KeyPointNet's 3x3 convolutions, then SuperPoint's first (one grey channel), batch 1.
constexpr conv_shape shapes[] = {{3, 32, 240, 320, "3->32 240x320"},
                                 {32, 32, 240, 320, "32->32 240x320"},
                                 {64, 64, 120, 160, "64->64 120x160"},
                                 {128, 128, 60, 80, "128->128 60x80"},
                                 {256, 256, 30, 40, "256->256 30x40"},
                                 {1, 64, 240, 320, "1->64 240x320"}};

using kpt_bench::random;
using kpt_bench::time_loop;

template <class B>
struct conv_data {
  kpt::kernels::conv_geom g;
  kpt::tensor<float, B> x, w, b, y, gy, gx, gw, gb;
  explicit conv_data(const conv_shape& s) {
    x = random<B>({1, s.c, s.h, s.w}, 1);
    w = random<B>({s.o, s.c, 3, 3}, 2);
    b = random<B>({s.o}, 3);
    const kpt::shape bs{s.o};
    g = kpt::kernels::make_conv2d("bench", x.shape(), w.shape(), &bs, 1, 1);
    y = kpt::tensor<float, B>::empty({1, s.o, g.HO, g.WO});
    gy = random<B>(y.shape(), 4);
    gx = kpt::tensor<float, B>::empty(x.shape());
    gw = kpt::tensor<float, B>::empty(w.shape());
    gb = kpt::tensor<float, B>::empty(b.shape());
  }
};

// Times body() per iteration, then sets GFLOP/s and peak_frac.
template <class F>
void timed(benchmark::State& state, double flops_per_iteration, int threads, F&& body) {
  const double gflops = flops_per_iteration / time_loop(state, body) * 1e-9;
  state.counters["GFLOP/s"] = gflops;
  state.counters["peak_frac"] = gflops / measured_peak(threads);
}

// One pass of the 3x3 layer shapes[state.range(0)] on state.range(1) threads, a forward's worth
// of FLOPs: pass(d) runs it on the layer's data.
template <class B, class Pass>
void conv_pass(benchmark::State& state, Pass pass) {
  const conv_shape& s = shapes[state.range(0)];
  const int threads = int(state.range(1));
  kpt::set_num_threads(threads);
  measured_peak(threads);  // outside the timed loop
  conv_data<B> d(s);
  state.SetLabel(s.label);
  timed(state, 2 * d.g.macs(), threads, [&] { pass(d); });
}

template <class B>
void BM_conv2d_fwd(benchmark::State& state) {
  conv_pass<B>(state, [](conv_data<B>& d) {
    // once: the whole cost, weight transform included, as a training step's forward pays it
    conv2d_forward(B{}, d.g, d.x.data(), d.w.data(), d.b.data(), {}, kpt::kernels::weight_reuse::once, d.y.data());
  });
}

// The two backward passes apart: training never asks a first layer for its input gradient, so the
// weight gradient alone is what its step costs.
template <class B>
void BM_conv2d_bwd_input(benchmark::State& state) {
  conv_pass<B>(state, [](conv_data<B>& d) {
    conv2d_backward_input(B{}, d.g, d.gy.data(), d.w.data(), d.gx.data());
  });
}

// The weight gradient alone: KeyPointNet's convolutions have no bias.
template <class B>
void BM_conv2d_bwd_weight(benchmark::State& state) {
  conv_pass<B>(state, [](conv_data<B>& d) {
    conv2d_backward_weight(B{}, d.g, d.x.data(), d.gy.data(), d.gw.data());
  });
}

// The bias gradient (SuperPoint's convolutions): one add per value of dY, so it runs at memory
// speed; GB/s of dY read. At 3->32 it takes a fifth as long as the weight gradient.
template <class B>
void BM_conv2d_bwd_bias(benchmark::State& state) {
  const conv_shape& s = shapes[state.range(0)];
  kpt::set_num_threads(int(state.range(1)));
  conv_data<B> d(s);
  state.SetLabel(s.label);
  const double secs =
      time_loop(state, [&] { conv2d_backward_bias(B{}, d.g, d.gy.data(), d.gb.data()); });
  state.counters["GB/s"] = double(d.gy.numel()) * sizeof(float) / secs * 1e-9;
}

void BM_matmul(benchmark::State& state) {
  const index_t n = state.range(0);
  const int threads = int(state.range(1));
  kpt::set_num_threads(threads);
  measured_peak(threads);
  auto a = random<kpt::cpu>({n, n}, 5), b = random<kpt::cpu>({n, n}, 6), c = kpt::tensor<float, kpt::cpu>::empty({n, n});
  kpt::kernels::gemm_geom g;
  g.M = g.N = g.K = n;
  g.a_rs = g.b_rs = n;
  g.a_cs = g.b_cs = 1;
  g.c_batch = n * n;
  timed(state, 2.0 * double(n) * double(n) * double(n), threads,
        [&] { kpt::kernels::gemm(kpt::cpu{}, g, a.data(), b.data(), c.data()); });
}

// Every layer shape on 1 and 2 threads for the fast backend; the cpu_ref oracle once, on 1.
void fast_conv_args(benchmark::internal::Benchmark* b) {
  b->ArgNames({"shape", "threads"})
      ->ArgsProduct({{0, 1, 2, 3, 4, 5}, {1, 2}})
      ->UseManualTime()
      ->Unit(benchmark::kMillisecond);
}
void oracle_conv_args(benchmark::internal::Benchmark* b) {
  b->ArgNames({"shape", "threads"})
      ->ArgsProduct({{0, 1, 2, 3, 4, 5}, {1}})
      ->UseManualTime()
      ->Iterations(1)
      ->Unit(benchmark::kMillisecond);
}

}  // namespace

BENCHMARK(BM_conv2d_fwd<kpt::cpu>)->Apply(fast_conv_args);
BENCHMARK(BM_conv2d_bwd_input<kpt::cpu>)->Apply(fast_conv_args);
BENCHMARK(BM_conv2d_bwd_weight<kpt::cpu>)->Apply(fast_conv_args);
BENCHMARK(BM_conv2d_bwd_bias<kpt::cpu>)->Apply(fast_conv_args);
BENCHMARK(BM_conv2d_fwd<kpt::cpu_ref>)->Apply(oracle_conv_args);
BENCHMARK(BM_conv2d_bwd_input<kpt::cpu_ref>)->Apply(oracle_conv_args);
BENCHMARK(BM_conv2d_bwd_weight<kpt::cpu_ref>)->Apply(oracle_conv_args);
BENCHMARK(BM_matmul)
    ->ArgNames({"n", "threads"})
    ->ArgsProduct({{256, 1024}, {1, 2}})
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);
