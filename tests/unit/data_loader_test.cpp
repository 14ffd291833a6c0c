// Datasets (image folder, homographic pairs) and the prefetching batch loader.
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <set>

#include <tbb/task_arena.h>
#include <unistd.h>

#include "kpt/data/homographic_pairs.hpp"
#include "kpt/data/image.hpp"
#include "kpt/data/image_folder.hpp"
#include "kpt/data/loader.hpp"
#include "kpt/data/synthetic_dataset.hpp"
#include "kpt/io/npy.hpp"

using namespace kpt;
using namespace kpt::data;
namespace fs = std::filesystem;

namespace {

// A finite dataset whose sample i is the number i (and throws for `bad`).
struct counting_dataset {
  index_t n = 10;
  index_t bad = -1;
  index_t size() const { return n; }
  index_t get(index_t i) const {
    if (i == bad) throw value_error("counting_dataset: sample " + std::to_string(i) + " is bad");
    return i;
  }
};

synthetic_dataset small_synthetic(std::uint64_t seed = 0) {
  synthetic_dataset_options o;
  o.shapes.canvas = {480, 640};
  o.seed = seed;
  return synthetic_dataset(o);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(data_loader)

BOOST_AUTO_TEST_CASE(batches_of_a_finite_dataset) {
  batch_loader plain(counting_dataset{}, {.batch_size = 3, .prefetch = 2});
  BOOST_TEST(plain.batches_per_epoch() == 3);  // drop_last: 10 = 3 + 3 + 3 + (1 dropped)
  BOOST_TEST((plain.next() == std::vector<index_t>{0, 1, 2}));
  BOOST_TEST((plain.next() == std::vector<index_t>{3, 4, 5}));
  BOOST_TEST((plain.next() == std::vector<index_t>{6, 7, 8}));
  BOOST_TEST((plain.next() == std::vector<index_t>{0, 1, 2}));  // next epoch
  BOOST_TEST(plain.batch_index() == 4);

  batch_loader keep(counting_dataset{}, {.batch_size = 4, .drop_last = false});
  BOOST_TEST(keep.batches_per_epoch() == 3);
  keep.next();
  keep.next();
  BOOST_TEST((keep.next() == std::vector<index_t>{8, 9}));

  // Shuffled: every epoch a permutation, different epochs differ, same seed same order.
  batch_loader sh(counting_dataset{12}, {.batch_size = 4, .shuffle = true, .seed = 3});
  std::vector<index_t> e1, e2;
  for (int b = 0; b < 3; ++b) for (auto v : sh.next()) e1.push_back(v);
  for (int b = 0; b < 3; ++b) for (auto v : sh.next()) e2.push_back(v);
  BOOST_TEST(std::set<index_t>(e1.begin(), e1.end()).size() == 12u);
  BOOST_TEST(e1 != e2);
  batch_loader again(counting_dataset{12}, {.batch_size = 4, .shuffle = true, .seed = 3, .start_batch = 3});
  std::vector<index_t> r2;
  for (int b = 0; b < 3; ++b) for (auto v : again.next()) r2.push_back(v);
  BOOST_TEST(r2 == e2);  // resuming at batch 3 gives the second epoch again

  BOOST_CHECK_THROW(batch_loader(counting_dataset{2}, {.batch_size = 4}), value_error);
  BOOST_CHECK_THROW(batch_loader(counting_dataset{}, {.batch_size = 0}), value_error);
}

BOOST_AUTO_TEST_CASE(errors_reach_the_caller) {
  batch_loader l(counting_dataset{10, 4}, {.batch_size = 2, .prefetch = 3});
  BOOST_TEST((l.next() == std::vector<index_t>{0, 1}));
  BOOST_TEST((l.next() == std::vector<index_t>{2, 3}));
  BOOST_CHECK_THROW(l.next(), value_error);
  BOOST_TEST((l.next() == std::vector<index_t>{6, 7}));
}

// The batch stream does not depend on prefetching or on the number of threads.
BOOST_AUTO_TEST_CASE(synthetic_batches_independent_of_threads) {
  auto run = [](int threads, int prefetch) {
    std::vector<float> all;
    tbb::task_arena arena(threads);
    arena.execute([&] {
      batch_loader l(small_synthetic(4), {.batch_size = 3, .prefetch = prefetch});
      for (int b = 0; b < 2; ++b) {
        const auto batch = l.next();
        const auto x = stack_images(batch, &image_sample::image);
        BOOST_TEST_REQUIRE(x.shape() == (kpt::shape{3, 1, 120, 160}));
        all.insert(all.end(), x.values().begin(), x.values().end());
      }
    });
    return all;
  };
  const auto a = run(1, 0), b = run(2, 3);
  BOOST_TEST(a == b);
}

BOOST_AUTO_TEST_CASE(homographic_pairs_superpoint_flavour) {
  homographic_pairs pairs(small_synthetic(1), geometry::superpoint_homography_config::superpoint_pair(),
                          {.valid_border_margin = 3});
  int points = 0;
  for (index_t i = 0; i < 8; ++i) {
    const auto p = pairs.get(i);
    BOOST_TEST_REQUIRE(p.warped.shape() == p.image.shape());
    BOOST_TEST_REQUIRE(p.valid_mask.shape() == (kpt::shape{120, 160}));
    // warped = warp_image(image, H^-1)
    const auto again = geometry::warp_image(p.image, geometry::invert(p.H));
    BOOST_TEST_REQUIRE(again.to_vector() == p.warped.to_vector());
    // Valid pixels see the image: H^-1 p is inside.
    for (index_t y = 0; y < 120; y += 7)
      for (index_t x = 0; x < 160; x += 7)
        if (p.valid_mask.at({y, x}) > 0) {
          const auto q = geometry::apply(geometry::invert(p.H), geometry::point2(double(x), double(y)));
          BOOST_TEST_REQUIRE((q.x() > -0.5 && q.y() > -0.5 && q.x() < 159.5 && q.y() < 119.5));
        }
    // Warped points are the points moved by H, inside the warped image.
    for (index_t j = 0; j < p.warped_points.size(0); ++j) {
      const float x = p.warped_points.at({j, 0}), y = p.warped_points.at({j, 1});
      BOOST_TEST_REQUIRE((x >= 0 && y >= 0 && x <= 159 && y <= 119));
    }
    BOOST_TEST_REQUIRE(p.warped_points.size(0) <= p.points.size(0));
    points += int(p.warped_points.size(0));
  }
  BOOST_TEST(points > 0);
  // Seeded.
  BOOST_TEST(pairs.get(3).warped.to_vector() == pairs.get(3).warped.to_vector());
}

BOOST_AUTO_TEST_CASE(homographic_pairs_kp2d_flavour_with_augmentation) {
  synthetic_dataset_options o;
  o.style = synthetic_style::purdue;
  homographic_pairs pairs(synthetic_dataset(o), geometry::kp2d_homography_config::training(),
                          {.kp2d_photometric = kp2d_photometric_config{}});
  const auto p = pairs.get(2);
  BOOST_TEST(p.image.shape() == (kpt::shape{3, 128, 128}));
  BOOST_TEST(p.warped.shape() == (kpt::shape{3, 128, 128}));
  // KP2D keeps the whole source inside the target: the valid mask is (nearly) all ones.
  double valid = 0;
  for (float v : p.valid_mask.values()) valid += v;
  BOOST_TEST(valid / (128.0 * 128.0) > 0.99);
  // The direction KP2D's loss relies on (train::kp2d_detail::loss_homography): source pixel x shows
  // the target at invert(p.H) x, i.e. warped = warp_image(image, invert(H)), as for SuperPoint.
  homographic_pairs plain(synthetic_dataset(o), geometry::kp2d_homography_config::training());
  for (index_t i = 0; i < 4; ++i) {
    const auto q = plain.get(i);
    BOOST_TEST(geometry::warp_image(q.image, geometry::invert(q.H)).to_vector() == q.warped.to_vector());
    BOOST_TEST(geometry::warp_image(q.image, q.H).to_vector() != q.warped.to_vector());
  }
  BOOST_CHECK_THROW(homographic_pairs(synthetic_dataset(o), geometry::kp2d_homography_config{},
                                      {.photometric = photometric_config{}, .kp2d_photometric = kp2d_photometric_config{}}),
                    value_error);
}

BOOST_AUTO_TEST_CASE(image_folder) {
  const fs::path d = fs::temp_directory_path() / ("kpt_image_folder_test_" + std::to_string(::getpid()));
  fs::create_directories(d / "a" / "b");
  auto img = tensor<std::uint8_t, cpu_ref>::empty({3, 50, 90});
  for (index_t i = 0; i < img.numel(); ++i) img.data()[i] = std::uint8_t(i % 251);
  save_png(d / "one.png", img);
  save_png(d / "a" / "two.PNG", img);
  save_png(d / "a" / "b" / "three.png", tensor<std::uint8_t, cpu_ref>::full({1, 300, 200}, 7));
  { std::ofstream(d / "a" / "notes.txt") << "not an image"; }
  image_folder_dataset ds(d, {.size = {24, 32}});
  BOOST_TEST(ds.size() == 3);
  BOOST_TEST(ds.get(0).name == "a/b/three.png");  // sorted by path
  const auto s = ds.get(4);
  BOOST_TEST(s.image.shape() == (kpt::shape{1, 24, 32}));
  BOOST_TEST(s.points.shape() == (kpt::shape{0, 2}));
  BOOST_TEST(std::abs(ds.get(0).image.at({0, 5, 5}) - 7.f / 255.f) < 1e-6);
  BOOST_TEST(ds.get(4).image.to_vector() == s.image.to_vector());
  image_folder_dataset crops(d, {.size = {24, 32}, .mode = color::rgb, .crop_scale = {0.5, 0.8}, .seed = 1});
  BOOST_TEST(crops.get(1).image.shape() == (kpt::shape{3, 24, 32}));
  BOOST_TEST(crops.get(1).image.to_vector() != crops.get(4).image.to_vector());  // same file, other crop
  BOOST_CHECK_THROW(image_folder_dataset(d / "missing"), io_error);
  BOOST_CHECK_THROW(image_folder_dataset(d / "a" / "b" / "three.png"), io_error);
  fs::create_directories(d / "empty");
  BOOST_CHECK_THROW(image_folder_dataset(d / "empty"), io_error);
  std::error_code ec;
  fs::remove_all(d, ec);
}

// Points from a labels folder follow the crop and the resize: a bright 4x4 square whose centre is
// the labelled point lands where the point says, for every random crop (labels written at half the
// image's size, as kpt adapt --size would).
BOOST_AUTO_TEST_CASE(image_folder_labels_follow_the_crop) {
  const fs::path d = fs::temp_directory_path() / ("kpt_image_folder_labels_" + std::to_string(::getpid()));
  fs::create_directories(d / "img" / "sub");
  fs::create_directories(d / "lab" / "sub");
  // 160x200 image, square covering pixels [97, 100] x [61, 64]: centre (98.5, 62.5).
  auto img = tensor<std::uint8_t, cpu_ref>::zeros({1, 160, 200});
  for (index_t y = 61; y <= 64; ++y)
    for (index_t x = 97; x <= 100; ++x) img.data()[y * 200 + x] = 255;
  // The photo is a symlink to a file elsewhere (as scripts/training-photos.sh makes them): its
  // points are still looked up by its place below the folder.
  fs::create_directories(d / "elsewhere");
  save_png(d / "elsewhere" / "real.png", img);
  fs::create_symlink(d / "elsewhere" / "real.png", d / "img" / "sub" / "a.png");
  // In the 80x100 label frame (x_label = (x + 0.5) / 2 - 0.5): (49, 31); a second point outside any crop.
  auto pts = tensor<float, cpu_ref>::from({2, 3}, {49.f, 31.f, 0.9f, -30.f, 5.f, 0.5f});
  io::save_npy(d / "lab" / "sub" / "a.kpts.npy", pts);
  // Area resizing integrates exactly, so the square's centroid moves as the points do.
  image_folder_dataset ds(d / "img", {.size = {64, 80}, .crop_scale = {0.6, 0.9}, .preserve_aspect = false, .seed = 5,
                                      .labels = d / "lab", .label_size = geometry::image_size{80, 100}});
  int seen = 0;
  for (index_t i = 0; i < 20; ++i) {
    const auto s = ds.get(i);
    BOOST_TEST_REQUIRE(s.points.rank() == 2);
    if (s.points.size(0) == 0) continue;  // the crop missed the square
    BOOST_TEST_REQUIRE(s.points.size(0) == 1);
    // The brightness-weighted centre of the square in the output image.
    double sw = 0, sx = 0, sy = 0;
    for (index_t y = 0; y < 64; ++y)
      for (index_t x = 0; x < 80; ++x) {
        const double v = s.image.data()[y * 80 + x];
        sw += v, sx += v * double(x), sy += v * double(y);
      }
    BOOST_TEST_REQUIRE(sw > 0);
    BOOST_TEST(std::abs(sx / sw - s.points.data()[0]) < 0.05, "sample " << i);
    BOOST_TEST(std::abs(sy / sw - s.points.data()[1]) < 0.05, "sample " << i);
    ++seen;
  }
  BOOST_TEST(seen >= 10);
  BOOST_TEST(ds.get(0).name == "sub/a.png");
  BOOST_TEST(relative_below(d / "img" / "sub" / "a.png", d / "img" / "") == fs::path("sub/a.png"));
  fs::remove(d / "lab" / "sub" / "a.kpts.npy");
  BOOST_CHECK_EXCEPTION(image_folder_dataset(d / "img", {.labels = d / "lab"}), io_error, [](const io_error& e) {
    return std::string(e.what()).find("kpt adapt") != std::string::npos;
  });
  std::error_code ec;
  fs::remove_all(d, ec);
}

BOOST_AUTO_TEST_SUITE_END()
