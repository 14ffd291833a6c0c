// kpt-bench: whole-network benchmarks, one JSON object per line (the fields of issue 7):
//   {"case": ..., "threads": n, "ms_median": .., "images_per_s": .., "gflop": .., "gflops": ..,
//    "peak_gflops": .., "peak_fraction": .., "peak_rss_mb": .., "block_cache": true|false,
//    "weight_cache_mb": .., "arch": "avx512"|"avx2"|"sse2"}
// gflop is the convolution work of one call counted as direct sums (multiply-add = 2 FLOPs;
// training counts 3x the forward: forward, input gradient, weight gradient), gflops the rate
// achieved (Winograd layers do fewer multiply-adds, so this "equivalent" rate and peak_fraction
// can pass the FMA peak), peak_gflops the
// FP32 FMA peak of the same number of threads measured in the same process just before, and
// peak_rss_mb the case's own peak resident memory: every case runs in a child process of its own;
// weight_cache_mb what of it the cpu backend's cache of transformed weights held at the end
// (inference keeps Winograd's weights between calls; KPT_WEIGHT_CACHE_MB=0 turns that off).
//
//   kpt-bench [--case NAME] [--threads N] [--repeat R] [--list]
#include <sys/resource.h>
#include <sys/wait.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <functional>
#include <string>
#include <vector>

#include "kpt/backends/cpu.hpp"
#include "kpt/backends/cpu/arch.hpp"
#include "kpt/backends/cpu/matmul.hpp"
#include "kpt/backends/cpu/threads.hpp"
#include "kpt/core/host_blocks.hpp"
#include "workloads.hpp"

namespace {

using clock_type = std::chrono::steady_clock;

double fma_peak(int threads) {
  double best = 0;
  tbb::task_arena arena(threads);
  for (int attempt = 0; attempt < 5; ++attempt) {
    std::vector<double> flops(std::size_t(threads), 0.0);
    const auto t0 = clock_type::now();
    arena.execute([&] {
      tbb::parallel_for(0, threads, 1, [&](int i) { flops[std::size_t(i)] = kpt::kernels::fma_probe(kpt::cpu{}, 4'000'000); },
                        tbb::static_partitioner{});
    });
    const double secs = std::chrono::duration<double>(clock_type::now() - t0).count();
    double total = 0;
    for (double f : flops) total += f;
    best = std::max(best, total / secs * 1e-9);
  }
  return best;
}

// The process's own peak resident memory: VmHWM, whose count starts at exec. Not getrusage's
// ru_maxrss, which Linux carries over exec from the program that started us: under
// compare_torch.py it read at least the Python parent's ~227 MB (torch imported).
double peak_rss_mb() {
  std::FILE* f = std::fopen("/proc/self/status", "r");
  if (f) {
    char line[256];
    long kb = -1;
    while (kb < 0 && std::fgets(line, sizeof line, f)) std::sscanf(line, "VmHWM: %ld kB", &kb);
    std::fclose(f);
    if (kb >= 0) return double(kb) / 1024.0;
  }
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return double(u.ru_maxrss) / 1024.0;  // no /proc: the upper bound, in kilobytes on Linux
}

// The convolutions' bf16 mode, spelt as KPT_CONV_BF16 sets it (docs/config.md).
const char* conv_bf16() {
  switch (kpt::cpu_conv_bf16_mode()) {
    case kpt::cpu_conv_bf16::winograd: return "winograd";
    case kpt::cpu_conv_bf16::winograd_emulated: return "winograd-emulated";
    case kpt::cpu_conv_bf16::operands: return "1";
    default: return "0";
  }
}

int run_case(const kpt::bench::workload& w, int threads, int repeat) {
  kpt::set_num_threads(threads);
  const double peak = fma_peak(threads);
  auto step = w.make();
  step();  // warm-up: first-touch allocations, lazy initialisation
  std::vector<double> ms;
  for (int r = 0; r < repeat; ++r) {
    const auto t0 = clock_type::now();
    step();
    ms.push_back(std::chrono::duration<double, std::milli>(clock_type::now() - t0).count());
  }
  std::sort(ms.begin(), ms.end());
  const double median = ms[ms.size() / 2];
  const double rate = w.gflop / (median * 1e-3);
  std::printf(
      "{\"case\": \"%s\", \"threads\": %d, \"repeat\": %d, \"ms_median\": %.2f, \"ms_min\": %.2f, \"images_per_s\": "
      "%.3f, \"gflop\": %.3f, \"gflops\": %.2f, \"peak_gflops\": %.2f, \"peak_fraction\": %.3f, \"peak_rss_mb\": %.1f, "
      "\"block_cache\": %s, \"weight_cache_mb\": %.1f, \"arch\": \"%s\", \"conv_bf16\": \"%s\", \"bf16_dot\": %s}\n",
      w.name.c_str(), threads, repeat, median, ms.front(), double(w.images) / (median * 1e-3), w.gflop, rate, peak,
      rate / peak, peak_rss_mb(), kpt::detail::host_blocks::instance().enabled() ? "true" : "false",
      double(kpt::cpu_weight_cache().bytes) / double(1 << 20), kpt::cpu_arch(), conv_bf16(),
      kpt::cpu_bf16_dot() ? "true" : "false");
  std::fflush(stdout);
  return 0;
}

// run_case with errors (a bad KPT_CPU_ARCH, a failed allocation) reported as the case's failure.
int run_checked(const kpt::bench::workload& w, int threads, int repeat) {
  try {
    return run_case(w, threads, repeat);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "kpt-bench: case %s: %s\n", w.name.c_str(), e.what());
    return 1;
  }
}

[[noreturn]] void usage(int code) {
  std::fprintf(code ? stderr : stdout,
               "usage: kpt-bench [--case NAME] [--threads N] [--repeat R] [--list]\n"
               "  --case NAME   run one case (default: all, each in its own process)\n"
               "  --threads N   threads for kpt's parallel loops (default: all hardware threads)\n"
               "  --repeat R    timed repetitions after one warm-up (default: 5 inference, 3 training)\n"
               "  --list        print the case names\n");
  std::exit(code);
}

}  // namespace

int main(int argc, char** argv) {
  std::string only;
  int threads = int(std::max(1u, std::thread::hardware_concurrency()));
  int repeat = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "kpt-bench: %s needs a value\n", a.c_str());
        usage(2);
      }
      return argv[++i];
    };
    if (a == "--case") only = value();
    else if (a == "--threads") threads = std::atoi(value().c_str());
    else if (a == "--repeat") repeat = std::atoi(value().c_str());
    else if (a == "--list") {
      for (const auto& w : kpt::bench::workloads()) std::printf("%s\n", w.name.c_str());
      return 0;
    } else if (a == "--help" || a == "-h") usage(0);
    else {
      std::fprintf(stderr, "kpt-bench: unknown flag '%s'\n", a.c_str());
      usage(2);
    }
  }
  if (threads < 1 || repeat < 0) {
    std::fprintf(stderr, "kpt-bench: --threads must be >= 1 and --repeat >= 1\n");
    return 2;
  }
  const auto& all = kpt::bench::workloads();
  if (!only.empty()) {
    const auto it = std::find_if(all.begin(), all.end(), [&](const auto& w) { return w.name == only; });
    if (it == all.end()) {
      std::fprintf(stderr, "kpt-bench: unknown case '%s' (kpt-bench --list shows them)\n", only.c_str());
      return 2;
    }
    return run_checked(*it, threads, repeat ? repeat : it->default_repeat);
  }
  // Every case in a child process, so that peak_rss_mb is the case's own (the parent never
  // starts oneTBB, so forking is safe).
  int failures = 0;
  for (const auto& w : all) {
    std::fflush(stdout);
    const pid_t pid = fork();
    if (pid == 0) std::_Exit(run_checked(w, threads, repeat ? repeat : w.default_repeat));
    int status = 0;
    waitpid(pid, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      std::fprintf(stderr, "kpt-bench: case %s failed\n", w.name.c_str());
      ++failures;
    }
  }
  return failures ? 1 : 0;
}
