// `kpt train --model superpoint` end to end on tiny runs: 4 synthetic images at 64x80 whose
// ground-truth corners stand in for kpt adapt's points. The pipeline learns (one batch overfits),
// resuming is exact, a NaN loss stops naming the step and the term, MagicPoint weights start the
// detector, and missing points or wrong weights give clear errors.
#include <boost/test/unit_test.hpp>

#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli_support.hpp"
#include "kpt/io/safetensors.hpp"

using namespace kpt::cli_test;

namespace {

// d/images/i.png and d/labels/i.kpts.npy (the shapes' corners) for i < 4.
void make_photos(const fs::path& d) {
  BOOST_TEST_REQUIRE(run_kpt("synth --out " + quote(d / "synth") + " --count 4 --size 64x80 --canvas 128x160 --seed 3",
                             d / "synth.txt") == 0,
                     read_text(d / "synth.txt"));
  fs::create_directories(d / "images");
  fs::create_directories(d / "labels");
  for (int i = 0; i < 4; ++i) {
    fs::copy_file(d / "synth" / (std::to_string(i) + ".png"), d / "images" / (std::to_string(i) + ".png"));
    fs::copy_file(d / "synth" / (std::to_string(i) + ".points.npy"), d / "labels" / (std::to_string(i) + ".kpts.npy"));
  }
}

std::string tiny(const fs::path& d) {
  return "train --model superpoint --images " + quote(d / "images") + " --labels " + quote(d / "labels") +
         " --size 64x80 --batch-size 2 --threads 1 --log-every 1 ";
}

}  // namespace

BOOST_AUTO_TEST_SUITE(train_superpoint_cli)

// On one fixed batch of two pairs the total loss (two detector cross-entropies of ~ln 65 each at
// initialisation, plus 1e-4 x the descriptor hinge) falls at least tenfold within 200 steps.
BOOST_AUTO_TEST_CASE(superpoint_overfits_one_batch) {
  temp_dir d("train_sp_overfit");
  make_photos(d.path);
  const auto run = d.path / "run";
  const int rc = run_kpt(tiny(d.path) + "--overfit 1 --steps 200 --lr 0.001 --checkpoint-every 1000 --out " + quote(run),
                         d.path / "log.txt");
  BOOST_TEST_REQUIRE(rc == 0, read_text(d.path / "log.txt"));
  const auto log = read_log(run);
  BOOST_TEST_REQUIRE(log.size() == 200u);
  const double first = (log[0]["loss"].get<double>() + log[1]["loss"].get<double>()) / 2;
  double last = 0;
  for (std::size_t i = log.size() - 10; i < log.size(); ++i) last += log[i]["loss"].get<double>() / 10;
  BOOST_TEST_MESSAGE("superpoint overfit: loss " << first << " -> " << last);
  BOOST_TEST(first > 6.0);
  BOOST_TEST(last < first / 10);
  for (const char* term : {"detector", "warped_detector", "descriptor"}) BOOST_TEST(log.back().contains(term), term);
  const kpt::io::safetensors_file w(run / "weights.safetensors");
  BOOST_TEST(w.contains("convDb.weight"));
  BOOST_TEST(w.metadata().at("kpt.model") == "superpoint");
}

// 3 steps, then --resume to 6, equals 6 steps in one go, bit for bit (one thread). Resuming over a
// changed photo folder is refused, naming it, and writes nothing.
BOOST_AUTO_TEST_CASE(superpoint_resume_is_bitwise_exact) {
  temp_dir d("train_sp_resume");
  make_photos(d.path);
  const auto r = run_whole_and_resumed(tiny(d.path), 6, d.path);
  for (std::size_t i = 0; i < 6; ++i)
    for (const char* term : {"loss", "detector", "warped_detector", "descriptor"})
      BOOST_TEST(r.whole_log[i][term].dump() == r.split_log[i][term].dump(), "step " << i + 1 << " " << term);
  check_same_tensors(r.whole / "weights.safetensors", r.split / "weights.safetensors");
  BOOST_TEST(run_kpt("train --resume " + quote(r.split) + " --labels " + quote(d.path / "labels"), d.path / "d.txt") == 2);
  BOOST_TEST(read_text(d.path / "d.txt").find("cannot change when resuming") != std::string::npos);

  fs::copy_file(d.path / "images" / "0.png", d.path / "images" / "5.png");
  fs::copy_file(d.path / "labels" / "0.kpts.npy", d.path / "labels" / "5.kpts.npy");
  const auto log_before = read_text(r.split / "log.jsonl");
  BOOST_TEST(run_kpt("train --resume " + quote(r.split) + " --steps 8", d.path / "e.txt") == 2);
  BOOST_TEST(log_has(d.path / "e.txt", "the photos under"));
  BOOST_TEST(log_has(d.path / "e.txt", "4 images then, 5 now"));
  BOOST_TEST(read_text(r.split / "log.jsonl") == log_before);
}

BOOST_AUTO_TEST_CASE(superpoint_nan_loss_stops_with_the_step) {
  temp_dir d("train_sp_nan");
  make_photos(d.path);
  const int rc = run_kpt(tiny(d.path) + "--steps 20 --lr 1e30 --out " + quote(d.path / "run"), d.path / "log.txt");
  const std::string out = read_text(d.path / "log.txt");
  BOOST_TEST(rc == 1, out);
  BOOST_TEST(out.find("loss is") != std::string::npos, out);
  BOOST_TEST(out.find("at step") != std::string::npos, out);
}

// --init takes a MagicPoint's encoder and detector head; other weights or missing points are
// refused before anything is written.
BOOST_AUTO_TEST_CASE(superpoint_init_and_bad_inputs) {
  temp_dir d("train_sp_init");
  make_photos(d.path);
  const auto mp = d.path / "mp.safetensors", kpn = d.path / "kpn.safetensors";
  BOOST_TEST_REQUIRE(run_kpt("init --model magicpoint --seed 4 --output " + quote(mp), d.path / "i.txt") == 0);
  BOOST_TEST_REQUIRE(run_kpt("init --model keypointnet --seed 4 --output " + quote(kpn), d.path / "i.txt") == 0);
  const auto run = d.path / "run";
  BOOST_TEST_REQUIRE(run_kpt(tiny(d.path) + "--steps 1 --init " + quote(mp) + " --out " + quote(run), d.path / "a.txt") == 0,
                     read_text(d.path / "a.txt"));
  BOOST_TEST(read_text(d.path / "a.txt").find("from " + fs::absolute(mp).lexically_normal().string()) != std::string::npos);

  BOOST_TEST(run_kpt(tiny(d.path) + "--steps 1 --init " + quote(kpn) + " --out " + quote(d.path / "r2"), d.path / "b.txt") == 2);
  BOOST_TEST(read_text(d.path / "b.txt").find("give MagicPoint weights of the same variant") != std::string::npos, read_text(d.path / "b.txt"));

  fs::remove(d.path / "labels" / "2.kpts.npy");
  BOOST_TEST(run_kpt(tiny(d.path) + "--steps 1 --out " + quote(d.path / "r3"), d.path / "c.txt") == 2);
  BOOST_TEST(read_text(d.path / "c.txt").find("kpt adapt") != std::string::npos, read_text(d.path / "c.txt"));
  BOOST_TEST(!fs::exists(d.path / "r3" / "config.json"));
  BOOST_TEST(run_kpt("train --model superpoint --images " + quote(d.path / "images") + " --out " + quote(d.path / "r4"),
                     d.path / "e.txt") == 2);
  BOOST_TEST(read_text(d.path / "e.txt").find("--labels") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
