// Micro benchmark of 2x2 / stride 2 max pooling (SuperPoint's and KeyPointNet's encoders) on the
// cpu backend: the first pool of SuperPoint at 240x320, 64 channels, batch 1.
//
//   max_pool2d<cpu>/argmax:A/threads:N   A = 1 also writes the argmax (training), 0 not
//                                         (inference); counter GB/s of input read.
#include <benchmark/benchmark.h>

#include <cstdint>

#include "harness.hpp"
#include "kpt/backends/cpu/pool.hpp"
#include "kpt/backends/cpu/threads.hpp"

namespace {

void BM_max_pool2d(benchmark::State& state) {
  const bool with_argmax = state.range(0) != 0;
  kpt::set_num_threads(int(state.range(1)));
  const kpt::shape xs{1, 64, 240, 320};
  const auto x = kpt_bench::random<kpt::cpu>(xs, 1);
  const auto geom = kpt::kernels::make_pool2d("bench", xs, 2, 2, 0);
  auto y = kpt::tensor<float, kpt::cpu>::empty({1, 64, geom.oh, geom.ow});
  auto at = kpt::tensor<std::int64_t, kpt::cpu>::empty(y.shape());
  const double secs = kpt_bench::time_loop(
      state, [&] { max_pool2d_forward(kpt::cpu{}, geom, x.data(), y.data(), with_argmax ? at.data() : nullptr); });
  state.counters["GB/s"] = double(x.numel()) * sizeof(float) / secs * 1e-9;
}

}  // namespace

BENCHMARK(BM_max_pool2d)
    ->ArgNames({"argmax", "threads"})
    ->ArgsProduct({{0, 1}, {1, 2}})
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);
