#pragma once
// Transformed weights kept across calls (public side: kpt/backends/cpu/weight_cache.hpp).
//
// Why: Winograd writes 36 transformed values per 3x3 kernel (4x the weights' bytes) before its
// GEMMs, every call. At 240 x 320 the 256-channel layers at H/8 have only 80 tiles to spread that
// over: `perf record` of KeyPointNet inference put ~10 % of the time in the weight transform and
// its copy. In inference the weights do not change, so the kernel asks this cache first.
//
// Entries are found by the source weights' exact bytes, not by address or a version: the
// BatchNorm-folded weights of an inference are new tensors every call with the same values, and a
// buffer rewritten in place (an optimizer step, load_state_dict) keeps its address. The comparison
// reads the source once: a quarter of what the transform writes.
#include <cstddef>
#include <cstring>
#include <list>
#include <memory>
#include <mutex>

#include "kpt/backends/cpu/weight_cache.hpp"
#include "kpt/core/backend.hpp"
#include "kpt/core/shape.hpp"

namespace kpt::cpu_detail {

// What a transform makes, told apart by the address of a tag per (transform, arch, type): the
// layouts differ between arches (panel widths).
template <class Arch, class T>
inline constexpr char winograd_weights_tag = 0;
template <class Arch, class T>
inline constexpr char winograd_bf16_weights_tag = 0;

class weight_cache {
 public:
  struct key {
    const void* kind;
    index_t O, C;
    std::size_t source_bytes;
    bool operator==(const key&) const = default;
  };

  static weight_cache& instance();

  // The buffer prepared from `source` (key.source_bytes bytes) under `k`, or null when there is
  // none. The pointer keeps the entry alive while it is used, even if it is evicted meanwhile.
  std::shared_ptr<const void> find(const key& k, const void* source);
  // Keeps `prepared` (prepared_bytes) as the transform of `source` under `k`, evicting the least
  // recently used entries to make room; too big for the capacity: not kept.
  void insert(const key& k, const void* source, std::shared_ptr<const void> prepared, std::size_t prepared_bytes);
  bool enabled() const;

  kpt::cpu_weight_cache_info info() const;
  void set_capacity(std::size_t bytes);

 private:
  struct entry {
    key k;
    std::shared_ptr<std::byte[]> source;  // the exact bytes it was made from
    std::shared_ptr<const void> prepared;
    std::size_t bytes;  // source + prepared
  };
  weight_cache();
  void evict_locked(std::size_t keep);

  mutable std::mutex mutex_;
  std::list<entry> entries_;  // most recently used first
  std::size_t bytes_ = 0, capacity_ = 0;
  std::uint64_t hits_ = 0, misses_ = 0;
};

// The transformed weights (P values) for `source` (n_source values): from the cache when an equal
// source was transformed before, else make(P* out) fills n_prepared fresh values, which are then
// kept. Null when the cache is off (the caller transforms into its own scratch).
template <class P, class T, class Make>
std::shared_ptr<const P> cached_weights(const void* kind, index_t O, index_t C, const T* source, index_t n_source,
                                        index_t n_prepared, Make&& make) {
  weight_cache& cache = weight_cache::instance();
  if (!cache.enabled()) return nullptr;
  const weight_cache::key k{kind, O, C, std::size_t(n_source) * sizeof(T)};
  if (auto hit = cache.find(k, source)) return std::static_pointer_cast<const P>(hit);
  std::shared_ptr<P[]> out = kernels::host_memory::allocate<P>(std::size_t(n_prepared));
  make(out.get());
  std::shared_ptr<const P> prepared(out, out.get());
  cache.insert(k, source, prepared, std::size_t(n_prepared) * sizeof(P));
  return prepared;
}

}  // namespace kpt::cpu_detail
