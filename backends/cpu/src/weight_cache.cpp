#include "weight_cache.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <string>

#include "kpt/core/error.hpp"

namespace kpt::cpu_detail {

namespace {
constexpr std::size_t default_mb = 256;

// KPT_WEIGHT_CACHE_MB: a whole number of MiB, 0 turning the cache off.
std::size_t capacity_from_env() {
  const char* env = std::getenv("KPT_WEIGHT_CACHE_MB");
  if (env == nullptr || *env == '\0') return default_mb << 20;
  char* end = nullptr;
  errno = 0;
  const unsigned long long mb = std::strtoull(env, &end, 10);
  require<value_error>(*end == '\0' && errno == 0 && env[0] != '-' && mb < (1ull << 40),
                       "KPT_WEIGHT_CACHE_MB=", env,
                       ": expected a whole number of MiB (0 turns the weight cache off; unset: ", default_mb, ")");
  return std::size_t(mb) << 20;
}
}  // namespace

weight_cache::weight_cache() : capacity_(capacity_from_env()) {}

weight_cache& weight_cache::instance() {
  // Never destroyed: a kernel may run after main returns (a static model's destructor does not,
  // but an exit handler might); its entries go back to the block cache, which is never destroyed.
  static weight_cache* cache = new weight_cache();
  return *cache;
}

bool weight_cache::enabled() const {
  std::lock_guard lock(mutex_);
  return capacity_ > 0;
}

std::shared_ptr<const void> weight_cache::find(const key& k, const void* source) {
  std::lock_guard lock(mutex_);
  for (auto it = entries_.begin(); it != entries_.end(); ++it)
    if (it->k == k && std::memcmp(it->source.get(), source, k.source_bytes) == 0) {
      entries_.splice(entries_.begin(), entries_, it);
      ++hits_;
      return it->prepared;
    }
  ++misses_;
  return nullptr;
}

void weight_cache::insert(const key& k, const void* source, std::shared_ptr<const void> prepared,
                          std::size_t prepared_bytes) {
  const std::size_t bytes = k.source_bytes + prepared_bytes;
  {
    std::lock_guard lock(mutex_);
    if (bytes > capacity_) return;
  }
  // The copy is made outside the lock; another thread may insert the same weights meanwhile,
  // which only costs the room of a duplicate until it is evicted.
  auto copy = kernels::host_memory::allocate<std::byte>(k.source_bytes);
  std::memcpy(copy.get(), source, k.source_bytes);
  std::lock_guard lock(mutex_);
  if (bytes > capacity_) return;
  evict_locked(capacity_ - bytes);
  entries_.push_front({k, std::move(copy), std::move(prepared), bytes});
  bytes_ += bytes;
}

void weight_cache::evict_locked(std::size_t keep) {
  while (bytes_ > keep && !entries_.empty()) {
    bytes_ -= entries_.back().bytes;
    entries_.pop_back();
  }
}

kpt::cpu_weight_cache_info weight_cache::info() const {
  std::lock_guard lock(mutex_);
  return {entries_.size(), bytes_, capacity_, hits_, misses_};
}

void weight_cache::set_capacity(std::size_t bytes) {
  std::lock_guard lock(mutex_);
  capacity_ = bytes;
  evict_locked(bytes);
}

}  // namespace kpt::cpu_detail

namespace kpt {

cpu_weight_cache_info cpu_weight_cache() { return cpu_detail::weight_cache::instance().info(); }

void set_cpu_weight_cache_mb(std::size_t mb) {
  require<value_error>(mb < (std::size_t(1) << 40), "set_cpu_weight_cache_mb: ", mb, " MiB is not a capacity");
  cpu_detail::weight_cache::instance().set_capacity(mb << 20);
}

}  // namespace kpt
