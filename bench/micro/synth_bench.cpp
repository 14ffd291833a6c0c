// Synthetic data generation throughput (images/s, one thread): SuperPoint's Synthetic Shapes at
// 120x160 and 240x320 (the 960x1280 canvas of RP, and a 480x640 canvas), the 128x128 Purdue set,
// and a SuperPoint training pair (shape + homography + warp + valid mask + photometric).
#include <benchmark/benchmark.h>

#include "kpt/data/homographic_pairs.hpp"
#include "kpt/data/purdue_shapes.hpp"
#include "kpt/data/synthetic_dataset.hpp"
#include "kpt/data/synthetic_shapes.hpp"

namespace {

using namespace kpt;
using namespace kpt::data;

// args: output height, width, canvas height (width = 4/3 of it)
void BM_synthetic_shapes(benchmark::State& state) {
  synthetic_shapes_config c;
  c.output = {state.range(0), state.range(1)};
  c.canvas = {state.range(2), state.range(2) * 4 / 3};
  index_t i = 0;
  for (auto _ : state) benchmark::DoNotOptimize(generate_shapes(c, 0, i++).image.data());
  state.SetItemsProcessed(state.iterations());
  state.SetLabel("images/s = items_per_second");
}
BENCHMARK(BM_synthetic_shapes)
    ->Args({120, 160, 960})
    ->Args({240, 320, 960})
    ->Args({120, 160, 480})
    ->Args({240, 320, 480})
    ->Unit(benchmark::kMillisecond)
    ->ArgNames({"H", "W", "canvasH"});

void BM_purdue_shapes(benchmark::State& state) {
  purdue_shapes_config c;
  index_t i = 0;
  for (auto _ : state) benchmark::DoNotOptimize(generate_purdue(c, 0, i++).image.data());
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_purdue_shapes)->Unit(benchmark::kMillisecond);

void BM_superpoint_training_pair(benchmark::State& state) {
  synthetic_dataset_options o;
  o.shapes.output = {state.range(0), state.range(1)};
  homographic_pairs pairs(synthetic_dataset(o), geometry::superpoint_homography_config::magicpoint_synthetic(),
                          {.valid_border_margin = 2, .photometric = photometric_config{}});
  index_t i = 0;
  for (auto _ : state) benchmark::DoNotOptimize(pairs.get(i++).warped.data());
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_superpoint_training_pair)->Args({120, 160})->Args({240, 320})->Unit(benchmark::kMillisecond);

}  // namespace
