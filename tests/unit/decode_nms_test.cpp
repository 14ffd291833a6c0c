// decode::nms_grid / nms_box / nms_maxpool: the suppression pattern of each variant around one
// point (SPEC 1.4 step 5), greedy semantics (a suppressed point suppresses nothing), magicleap's
// rounding and duplicate quirk, and the output order.
#include "support.hpp"

#include <set>

#include "kpt/decode/nms.hpp"

using namespace kpt;
using decode::candidate;

namespace {

// Whether a point at offset (dx, dy) from a stronger one survives `nms` (two points only).
template <class Nms>
bool survives(int dx, int dy, Nms nms) {
  const std::vector<candidate> c = {{20, 20, 1.0, 0}, {20.0 + dx, 20.0 + dy, 0.5, 1}};
  const auto kept = nms(c);
  BOOST_TEST(kept.front().score == 1.0);  // the strongest always survives, first
  return kept.size() == 2;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(decode_nms)

BOOST_AUTO_TEST_CASE(grid_suppresses_the_chebyshev_window) {
  for (int r : {1, 2, 4})
    for (int dy = -6; dy <= 6; ++dy)
      for (int dx = -6; dx <= 6; ++dx) {
        if (dx == 0 && dy == 0) continue;
        const bool expected = std::max(std::abs(dx), std::abs(dy)) > r;
        BOOST_TEST(survives(dx, dy, [r](const auto& c) { return decode::nms_grid(c, 40, 40, r); }) == expected,
                   "r " << r << " offset (" << dx << ", " << dy << ")");
      }
}

BOOST_AUTO_TEST_CASE(grid_is_greedy_and_sorted) {
  // A (0.9) suppresses B (0.8, 4 px away); C (0.7) is 4 px from B but 8 from A: B is gone, so C stays.
  // D (0.95) is alone. Output: by score.
  const std::vector<candidate> c = {{20, 20, 0.9, 0}, {24, 20, 0.8, 1}, {28, 20, 0.7, 2}, {5, 30, 0.95, 3}};
  const auto kept = decode::nms_grid(c, 40, 40, 4);
  BOOST_TEST_REQUIRE(kept.size() == 3u);
  BOOST_TEST(kept[0].source == 3);
  BOOST_TEST(kept[1].source == 0);
  BOOST_TEST(kept[2].source == 2);
}

BOOST_AUTO_TEST_CASE(grid_rounds_like_numpy_and_keeps_the_last_writer) {
  // 2.5 rounds to 2 (ties to even): 4 px from (6, 10) -> suppressed at radius 4; 3.5 rounds to 4.
  {
    const std::vector<candidate> c = {{6, 10, 0.9, 0}, {2.5, 10, 0.5, 1}};
    BOOST_TEST(decode::nms_grid(c, 20, 20, 4).size() == 1u);
    BOOST_TEST(decode::nms_grid(c, 20, 20, 3).size() == 2u);
  }
  // Two candidates rounding to (5, 5): the stronger wins the pixel, but magicleap reports the
  // weaker one (its index overwrote the stronger's in the grid of indices).
  const std::vector<candidate> c = {{5.2, 5, 0.9, 0}, {4.8, 5.1, 0.5, 1}, {15, 15, 0.7, 2}};
  const auto kept = decode::nms_grid(c, 20, 20, 2);
  BOOST_TEST_REQUIRE(kept.size() == 2u);
  BOOST_TEST(kept[0].source == 2);  // 0.7
  BOOST_TEST(kept[1].source == 1);  // 0.5, at (4.8, 5.1)
  BOOST_TEST(kept[1].x == 4.8);
  // Out of the image after rounding: an error naming the point.
  const std::vector<candidate> out = {{5, 5, 0.9, 0}, {19.6, 3, 0.5, 1}};
  BOOST_CHECK_THROW(decode::nms_grid(out, 20, 20, 2), value_error);
}

BOOST_AUTO_TEST_CASE(box_suppression_pattern_of_size_4) {
  // SPEC 1.4: s = 4, IoU > 0.1 suppresses Chebyshev <= 3 except (3, 2), (2, 3), (3, 3).
  for (int dy = -5; dy <= 5; ++dy)
    for (int dx = -5; dx <= 5; ++dx) {
      if (dx == 0 && dy == 0) continue;
      const int ax = std::abs(dx), ay = std::abs(dy);
      const bool suppressed = std::max(ax, ay) <= 3 && !(ax == 3 && ay >= 2) && !(ay == 3 && ax >= 2);
      BOOST_TEST(survives(dx, dy, [](const auto& c) { return decode::nms_box(c, 4.0, 0.1); }) == !suppressed,
                 "offset (" << dx << ", " << dy << ")");
    }
  // The IoU formula itself: (dx, dy) = (3, 1): inter 1 * 3 = 3, union 32 - 3 = 29, 3/29 > 0.1.
  BOOST_TEST(decode::box_overlap_suppresses(3, 1, 4, 0.1));
  BOOST_TEST(!decode::box_overlap_suppresses(3, 1, 4, 3.0 / 29.0 + 1e-9));
  // Boundary IoU exactly 0.1 (s = 11, offset (0, 9): inter 22, union 220) is not suppressed.
  BOOST_TEST(!decode::box_overlap_suppresses(0, 9, 11, 0.1));
  // Greedy: a chain a-b-c 3 px apart keeps a and c.
  const std::vector<candidate> c = {{10, 10, 0.9, 0}, {13, 10, 0.8, 1}, {16, 10, 0.7, 2}};
  const auto kept = decode::nms_box(c, 4.0);
  BOOST_TEST_REQUIRE(kept.size() == 2u);
  BOOST_TEST(kept[0].source == 0);
  BOOST_TEST(kept[1].source == 2);
}

BOOST_AUTO_TEST_CASE(maxpool_window_and_recovery) {
  const index_t h = 30, w = 30;
  // Two points: the weaker survives iff it is outside the (2r+1)^2 window of the stronger.
  for (int r : {1, 3})
    for (int dy = -5; dy <= 5; ++dy)
      for (int dx = -5; dx <= 5; ++dx) {
        if (dx == 0 && dy == 0) continue;
        std::vector<float> s(std::size_t(h * w), 0.f);
        s[std::size_t(15 * w + 15)] = 1.f;
        s[std::size_t((15 + dy) * w + 15 + dx)] = 0.5f;
        const auto keep = decode::nms_maxpool(std::span<const float>(s), h, w, r);
        BOOST_TEST(keep[std::size_t(15 * w + 15)] == 1);
        BOOST_TEST(bool(keep[std::size_t((15 + dy) * w + 15 + dx)]) == (std::max(std::abs(dx), std::abs(dy)) > r),
                   "r " << r << " offset (" << dx << ", " << dy << ")");
      }
  // Recovery: a (1.0) at x=10, b (0.9) at 13, c (0.8) at 16, r = 4. One max-pool pass keeps only a
  // (c sees b); the second pass zeroes b (inside a's window) and recovers c, as greedy NMS would.
  std::vector<float> s(std::size_t(h * w), 0.f);
  s[std::size_t(10 * w + 10)] = 1.0f, s[std::size_t(10 * w + 13)] = 0.9f, s[std::size_t(10 * w + 16)] = 0.8f;
  const auto keep = decode::nms_maxpool(std::span<const float>(s), h, w, 4);
  BOOST_TEST(keep[std::size_t(10 * w + 10)] == 1);
  BOOST_TEST(keep[std::size_t(10 * w + 13)] == 0);
  BOOST_TEST(keep[std::size_t(10 * w + 16)] == 1);
  const std::vector<candidate> c = {{10, 10, 1.0, 0}, {13, 10, 0.9, 1}, {16, 10, 0.8, 2}};
  BOOST_TEST(decode::nms_grid(c, h, w, 4).size() == 2u);
}

BOOST_AUTO_TEST_SUITE_END()
