#pragma once
// Large host buffers, kept for reuse by exact size.
//
// A training step frees and allocates the same activations and gradients every step (hundreds of
// MB). Handed back to the kernel on free, they page-fault and get zeroed again on the next step:
// ~15 % of a SuperPoint training step in `perf` (exc_page_fault, clear_page). Kept in malloc's
// heap instead (mallopt: no mmap, no trim), they fragment it: peak RSS grew by 0.3-1.1 GB.
// Here blocks of at least 1 MiB come from mmap and go to a cache on free, keyed by their exact
// size; the next request of that size takes one back, so from the second step on a step reuses
// the previous step's blocks without faults. A request the cache cannot serve first unmaps the
// oldest cached blocks until the cache holds no more than max(live, peak - live) bytes (live: in
// use now, peak: the most ever in use), so the footprint stays within max(2 live, peak): a
// workload that changes (another image size) does not pile up blocks it keeps missing, and a
// process that is between two inferences (little in use) keeps the blocks of the last one rather
// than unmapping them at the next inference's first new size. Measured (docs/performance.md):
// training steps 1.4-1.8x faster than unmapping on free; peak RSS 2.2 GB for SuperPoint where
// keeping malloc's heap (mallopt, the way before this cache) reached 2.9 GB; SuperPoint inference
// at 480 x 640 1.6x faster than with a cache bounded by the live bytes alone.
// KPT_NO_BLOCK_CACHE=1 in the environment (read once) unmaps every block on free instead: the
// baseline of that comparison.
#include <sys/mman.h>

#include <algorithm>
#include <cstddef>
#include <list>
#include <mutex>
#include <new>
#include <unordered_map>

#include "kpt/core/env.hpp"

namespace kpt::detail {

class host_blocks {
 public:
  static constexpr std::size_t min_bytes = std::size_t(1) << 20;

  // The one cache of the process, never destroyed: tensors in static storage may free their
  // blocks after main returns.
  static host_blocks& instance() {
    static host_blocks* cache = new host_blocks();
    return *cache;
  }

  // A page-aligned block of `bytes` (>= min_bytes); throws std::bad_alloc when the system has none.
  void* take(std::size_t bytes) {
    {
      std::lock_guard lock(mutex_);
      live_bytes_ += bytes;
      peak_live_ = std::max(peak_live_, live_bytes_);
      if (auto it = free_.find(bytes); it != free_.end()) {
        void* p = it->second->ptr;
        order_.erase(it->second);
        free_.erase(it);
        cached_bytes_ -= bytes;
        return p;
      }
      const std::size_t keep = std::max(live_bytes_, peak_live_ - live_bytes_);
      while (cached_bytes_ > keep && !order_.empty()) release_locked(order_.front());
    }
    void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
      std::lock_guard lock(mutex_);
      live_bytes_ -= bytes;
      throw std::bad_alloc();
    }
    return p;
  }

  void give_back(void* p, std::size_t bytes) {
    std::lock_guard lock(mutex_);
    live_bytes_ -= bytes;
    if (disabled_) {
      ::munmap(p, bytes);
      return;
    }
    order_.push_back({p, bytes});
    free_.emplace(bytes, std::prev(order_.end()));
    cached_bytes_ += bytes;
  }

  // Bytes in blocks handed out and not given back; bytes in cached blocks.
  std::size_t live_bytes() const {
    std::lock_guard lock(mutex_);
    return live_bytes_;
  }
  std::size_t cached_bytes() const {
    std::lock_guard lock(mutex_);
    return cached_bytes_;
  }
  // The most bytes ever handed out at once.
  std::size_t peak_live_bytes() const {
    std::lock_guard lock(mutex_);
    return peak_live_;
  }
  bool enabled() const { return !disabled_; }

 private:
  struct entry {
    void* ptr;
    std::size_t bytes;
  };

  host_blocks() {
    disabled_ = env_flag("KPT_NO_BLOCK_CACHE");
  }

  void release_locked(const entry& e) {
    auto [lo, hi] = free_.equal_range(e.bytes);
    for (auto it = lo; it != hi; ++it)
      if (it->second->ptr == e.ptr) {
        order_.erase(it->second);
        free_.erase(it);
        break;
      }
    cached_bytes_ -= e.bytes;
    ::munmap(e.ptr, e.bytes);
  }

  mutable std::mutex mutex_;
  std::list<entry> order_;  // cached blocks, oldest first
  std::unordered_multimap<std::size_t, std::list<entry>::iterator> free_;
  std::size_t live_bytes_ = 0, cached_bytes_ = 0, peak_live_ = 0;
  bool disabled_ = false;
};

}  // namespace kpt::detail
