// The entry point of kpt-bench-micro: every bench/micro/*.cpp registers its benchmarks.
#include <benchmark/benchmark.h>

BENCHMARK_MAIN();
