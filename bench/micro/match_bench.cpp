// Descriptor matching (kpt/eval/matching.hpp) against a naive double loop measured in the same run.
//
//   match_nn/n/d/threads       nearest neighbour of each of n queries among n train rows, d-dim
//   match_mutual/n/d/threads   mutual nearest neighbours (cv2 crossCheck), the HPatches homography step
//   match_naive/n/d            the naive loop: for each query, for each train row, sum of squares
// Counters: GFLOP/s (2 n^2 d flops per matching) and speedup = naive time / this time, the naive
// time being measured once per (n, d) in this run (median of a few runs, outside the timed loop).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <limits>
#include <map>
#include <mutex>
#include <vector>

#include "harness.hpp"
#include "kpt/backends/cpu/threads.hpp"
#include "kpt/core/random.hpp"
#include "kpt/eval/matching.hpp"

namespace {

using kpt::index_t;
using clock_type = std::chrono::steady_clock;

std::vector<float> unit_rows(index_t n, index_t d, std::uint64_t seed) {
  kpt::rng g(seed);
  std::vector<float> v(std::size_t(n * d));
  for (index_t i = 0; i < n; ++i) {
    double s = 0;
    for (index_t k = 0; k < d; ++k) s += double(v[std::size_t(i * d + k)] = float(g.normal())) * v[std::size_t(i * d + k)];
    for (index_t k = 0; k < d; ++k) v[std::size_t(i * d + k)] /= float(std::sqrt(s));
  }
  return v;
}

// The loop one writes first: every pair, squared differences, keep the smallest.
std::vector<index_t> naive_nn(const float* a, const float* b, index_t n, index_t m, index_t d) {
  std::vector<index_t> best(static_cast<std::size_t>(n));
  for (index_t i = 0; i < n; ++i) {
    float bd = std::numeric_limits<float>::infinity();
    for (index_t j = 0; j < m; ++j) {
      float s = 0;
      for (index_t k = 0; k < d; ++k) {
        const float e = a[i * d + k] - b[j * d + k];
        s += e * e;
      }
      if (s < bd) bd = s, best[std::size_t(i)] = j;
    }
  }
  return best;
}

struct data {
  std::vector<float> a, b;
};
const data& inputs(index_t n, index_t d) {
  static std::mutex mu;
  static std::map<std::pair<index_t, index_t>, data> cache;
  std::lock_guard lock(mu);
  auto& x = cache[{n, d}];
  if (x.a.empty()) x = {unit_rows(n, d, 1), unit_rows(n, d, 2)};
  return x;
}

// Seconds of one naive matching of (n, d): median of 3, measured once per run.
double naive_seconds(index_t n, index_t d) {
  static std::mutex mu;
  static std::map<std::pair<index_t, index_t>, double> cache;
  const auto& x = inputs(n, d);
  std::lock_guard lock(mu);
  if (auto it = cache.find({n, d}); it != cache.end()) return it->second;
  std::vector<double> t;
  for (int r = 0; r < 3; ++r) {
    const auto t0 = clock_type::now();
    benchmark::DoNotOptimize(naive_nn(x.a.data(), x.b.data(), n, n, d).data());
    t.push_back(std::chrono::duration<double>(clock_type::now() - t0).count());
  }
  std::sort(t.begin(), t.end());
  return cache[{n, d}] = t[1];
}

void run(benchmark::State& state, bool mutual) {
  const index_t n = state.range(0), d = state.range(1);
  kpt::set_num_threads(int(state.range(2)));
  const auto& x = inputs(n, d);
  const double naive = naive_seconds(n, d);
  const kpt::eval::descriptor_view A{x.a.data(), n, d}, B{x.b.data(), n, d};
  // Same answer as the naive loop (unit random rows: no near ties at this size).
  const auto check = kpt::eval::match_descriptors(A, B);
  const auto ref = naive_nn(x.a.data(), x.b.data(), std::min<index_t>(n, 50), n, d);
  for (std::size_t i = 0; i < ref.size(); ++i)
    if (check[i].train != ref[i]) state.SkipWithError("matching differs from the naive loop");
  const double per = kpt_bench::time_loop(
      state, [&] { benchmark::DoNotOptimize(kpt::eval::match_descriptors(A, B, {.mutual = mutual}).data()); });
  state.counters["GFLOP/s"] = 2.0 * double(n) * double(n) * double(d) / per * 1e-9;
  state.counters["speedup"] = naive / per;
  state.counters["naive_ms"] = naive * 1e3;
}

void BM_match_nn(benchmark::State& state) { run(state, false); }
void BM_match_mutual(benchmark::State& state) { run(state, true); }
BENCHMARK(BM_match_nn)
    ->ArgNames({"n", "d", "threads"})
    ->Args({300, 256, 1})
    ->Args({1000, 256, 1})
    ->Args({1000, 256, 2})
    ->Args({1000, 128, 1})
    ->Args({4000, 256, 2})
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_match_mutual)
    ->ArgNames({"n", "d", "threads"})
    ->Args({300, 256, 1})
    ->Args({1000, 256, 1})
    ->Args({1000, 256, 2})
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);

void BM_match_naive(benchmark::State& state) {
  const index_t n = state.range(0), d = state.range(1);
  const auto& x = inputs(n, d);
  for (auto _ : state) benchmark::DoNotOptimize(naive_nn(x.a.data(), x.b.data(), n, n, d).data());
}
BENCHMARK(BM_match_naive)->ArgNames({"n", "d"})->Args({1000, 256})->Unit(benchmark::kMillisecond);

}  // namespace
