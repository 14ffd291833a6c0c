#include "support.hpp"

#include "kpt/core/host_blocks.hpp"

#include <algorithm>

using namespace kpt;
using kpt::detail::host_blocks;

namespace {
constexpr std::size_t MiB = std::size_t(1) << 20;
}

// A freed block of 1 MiB or more comes back for the next request of its exact size, page-aligned;
// a request the cache cannot serve first unmaps cached blocks until the cache holds no more than
// max(live, peak - live) bytes. The cache is the process's, so sizes here are odd ones no other
// test uses.
BOOST_AUTO_TEST_CASE(host_blocks_are_reused_by_exact_size_and_bounded) {
  host_blocks& cache = host_blocks::instance();
  if (!cache.enabled()) {
    BOOST_TEST_MESSAGE("KPT_NO_BLOCK_CACHE is set: the cache is off, nothing to check");
    return;
  }
  const std::size_t small = 3 * MiB + 12 * 1024, large = 40 * MiB + 4 * 1024;
  void* a = cache.take(small);
  BOOST_TEST(reinterpret_cast<std::uintptr_t>(a) % 4096 == 0u);
  static_cast<char*>(a)[small - 1] = 1;  // writable to the end
  const std::size_t cached0 = cache.cached_bytes(), live0 = cache.live_bytes();
  cache.give_back(a, small);
  BOOST_TEST(cache.cached_bytes() == cached0 + small);
  BOOST_TEST(cache.live_bytes() == live0 - small);
  void* b = cache.take(small);
  BOOST_TEST(b == a);
  BOOST_TEST(cache.cached_bytes() == cached0);

  // Free a large block: now the cache may hold more than the bound. The next miss restores it,
  // and the large block (the oldest or not) is only unmapped as far as needed for that.
  void* big = cache.take(large);
  cache.give_back(b, small);
  cache.give_back(big, large);
  void* c = cache.take(small + 4096);
  const std::size_t live = cache.live_bytes();  // as when the miss was served
  BOOST_TEST(cache.cached_bytes() <= std::max(live, cache.peak_live_bytes() - live));
  cache.give_back(c, small + 4096);
}

// Between two inferences little is in use. The next inference's first request of a size the cache
// lacks must not unmap the blocks of the last one (every inference would page-fault all of its
// activations again: 1.6x slower at 480 x 640 for SuperPoint), while the footprint stays within
// max(2 live, peak).
BOOST_AUTO_TEST_CASE(host_blocks_keep_the_last_inference_between_runs) {
  host_blocks& cache = host_blocks::instance();
  if (!cache.enabled()) return;
  const std::size_t act = 24 * MiB + 8 * 1024, scratch = 7 * MiB + 20 * 1024, first = 2 * MiB + 28 * 1024;
  // The last inference: two activations and a scratch buffer live at once, then all freed.
  void* x = cache.take(act);
  void* y = cache.take(act);
  void* s = cache.take(scratch);
  cache.give_back(s, scratch);
  cache.give_back(x, act);
  cache.give_back(y, act);
  // The next one starts with a size that is not cached.
  void* f = cache.take(first);
  const std::size_t live = cache.live_bytes(), peak = cache.peak_live_bytes();
  BOOST_TEST(cache.cached_bytes() + live <= std::max(2 * live, peak));
  // Its activations get the last inference's blocks back from the cache: no new mapping, no page
  // faults.
  const std::size_t cached = cache.cached_bytes();
  void* x2 = cache.take(act);
  void* y2 = cache.take(act);
  BOOST_TEST(cache.cached_bytes() + 2 * act == cached);
  BOOST_TEST((x2 == x || x2 == y));
  BOOST_TEST((y2 == x || y2 == y));
  cache.give_back(y2, act);
  cache.give_back(x2, act);
  cache.give_back(f, first);
}

// Tensors of 1 MiB and more live in those blocks: a tensor freed and made again with the same size
// gets the same memory (what makes a second training step free of page faults).
BOOST_AUTO_TEST_CASE(large_tensors_reuse_freed_blocks) {
  if (!host_blocks::instance().enabled()) return;
  const float* first = nullptr;
  {
    auto t = tensor<float, cpu>::zeros({4, 256, 512});  // 2 MiB
    first = t.data();
  }
  auto u = tensor<float, cpu>::zeros({4, 256, 512});
  BOOST_TEST(u.data() == first);
  BOOST_TEST(u.to_vector()[4 * 256 * 512 - 1] == 0.0f);  // zeros() still fills a reused block
}
