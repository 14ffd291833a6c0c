// `kpt adapt` end to end on two synthetic-shape images: the files and their format (that of kpt
// detect), sub-folders mirrored, one homography = kpt detect with the same decoding, determinism for
// a seed, and the messages of bad calls.
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <string>

#include "cli_support.hpp"
#include "kpt/backends/cpu_ref.hpp"
#include "kpt/data/image.hpp"
#include "kpt/io/npy.hpp"

using namespace kpt;
using namespace kpt::cli_test;

namespace {

// Two 120 x 160 synthetic-shape images: in/0.png and in/sub/1.png (nothing else in the folder).
fs::path make_images(const fs::path& root, const fs::path& log) {
  const auto shapes = root / "shapes", in = root / "in";
  BOOST_TEST_REQUIRE(run_kpt("synth --out " + quote(shapes) + " --count 2 --seed 4 --canvas 240x320", log) == 0);
  fs::create_directories(in / "sub");
  fs::copy_file(shapes / "0.png", in / "0.png");
  fs::copy_file(shapes / "1.png", in / "sub" / "1.png");
  return in;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(adapt_cli)

BOOST_AUTO_TEST_CASE(writes_detect_format_deterministically) {
  if (!fs::exists(kpt_program())) return;
  temp_dir d("adapt_cli");
  const auto log = d.path / "log";
  const auto in = make_images(d.path, log);
  const auto w = d.path / "mp.safetensors";
  BOOST_TEST_REQUIRE(run_kpt("init --model magicpoint --seed 2 --output " + quote(w), log) == 0);
  const std::string base = "adapt --model magicpoint --weights " + quote(w) + " --input " + quote(in) + " --threads 1 ";

  const auto out = d.path / "out";
  BOOST_TEST_REQUIRE(run_kpt(base + "--output " + quote(out) + " --num-homographies 6 --size 64x80 --seed 3 --draw", log) == 0,
                     read_text(log));
  BOOST_TEST(log_has(log, "2 image(s)"));
  for (const fs::path stem : {out / "0", out / "sub" / "1"}) {
    const fs::path file = stem.string() + ".kpts.npy";
    BOOST_TEST_REQUIRE(fs::exists(file));
    BOOST_TEST(io::read_npy_header(file).descr == "<f4");
    const auto k = io::load_npy<float>(file);
    BOOST_TEST_REQUIRE(k.rank() == 2);
    BOOST_TEST(k.size(1) == 3);
    BOOST_TEST(k.size(0) > 0);
    BOOST_TEST(k.size(0) <= 600);
    for (index_t i = 0; i < k.size(0); ++i) {
      const float x = k.at({i, 0}), y = k.at({i, 1}), s = k.at({i, 2});
      // Integer pixels of the 64 x 80 image as evaluated, scores above the threshold, sorted.
      BOOST_TEST((x >= 0 && x <= 79 && y >= 0 && y <= 63 && x == std::floor(x) && y == std::floor(y)));
      BOOST_TEST(s >= 0.015f);
      if (i > 0) BOOST_TEST(s <= k.at({i - 1, 2}));
    }
    const auto png = data::load_image_u8(fs::path(stem.string() + ".kpts.png"));
    BOOST_TEST(png.size(0) == 3);
  }

  // Same seed: the same bytes; another seed: other homographies, other scores.
  const auto again = d.path / "again", other = d.path / "other";
  BOOST_TEST_REQUIRE(run_kpt(base + "--output " + quote(again) + " --num-homographies 6 --size 64x80 --seed 3", log) == 0);
  BOOST_TEST_REQUIRE(run_kpt(base + "--output " + quote(other) + " --num-homographies 6 --size 64x80 --seed 4", log) == 0);
  BOOST_TEST(read_text(out / "sub" / "1.kpts.npy") == read_text(again / "sub" / "1.kpts.npy"));
  BOOST_TEST(read_text(out / "0.kpts.npy") == read_text(again / "0.kpts.npy"));
  BOOST_TEST(read_text(out / "0.kpts.npy") != read_text(other / "0.kpts.npy"));
  BOOST_TEST(!fs::exists(again / "0.kpts.png"));  // no --draw

  // One term is the identity alone: exactly kpt detect with the export decoding (exact softmax,
  // box NMS 4, threshold 0.015, no border, top 600).
  const auto one = d.path / "one", det = d.path / "det";
  BOOST_TEST_REQUIRE(run_kpt(base + "--output " + quote(one) + " --num-homographies 1", log) == 0);
  BOOST_TEST_REQUIRE(run_kpt("detect --model magicpoint --weights " + quote(w) + " --input " + quote(in) + " --output " +
                                 quote(det) + " --softmax exact --nms box --nms-dist 4 --border 0 --top-k 600",
                             log) == 0);
  const auto a = io::load_npy<float>(one / "sub" / "1.kpts.npy"), b = io::load_npy<float>(det / "sub" / "1.kpts.npy");
  BOOST_TEST(a.shape() == b.shape());
  BOOST_TEST(a.to_vector() == b.to_vector(), boost::test_tools::per_element());
  // ... and averaging over homographies changes the map.
  const auto many = d.path / "many";
  BOOST_TEST_REQUIRE(run_kpt(base + "--output " + quote(many) + " --num-homographies 4", log) == 0);
  BOOST_TEST(read_text(many / "sub" / "1.kpts.npy") != read_text(one / "sub" / "1.kpts.npy"));
}

BOOST_AUTO_TEST_CASE(bad_calls_say_what_to_fix) {
  if (!fs::exists(kpt_program())) return;
  temp_dir d("adapt_cli_bad");
  const auto log = d.path / "log";
  const auto in = make_images(d.path, log);
  const auto w = d.path / "mp.safetensors";
  BOOST_TEST_REQUIRE(run_kpt("init --model magicpoint --seed 2 --output " + quote(w), log) == 0);
  const auto out = d.path / "out";
  const std::string io = " --input " + quote(in) + " --output " + quote(out);

  // Missing weights.
  BOOST_TEST(run_kpt("adapt --model magicpoint --weights " + quote(d.path / "none.safetensors") + io, log) == 2);
  BOOST_TEST(log_has(log, "--weights"));
  BOOST_TEST(log_has(log, "does not exist"));
  // An empty folder.
  fs::create_directories(d.path / "empty");
  BOOST_TEST(run_kpt("adapt --model magicpoint --weights " + quote(w) + " --input " + quote(d.path / "empty") + " --output " +
                         quote(out),
                     log) == 2);
  BOOST_TEST(log_has(log, "no images"));
  // Bad --num-homographies.
  for (const char* n : {"0", "-3", "many"}) {
    BOOST_TEST(run_kpt("adapt --model magicpoint --weights " + quote(w) + io + " --num-homographies " + n, log) == 2);
    BOOST_TEST(log_has(log, "--num-homographies"));
  }
  // A model without a dense probability map.
  BOOST_TEST(run_kpt("adapt --model keypointnet --weights " + quote(w) + io, log) == 2);
  BOOST_TEST(log_has(log, "superpoint or magicpoint"));
  // Weights of another model.
  BOOST_TEST(run_kpt("adapt --model superpoint --weights " + quote(w) + io, log) == 2);
  BOOST_TEST(log_has(log, "--model magicpoint"));
  // Sizes that are not multiples of 8.
  BOOST_TEST(run_kpt("adapt --model magicpoint --weights " + quote(w) + io + " --size 60x80", log) == 2);
  BOOST_TEST(log_has(log, "divisible by 8"));
  BOOST_TEST(!fs::exists(out / "0.kpts.npy"));
}

BOOST_AUTO_TEST_SUITE_END()
