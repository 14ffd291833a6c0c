#include "support.hpp"

#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "kpt/autograd/grad_mode.hpp"
#include "kpt/backends/cpu/arch.hpp"
#include "kpt/ops/conv.hpp"

// The cpu backend keeps Winograd's transformed weights between inference calls
// (kpt/backends/cpu/weight_cache.hpp). Kept or not, a convolution must give the same bits, and
// a weight changed in any way must never be served its old transform.
using namespace kpt;
using kpt::test::random_tensor;

namespace {

using tcpu = tensor<float, cpu>;

// Winograd (and so the cache) runs on AVX-512 and AVX2; the SSE2 run of this suite checks that
// the results are the same there without it.
bool caches() { return std::string(cpu_arch()) != "sse2"; }

// Sets the capacity for one test and puts the previous one back after it.
struct capacity_guard {
  std::size_t previous_mb = cpu_weight_cache().capacity_bytes >> 20;
  explicit capacity_guard(std::size_t mb) { set_cpu_weight_cache_mb(mb); }
  ~capacity_guard() { set_cpu_weight_cache_mb(previous_mb); }
};

// A convolution in inference (autograd not recording: the kernel is told the weights come again).
tcpu infer(const tcpu& x, const tcpu& w, const tcpu& b) {
  no_grad guard;
  return conv2d(x, w, b, {1, 1});
}
// The same with autograd recording: the kernel transforms the weights afresh and keeps nothing.
tcpu train(const tcpu& x, const tcpu& w, const tcpu& b) {
  tcpu wr = w.detach();
  wr.requires_grad_();
  return conv2d(x, wr, b, {1, 1}).detach();
}

bool same_bits(const tcpu& a, const tcpu& b) {
  return a.shape() == b.shape() && std::memcmp(a.data(), b.data(), std::size_t(a.numel()) * sizeof(float)) == 0;
}

// Winograd shapes: 64+ channels, 3x3, stride 1, 64+ tiles of 4 x 4 outputs.
const shape x_shape{1, 64, 32, 40}, w_shape{64, 64, 3, 3};

}  // namespace

BOOST_AUTO_TEST_CASE(kept_winograd_weights_give_the_bits_of_a_fresh_transform) {
  capacity_guard cap(256);
  const auto x = random_tensor<float, cpu>(x_shape, 11), w = random_tensor<float, cpu>(w_shape, 12);
  const auto b = random_tensor<float, cpu>({64}, 13);
  const auto want = train(x, w, b);
  const auto before = cpu_weight_cache();
  const auto first = infer(x, w, b), second = infer(x, w, b);
  // A copy of the weights (as BatchNorm folding makes every call) is found by its values.
  const auto third = infer(x, w.clone(), b);
  const auto after = cpu_weight_cache();
  BOOST_TEST(same_bits(first, want));
  BOOST_TEST(same_bits(second, want));
  BOOST_TEST(same_bits(third, want));
  if (caches()) {
    BOOST_TEST(after.misses - before.misses == 1u);
    BOOST_TEST(after.hits - before.hits == 2u);
    BOOST_TEST(after.entries >= 1u);
  } else {
    BOOST_TEST(after.hits == before.hits);
    BOOST_TEST(after.misses == before.misses);
  }
  // And the kept path is a correct convolution, not only a repeatable one.
  const auto ref = conv2d(x.to<cpu_ref>(), w.to<cpu_ref>(), b.to<cpu_ref>(), {1, 1});
  BOOST_TEST(test::max_rel_diff(second, ref) <= 3e-4);
}

BOOST_AUTO_TEST_CASE(weights_changed_in_place_are_transformed_again) {
  capacity_guard cap(256);
  const auto x = random_tensor<float, cpu>(x_shape, 21), b = random_tensor<float, cpu>({64}, 23);
  auto w = random_tensor<float, cpu>(w_shape, 22);
  const auto old_y = infer(x, w, b);
  // Same buffer, same address, one weight changed (as an optimizer step or load_state_dict does);
  // the last weight, so that a comparison that stopped short would miss it.
  w.values().back() += 0.5f;
  const auto misses = cpu_weight_cache().misses;
  const auto new_y = infer(x, w, b);
  BOOST_TEST(!same_bits(new_y, old_y));
  BOOST_TEST(same_bits(new_y, train(x, w, b)));
  if (caches()) BOOST_TEST(cpu_weight_cache().misses == misses + 1);
}

BOOST_AUTO_TEST_CASE(the_capacity_bounds_what_is_kept) {
  const auto x = random_tensor<float, cpu>(x_shape, 31), b = random_tensor<float, cpu>({64}, 34);
  const auto w1 = random_tensor<float, cpu>(w_shape, 32), w2 = random_tensor<float, cpu>(w_shape, 33);
  {
    // One 64 x 64 entry is ~0.7 MB (36 transformed values per kernel and the 9 it came from), so
    // 1 MiB holds one: w1, w2, w1 miss three times, least recently used first out.
    capacity_guard cap(1);
    const auto before = cpu_weight_cache();
    BOOST_TEST(before.entries <= 1u);
    BOOST_TEST(before.capacity_bytes == std::size_t(1) << 20);
    const auto y1 = infer(x, w1, b), y2 = infer(x, w2, b), y1_again = infer(x, w1, b);
    const auto after = cpu_weight_cache();
    BOOST_TEST(same_bits(y1, train(x, w1, b)));
    BOOST_TEST(same_bits(y2, train(x, w2, b)));
    BOOST_TEST(same_bits(y1_again, y1));
    BOOST_TEST(after.bytes <= after.capacity_bytes);
    if (caches()) {
      BOOST_TEST(after.misses - before.misses == 3u);
      BOOST_TEST(after.hits == before.hits);
      BOOST_TEST(after.entries == 1u);
      BOOST_TEST(after.bytes > 0u);
    }
  }
  {
    // 0 turns it off: nothing kept, nothing looked up, the same results.
    capacity_guard cap(0);
    const auto before = cpu_weight_cache();
    BOOST_TEST(before.entries == 0u);
    BOOST_TEST(before.bytes == 0u);
    BOOST_TEST(same_bits(infer(x, w1, b), train(x, w1, b)));
    const auto after = cpu_weight_cache();
    BOOST_TEST(after.hits == before.hits);
    BOOST_TEST(after.misses == before.misses);
    BOOST_TEST(after.entries == 0u);
  }
}

BOOST_AUTO_TEST_CASE(threads_share_the_cache_while_entries_are_evicted) {
  // Two user threads run inference with their own weights through a cache that holds one layer,
  // so each insert evicts the entry the other thread may be computing with at that moment.
  capacity_guard cap(1);
  const auto x = random_tensor<float, cpu>(x_shape, 51), b = random_tensor<float, cpu>({64}, 54);
  const tcpu w[2] = {random_tensor<float, cpu>(w_shape, 52), random_tensor<float, cpu>(w_shape, 53)};
  const tcpu want[2] = {train(x, w[0], b), train(x, w[1], b)};
  int wrong[2] = {0, 0};
  const auto before = cpu_weight_cache();
  {
    std::vector<std::jthread> users;
    for (int t = 0; t < 2; ++t)
      users.emplace_back([&, t] {
        for (int i = 0; i < 8; ++i) wrong[t] += !same_bits(infer(x, w[t], b), want[t]);
      });
  }
  BOOST_TEST(wrong[0] == 0);
  BOOST_TEST(wrong[1] == 0);
  const auto after = cpu_weight_cache();
  if (caches()) BOOST_TEST(after.hits + after.misses - (before.hits + before.misses) == 16u);
  BOOST_TEST(after.bytes <= after.capacity_bytes);
}

// ctest runs this case alone with KPT_WEIGHT_CACHE_MB=lots (tests/CMakeLists.txt): the first
// convolution that would use the cache reports the variable and what it expects.
BOOST_AUTO_TEST_CASE(a_bad_weight_cache_variable_is_reported) {
  const char* env = std::getenv("KPT_WEIGHT_CACHE_MB");
  if (env == nullptr || std::string(env) != "lots") {
    BOOST_TEST_MESSAGE("skipped: runs as the ctest case parity.weight_cache_env (KPT_WEIGHT_CACHE_MB=lots)");
    return;
  }
  const auto x = random_tensor<float, cpu>(x_shape, 41), w = random_tensor<float, cpu>(w_shape, 42);
  BOOST_CHECK_EXCEPTION(cpu_weight_cache(), value_error, [](const value_error& e) {
    const std::string what = e.what();
    return what.find("KPT_WEIGHT_CACHE_MB=lots") != std::string::npos && what.find("whole number") != std::string::npos;
  });
  BOOST_CHECK_THROW(infer(x, w, tcpu{}), value_error);
}
