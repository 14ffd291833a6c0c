// Synthetic shapes (SPEC 3.1-3.3) and the Purdue-style set (SPEC 3.6).
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <set>

#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include "kpt/data/purdue_shapes.hpp"
#include "kpt/data/synthetic_dataset.hpp"
#include "kpt/data/synthetic_shapes.hpp"

using namespace kpt;
using namespace kpt::data;

namespace {

// A cheaper canvas for the tests (4x the output): same code paths, a quarter of the pixels.
synthetic_shapes_config small_config() {
  synthetic_shapes_config c;
  c.canvas = {480, 640};
  return c;
}

// Standard deviation of the 5x5 window around (x, y) (clamped to the image).
double local_std(const tensor<float, cpu_ref>& img, double x, double y) {
  const index_t h = img.size(1), w = img.size(2);
  double s = 0, s2 = 0, n = 0;
  for (index_t yy = index_t(std::lround(y)) - 2; yy <= index_t(std::lround(y)) + 2; ++yy)
    for (index_t xx = index_t(std::lround(x)) - 2; xx <= index_t(std::lround(x)) + 2; ++xx) {
      const double v = img.data()[std::clamp<index_t>(yy, 0, h - 1) * w + std::clamp<index_t>(xx, 0, w - 1)];
      s += v, s2 += v * v, n += 1;
    }
  return std::sqrt(std::max(0.0, s2 / n - (s / n) * (s / n)));
}

}  // namespace

BOOST_AUTO_TEST_SUITE(data_synthetic)

BOOST_AUTO_TEST_CASE(every_primitive) {
  const auto c = small_config();
  for (int k = 0; k < n_primitives; ++k) {
    int with_points = 0;
    double std_at_points = 0, std_random = 0;
    int n_points = 0;
    rng g(k);
    for (index_t i = 0; i < 6; ++i) {
      const auto s = generate_shapes(c, 5, i, primitive(k));
      BOOST_TEST_REQUIRE(s.image.shape() == (kpt::shape{1, 120, 160}));
      BOOST_TEST_REQUIRE(int(s.kind) == k);
      for (float v : s.image.values()) {
        BOOST_TEST_REQUIRE((v >= 0.f && v <= 1.f));
        BOOST_TEST_REQUIRE(std::abs(v * 255.f - std::round(v * 255.f)) < 1e-3);  // 8-bit levels
      }
      const index_t p = s.points.size(0);
      with_points += p > 0;
      for (index_t j = 0; j < p; ++j) {
        const float x = s.points.at({j, 0}), y = s.points.at({j, 1});
        BOOST_TEST_REQUIRE((x >= 0.f && x < 160.f && y >= 0.f && y < 120.f));
        std_at_points += local_std(s.image, x, y);
        std_random += local_std(s.image, g.uniform(0, 159), g.uniform(0, 119));
        ++n_points;
      }
    }
    const auto kind = primitive(k);
    if (kind == primitive::ellipses || kind == primitive::gaussian_noise) {
      BOOST_TEST(with_points == 0, primitive_names[k] << " has no ground-truth points");
    } else {
      BOOST_TEST(with_points >= 3, primitive_names[k] << ": " << with_points << " of 6 samples have points");
      // The points sit on structure (corners, ends): far more contrast around them than at random
      // places. This catches a swapped x/y or a wrong scale.
      BOOST_TEST(std_at_points > 2 * std_random,
                 primitive_names[k] << ": local std at points " << std_at_points / n_points << " vs random "
                                    << std_random / n_points);
    }
  }
}

BOOST_AUTO_TEST_CASE(pure_function_of_seed_and_index) {
  const auto c = small_config();
  const auto a = generate_shapes(c, 1, 42), b = generate_shapes(c, 1, 42);
  BOOST_TEST(a.image.to_vector() == b.image.to_vector());
  BOOST_TEST(a.points.to_vector() == b.points.to_vector());
  BOOST_TEST(generate_shapes(c, 1, 43).image.to_vector() != a.image.to_vector());
  BOOST_TEST(generate_shapes(c, 2, 42).image.to_vector() != a.image.to_vector());
  // Another output size: points scale with it.
  auto c2 = c;
  c2.output = {240, 320};
  const auto big = generate_shapes(c2, 1, 42);
  BOOST_TEST(big.image.shape() == (kpt::shape{1, 240, 320}));
  BOOST_TEST_REQUIRE(big.points.numel() == a.points.numel());
  for (index_t i = 0; i < a.points.numel(); ++i) BOOST_TEST_REQUIRE(std::abs(big.points.data()[i] - 2 * a.points.data()[i]) < 1e-4);
}

// The same pixels with 1 and 2 threads, in any order.
BOOST_AUTO_TEST_CASE(same_pixels_with_any_thread_count) {
  synthetic_dataset_options o;
  o.shapes = small_config();
  o.seed = 9;
  o.photometric = photometric_config{};
  const synthetic_dataset ds(o);
  const int n = 12;
  std::vector<std::vector<float>> serial(n);
  for (int i = n - 1; i >= 0; --i) serial[std::size_t(i)] = ds.get(i).image.to_vector();
  for (int threads : {1, 2}) {
    std::vector<std::vector<float>> par(n);
    tbb::task_arena arena(threads);
    arena.execute([&] { tbb::parallel_for(0, n, [&](int i) { par[std::size_t(i)] = ds.get(i).image.to_vector(); }); });
    for (int i = 0; i < n; ++i) BOOST_TEST_REQUIRE(par[std::size_t(i)] == serial[std::size_t(i)]);
  }
}

BOOST_AUTO_TEST_CASE(primitive_mix_follows_the_weights) {
  // RP truncate: ellipses 0.3, stripes 0.2, noise 0.1 of the others' 1 (66,000 of 90,000 images).
  synthetic_shapes_config c;
  std::array<int, n_primitives> counts{};
  for (index_t i = 0; i < 6600; ++i) {
    rng g = sample_rng(0, i);
    ++counts[std::size_t(pick_primitive(c, g))];
  }
  BOOST_TEST(std::abs(counts[0] - 1000) < 120);
  BOOST_TEST(std::abs(counts[3] - 300) < 60);
  BOOST_TEST(std::abs(counts[6] - 200) < 50);
  BOOST_TEST(std::abs(counts[8] - 100) < 35);
  c.weights = {0, 0, 0, 0, 0, 0, 0, 0, 0};
  rng g(0);
  BOOST_CHECK_THROW(pick_primitive(c, g), value_error);
}

BOOST_AUTO_TEST_CASE(purdue_style) {
  const purdue_shapes_config c;
  for (index_t i = 0; i < 40; ++i) {
    const auto s = generate_purdue(c, 3, i);
    BOOST_TEST_REQUIRE(s.image.shape() == (kpt::shape{3, 128, 128}));
    const index_t p = s.points.size(0);
    BOOST_TEST_REQUIRE((p >= 10 && p <= 60));
    // Every point is an exact pixel of a drawn shape: not the background colour (pixel (0, 0)).
    for (index_t j = 0; j < p; ++j) {
      const float x = s.points.at({j, 0}), y = s.points.at({j, 1});
      BOOST_TEST_REQUIRE((x == std::round(x) && y == std::round(y)));
      BOOST_TEST_REQUIRE((x >= 0 && x < 128 && y >= 0 && y < 128));
      bool differs = false;
      for (index_t ch = 0; ch < 3; ++ch)
        differs = differs || s.image.at({ch, index_t(y), index_t(x)}) != s.image.at({ch, 0, 0});
      BOOST_TEST_REQUIRE(differs);
    }
  }
  BOOST_TEST(generate_purdue(c, 3, 7).image.to_vector() == generate_purdue(c, 3, 7).image.to_vector());
  purdue_shapes_config g = c;
  g.color = false;
  BOOST_TEST(generate_purdue(g, 3, 7).image.size(0) == 1);
}

BOOST_AUTO_TEST_CASE(dataset_options) {
  synthetic_dataset rp({.shapes = small_config(), .mode = color::rgb});
  const auto s = rp.get(3);
  BOOST_TEST(s.image.size(0) == 3);
  BOOST_TEST(s.name.find("/3") != std::string::npos);
  BOOST_TEST(rp.size() == unbounded);
  synthetic_dataset pu({.style = synthetic_style::purdue, .mode = color::gray});
  BOOST_TEST(pu.get(0).image.shape() == (kpt::shape{1, 128, 128}));
  BOOST_CHECK_THROW(rp.get(-1), value_error);
  synthetic_shapes_config bad;
  bad.blur_size = 4;
  BOOST_CHECK_THROW(generate_shapes(bad, 0, 0), value_error);
}

BOOST_AUTO_TEST_SUITE_END()
