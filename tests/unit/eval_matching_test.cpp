// Descriptor matching (kpt/eval/matching.hpp): hand cases, and agreement with a brute-force
// double-precision search on random data, including exact ties and several GEMM blocks.
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <limits>
#include <vector>

#include "kpt/core/random.hpp"
#include "kpt/eval/matching.hpp"

using namespace kpt;
using namespace kpt::eval;

namespace {

std::vector<float> random_rows(index_t n, index_t d, std::uint64_t seed, bool integers) {
  rng g(seed);
  std::vector<float> v(std::size_t(n * d));
  for (auto& x : v) x = integers ? float(g.below(4)) : float(g.uniform(-1.0, 1.0));
  return v;
}

double dist2(const float* a, const float* b, index_t d) {
  double s = 0;
  for (index_t k = 0; k < d; ++k) s += (double(a[k]) - b[k]) * (double(a[k]) - b[k]);
  return s;
}

// First index of the minimum over j of |q_i - t_j|^2.
index_t brute_nn(descriptor_view q, index_t i, descriptor_view t) {
  index_t best = -1;
  double bd = std::numeric_limits<double>::infinity();
  for (index_t j = 0; j < t.rows; ++j)
    if (const double d = dist2(q.row(i), t.row(j), q.dim); d < bd) bd = d, best = j;
  return best;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(eval_matching)

BOOST_AUTO_TEST_CASE(nearest_neighbour_hand_case) {
  // Query (0, 0) against train (1, 0), (2, 0), (0, -1): two at distance 1, the first wins.
  const std::vector<float> q = {0, 0, 5, 5}, t = {1, 0, 2, 0, 0, -1, 5, 4};
  const descriptor_view Q{q.data(), 2, 2}, T{t.data(), 4, 2};
  const auto m = match_descriptors(Q, T);
  BOOST_TEST_REQUIRE(m.size() == 2u);
  BOOST_TEST(m[0].query == 0);
  BOOST_TEST(m[0].train == 0);  // tie with train 2 goes to the lower index
  BOOST_TEST(m[0].distance == 1.0f);
  BOOST_TEST(m[1].query == 1);
  BOOST_TEST(m[1].train == 3);
  BOOST_TEST(m[1].distance == 1.0f);
}

BOOST_AUTO_TEST_CASE(ratio_test_and_distance_threshold) {
  // d1 = 1 (train 0), d2 = 2 (train 1).
  const std::vector<float> q = {0, 0}, t = {1, 0, 2, 0};
  const descriptor_view Q{q.data(), 1, 2}, T{t.data(), 2, 2};
  BOOST_TEST(match_descriptors(Q, T, {.ratio = 0.6}).size() == 1u);   // 1 < 1.2
  BOOST_TEST(match_descriptors(Q, T, {.ratio = 0.5}).empty());        // 1 < 1.0 fails (strict)
  BOOST_TEST(match_descriptors(Q, T, {.max_distance = 1.0}).size() == 1u);   // <= is kept
  BOOST_TEST(match_descriptors(Q, T, {.max_distance = 0.99}).empty());
  // One train row: no second neighbour, the ratio test passes.
  const descriptor_view T1{t.data(), 1, 2};
  BOOST_TEST(match_descriptors(Q, T1, {.ratio = 0.1}).size() == 1u);
  // Equal best and second best fail any ratio < 1.
  const std::vector<float> t2 = {1, 0, -1, 0};
  BOOST_TEST(match_descriptors(Q, descriptor_view{t2.data(), 2, 2}, {.ratio = 0.99}).empty());
}

BOOST_AUTO_TEST_CASE(mutual_hand_case) {
  // q0 -> t0, q1 -> t0, t0 -> q1 (closer): only (1, 0) is mutual; q2 <-> t1 is.
  const std::vector<float> q = {0, 0, 0.9f, 0, 10, 10}, t = {1, 0, 10, 11};
  const descriptor_view Q{q.data(), 3, 2}, T{t.data(), 2, 2};
  const auto m = match_descriptors(Q, T, {.mutual = true});
  BOOST_TEST_REQUIRE(m.size() == 2u);
  BOOST_TEST(m[0].query == 1);
  BOOST_TEST(m[0].train == 0);
  BOOST_TEST(m[1].query == 2);
  BOOST_TEST(m[1].train == 1);
  BOOST_TEST(std::abs(m[0].distance - 0.1f) < 1e-6);
}

BOOST_AUTO_TEST_CASE(empty_sets_and_bad_input) {
  const std::vector<float> q = {0, 0};
  const descriptor_view Q{q.data(), 1, 2}, E{nullptr, 0, 2};
  BOOST_TEST(match_descriptors(Q, E).empty());
  BOOST_TEST(match_descriptors(E, Q, {.mutual = true}).empty());
  const std::vector<float> t3 = {0, 0, 0};
  BOOST_CHECK_THROW(match_descriptors(Q, descriptor_view{t3.data(), 1, 3}), shape_error);
  const std::vector<float> bad = {0, std::nanf("")};
  BOOST_CHECK_THROW(match_descriptors(Q, descriptor_view{bad.data(), 1, 2}), value_error);
  BOOST_CHECK_THROW(match_descriptors(Q, Q, {.ratio = -1}), value_error);
}

BOOST_AUTO_TEST_CASE(random_real_descriptors_match_brute_force) {
  // 700 x 900 in 128-d, unit-free floats: the GEMM distances differ from exact ones by ~1e-6, so
  // a different neighbour is only acceptable at an (almost) tie.
  const index_t n = 700, m = 900, d = 128;
  const auto a = random_rows(n, d, 1, false), b = random_rows(m, d, 2, false);
  const descriptor_view A{a.data(), n, d}, B{b.data(), m, d};
  const auto nn = nearest_neighbours(A, B, true, true);
  index_t same = 0;
  for (index_t i = 0; i < n; ++i) {
    const index_t j = brute_nn(A, i, B), k = nn.best[std::size_t(i)];
    const double best = dist2(A.row(i), B.row(j), d), got = dist2(A.row(i), B.row(k), d);
    BOOST_TEST(got <= best + 1e-4 * best);
    BOOST_TEST(std::abs(double(nn.best_d2[std::size_t(i)]) - best) <= 1e-4 * best);
    same += j == k;
  }
  BOOST_TEST(same >= n - 2);
  const auto m1 = match_descriptors(A, B);
  BOOST_TEST(m1.size() == std::size_t(n));
  for (const auto& x : m1)
    BOOST_TEST(std::abs(double(x.distance) - std::sqrt(dist2(A.row(x.query), B.row(x.train), d))) < 1e-5);
}

BOOST_AUTO_TEST_CASE(integer_descriptors_with_ties_match_brute_force_exactly) {
  // Values in 0..3 over 16 dimensions: squared distances are small integers, computed exactly by
  // the GEMM path too, so ties are frequent and must resolve to the first index as in brute force.
  // m = 2500 > 2048 exercises two column blocks, n = 300 several row blocks.
  const index_t n = 300, m = 2500, d = 16;
  const auto a = random_rows(n, d, 3, true), b = random_rows(m, d, 4, true);
  const descriptor_view A{a.data(), n, d}, B{b.data(), m, d};
  const auto nn = nearest_neighbours(A, B, true, true);
  std::vector<index_t> col(static_cast<std::size_t>(m));
  for (index_t j = 0; j < m; ++j) col[std::size_t(j)] = brute_nn(B, j, A);
  index_t mutual = 0;
  for (index_t i = 0; i < n; ++i) {
    const index_t j = brute_nn(A, i, B);
    BOOST_TEST(nn.best[std::size_t(i)] == j);
    BOOST_TEST(double(nn.best_d2[std::size_t(i)]) == dist2(A.row(i), B.row(j), d));
    // Second best: the minimum over every other train row.
    double second = std::numeric_limits<double>::infinity();
    for (index_t k = 0; k < m; ++k)
      if (k != j) second = std::min(second, dist2(A.row(i), B.row(k), d));
    BOOST_TEST(double(nn.second_d2[std::size_t(i)]) == second);
    mutual += col[std::size_t(j)] == i;
  }
  for (index_t j = 0; j < m; ++j) BOOST_TEST(nn.column_best[std::size_t(j)] == col[std::size_t(j)]);
  const auto mm = match_descriptors(A, B, {.mutual = true});
  BOOST_TEST(index_t(mm.size()) == mutual);
  for (const auto& x : mm) BOOST_TEST(col[std::size_t(x.train)] == x.query);
}

BOOST_AUTO_TEST_SUITE_END()
