// `kpt synth` end to end: the files it writes, their contents, and the exit codes of bad calls.
#include <boost/test/unit_test.hpp>

#include <string>
#include <utility>

#include <nlohmann/json.hpp>

#include "cli_support.hpp"
#include "kpt/data/image.hpp"
#include "kpt/data/synthetic_dataset.hpp"
#include "kpt/io/npy.hpp"

using namespace kpt;
using namespace kpt::cli_test;

BOOST_AUTO_TEST_SUITE(synth_cli)

BOOST_AUTO_TEST_CASE(writes_images_points_and_overlays) {
  if (!fs::exists(kpt_program())) {
    BOOST_TEST_MESSAGE("skipped: " << kpt_program() << " not built (KPT_BUILD_TOOLS=OFF?)");
    return;
  }
  temp_dir d("synth_cli");
  const fs::path out = d.path / "shapes";
  BOOST_TEST_REQUIRE(run_kpt("synth --out '" + out.string() + "' --count 3 --seed 5 --canvas 480x640", d.path / "log") == 0);
  data::synthetic_dataset_options o;
  o.seed = 5;
  o.shapes.canvas = {480, 640};
  const data::synthetic_dataset ds(o);
  for (int i = 0; i < 3; ++i) {
    const auto s = ds.get(i);
    const auto img = data::load_image<float>(out / (std::to_string(i) + ".png"));
    BOOST_TEST(img.shape() == (kpt::shape{1, 120, 160}));
    BOOST_TEST(img.to_vector() == s.image.to_vector());  // 8-bit levels: exact
    const auto pts = io::load_npy<float>(out / (std::to_string(i) + ".points.npy"));
    BOOST_TEST(pts.rank() == 2);
    BOOST_TEST(pts.size(1) == 2);
    BOOST_TEST(pts.to_vector() == s.points.to_vector());
    const auto overlay = data::load_image_u8(out / (std::to_string(i) + ".overlay.png"));
    BOOST_TEST(overlay.shape() == (kpt::shape{3, 480, 640}));
  }
  // Purdue style, another size.
  BOOST_TEST(run_kpt("synth --out '" + (d.path / "p").string() + "' --count 2 --style purdue --size 96x128", d.path / "log") == 0);
  BOOST_TEST(data::load_image_u8(d.path / "p" / "1.png").shape() == (kpt::shape{3, 96, 128}));
}

BOOST_AUTO_TEST_CASE(bad_command_lines_exit_with_2) {
  if (!fs::exists(kpt_program())) return;
  temp_dir d("synth_cli");
  const auto log = d.path / "log";
  BOOST_TEST(run_kpt("synth --help", log) == 0);
  BOOST_TEST(read_text(log).find("--count N") != std::string::npos);
  BOOST_TEST(run_kpt("--help", log) == 0);
  BOOST_TEST(read_text(log).find("synth") != std::string::npos);
  BOOST_TEST(run_kpt("", log) == 2);
  BOOST_TEST(run_kpt("no-such-command", log) == 2);
  BOOST_TEST(run_kpt("synth --out x --count 1 --bogus 3", log) == 2);
  BOOST_TEST(read_text(log).find("unknown flag '--bogus'") != std::string::npos);
  BOOST_TEST(run_kpt("synth --count 1", log) == 2);  // --out missing
  BOOST_TEST(read_text(log).find("missing --out") != std::string::npos);
  BOOST_TEST(run_kpt("synth --out x --count zero", log) == 2);
  BOOST_TEST(run_kpt("synth --out x --count 1 --size 120by160", log) == 2);
  BOOST_TEST(run_kpt("synth --out x --count 1 --style other", log) == 2);
  BOOST_TEST(run_kpt("synth --out x --count", log) == 2);
  { std::ofstream(d.path / "file") << "x"; }
  BOOST_TEST(run_kpt("synth --out '" + (d.path / "file").string() + "' --count 1", log) == 2);
  BOOST_TEST(read_text(log).find("is a file") != std::string::npos);
}

// kpt eval-synth --detections: the ground-truth corners themselves score AP 1 (rounded to pixels
// as rpautrat's evaluation does); every corner moved by 5 px (beyond the 4 px distance) scores 0.
BOOST_AUTO_TEST_CASE(eval_synth_scores_detections) {
  temp_dir d("eval_synth_cli");
  const auto shapes = d.path / "shapes", exact = d.path / "exact", moved = d.path / "moved";
  BOOST_TEST_REQUIRE(run_kpt("synth --out '" + shapes.string() + "' --count 6 --canvas 240x320 --seed 9", d.path / "log") == 0);
  fs::create_directories(exact);
  fs::create_directories(moved);
  for (int i = 0; i < 6; ++i) {
    const auto pts = io::load_npy<float>(shapes / (std::to_string(i) + ".points.npy"));
    auto a = tensor<float, cpu_ref>::empty({pts.size(0), 3}), b = a.clone();
    for (index_t k = 0; k < pts.size(0); ++k) {
      const float x = pts.data()[2 * k], y = pts.data()[2 * k + 1], score = 1.f - 0.01f * float(k);
      for (const auto& [t, dx] : {std::pair{&a, 0.f}, {&b, 5.f}}) {
        t->data()[3 * k] = x + dx;
        t->data()[3 * k + 1] = y;
        t->data()[3 * k + 2] = score;
      }
    }
    io::save_npy(exact / (std::to_string(i) + ".kpts.npy"), a);
    io::save_npy(moved / (std::to_string(i) + ".kpts.npy"), b);
  }
  auto ap = [&](const fs::path& dets) {
    const auto json = d.path / "ap.json";
    BOOST_TEST_REQUIRE(run_kpt("eval-synth --images '" + shapes.string() + "' --detections '" + dets.string() +
                                   "' --json '" + json.string() + "'",
                               d.path / "log") == 0,
                       read_text(d.path / "log"));
    return nlohmann::json::parse(read_text(json)).at("average_precision").get<double>();
  };
  BOOST_TEST(ap(exact) > 0.999);
  BOOST_TEST(ap(moved) == 0.0);
}

BOOST_AUTO_TEST_SUITE_END()
