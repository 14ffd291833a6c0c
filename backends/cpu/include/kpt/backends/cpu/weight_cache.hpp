#pragma once
// The cpu backend's cache of transformed convolution weights, kept across inference calls.
//
// A 3x3 convolution that runs as Winograd transforms its weights first (36 values per 3x3
// kernel, packed for the GEMM). With autograd off (inference) the same weights come back every
// call, so the transform is kept and found again by the weights' exact values: a hit costs one
// comparison with a copy of the weights, a change of any bit (an optimizer step, load_state_dict,
// another model) is a miss. The cache holds at most its capacity, least recently used entries
// going first; the default is KPT_WEIGHT_CACHE_MB from the environment (read once), else 256 MB.
#include <cstddef>
#include <cstdint>

namespace kpt {

struct cpu_weight_cache_info {
  std::size_t entries = 0;
  std::size_t bytes = 0;           // held now: transformed weights and the copies they are checked against
  std::size_t capacity_bytes = 0;  // 0: off
  std::uint64_t hits = 0, misses = 0;
};

// What the cache holds and how often it was used since the process started.
cpu_weight_cache_info cpu_weight_cache();
// Sets the capacity (0 turns the cache off) and drops entries until they fit in it.
void set_cpu_weight_cache_mb(std::size_t mb);

}  // namespace kpt
