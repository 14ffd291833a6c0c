#pragma once
// What the micro benchmarks share: timing one body per iteration under Google Benchmark's manual
// time, and random inputs.
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdint>

#include "kpt/core/random.hpp"
#include "kpt/core/tensor.hpp"

namespace kpt_bench {

// Times body() per iteration (manual time); returns the mean seconds per iteration.
template <class F>
double time_loop(benchmark::State& state, F&& body) {
  using clock_type = std::chrono::steady_clock;
  double total = 0;
  for (auto _ : state) {
    const auto t0 = clock_type::now();
    body();
    const double secs = std::chrono::duration<double>(clock_type::now() - t0).count();
    state.SetIterationTime(secs);
    total += secs;
  }
  return total / double(state.iterations());
}

// A float tensor of shape s, uniform in [-1, 1).
template <class B>
kpt::tensor<float, B> random(const kpt::shape& s, std::uint64_t seed) {
  kpt::rng g(seed);
  auto t = kpt::tensor<float, B>::empty(s);
  for (auto& v : t.values()) v = float(g.uniform(-1.0, 1.0));
  return t;
}

}  // namespace kpt_bench
