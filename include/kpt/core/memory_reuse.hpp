#pragma once
// Keep freed memory inside the process instead of handing it back to the kernel.
//
// A training step allocates and frees the same large activations and gradients every step
// (hundreds of MB at batch 8, 240x320). glibc serves blocks above 32 MB with mmap and returns them
// with munmap on free, so every step pays page faults and zeroing for memory it just had:
// measured at ~15 % of a SuperPoint training step (perf: exc_page_fault, clear_page, memcg). With
// mmap off and no trimming, freed blocks return to malloc's heap and are reused: the SuperPoint
// step 7.8 -> 5.6 s, KeyPointNet 11.3 -> 9.1 s (2 threads, kpt-bench side by side with
// KPT_SYSTEM_MALLOC=1; docs/performance.md), at more peak RSS: the heap fragments (SuperPoint
// 1.8 -> 2.9 GB, KeyPointNet 2.8 -> 3.0 GB).
//
// This changes malloc for the whole process, so a library never does it on its own: programs call
// it first thing in main (the kpt program and kpt-bench do). Environment KPT_SYSTEM_MALLOC=1 leaves
// malloc as it is (the baseline of that comparison). Returns whether the setting was applied.
#include <cstdlib>
#include <cstring>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace kpt {

inline bool keep_freed_memory() {
  if (const char* v = std::getenv("KPT_SYSTEM_MALLOC"); v != nullptr && std::strcmp(v, "0") != 0) return false;
#if defined(__GLIBC__)
  return mallopt(M_MMAP_MAX, 0) == 1 &&                // every block from the heap, so freed ones are reused
         mallopt(M_TRIM_THRESHOLD, 0x7fffffff) == 1 &&  // never shrink the heap (2 GiB of free top at most)
         mallopt(M_TOP_PAD, 512 << 20) == 1;            // grow it in large steps: fewer brk calls
#else
  return false;
#endif
}

}  // namespace kpt
