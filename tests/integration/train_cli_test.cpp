// `kpt train` end to end on tiny MagicPoint runs (64x80 images, a 192x256 canvas): the pipeline
// learns (overfitting one batch), resuming is exact, Ctrl-C saves a checkpoint, a NaN loss stops
// with the step named, and bad checkpoints or configs give clear errors without touching good files.
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <csignal>
#include <fstream>
#include <iomanip>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli_support.hpp"
#include "kpt/io/safetensors.hpp"

using namespace kpt::cli_test;

namespace {

// Small and fast: a few hundred milliseconds per step on one thread.
const std::string tiny = "train --model magicpoint --size 64x80 --canvas 192x256 --batch-size 2 --threads 1 --log-every 1 ";

}  // namespace

BOOST_AUTO_TEST_SUITE(train_cli)

// On one fixed batch the detector loss falls at least tenfold within 150 steps (from ~ln 65 = 4.2
// at initialisation). Measured: 0.2 at step 105, 0.03 at step 120, ~0 from step 135.
BOOST_AUTO_TEST_CASE(magicpoint_overfits_one_batch) {
  temp_dir d("train_overfit");
  const auto run = d.path / "run";
  const int rc = run_kpt(tiny + "--overfit 1 --steps 150 --lr 0.001 --checkpoint-every 1000 --out '" + run.string() + "'",
                         d.path / "log.txt");
  BOOST_TEST_REQUIRE(rc == 0, read_text(d.path / "log.txt"));
  const auto log = read_log(run);
  BOOST_TEST_REQUIRE(log.size() == 150u);
  const double first = (log[0]["loss"].get<double>() + log[1]["loss"].get<double>()) / 2;
  double last = 0;
  for (std::size_t i = log.size() - 10; i < log.size(); ++i) last += log[i]["loss"].get<double>() / 10;
  BOOST_TEST_MESSAGE("overfit: loss " << first << " -> " << last);
  BOOST_TEST(first > 3.0);
  BOOST_TEST(last < first / 10);
  // The run folder holds what the docs promise.
  BOOST_TEST(fs::exists(run / "config.json"));
  BOOST_TEST(fs::exists(run / "weights.safetensors"));
  BOOST_TEST(fs::exists(run / "checkpoints" / "step-00000150.safetensors"));
  const kpt::io::safetensors_file w(run / "weights.safetensors");
  BOOST_TEST(w.contains("conv1a.weight"));
  BOOST_TEST(w.contains("convPb.bias"));
  BOOST_TEST(!w.contains("convDa.weight"));  // MagicPoint: no descriptor head
}

// 3 steps, then --resume to 6, equals 6 steps in one go, bit for bit (one thread).
BOOST_AUTO_TEST_CASE(resume_is_bitwise_exact) {
  temp_dir d("train_resume");
  const auto r = run_whole_and_resumed(tiny, 6, d.path);
  // Exact: JSON doubles round-trip, so equal text means equal bits.
  for (std::size_t i = 0; i < 6; ++i)
    BOOST_TEST(r.whole_log[i]["loss"].dump() == r.split_log[i]["loss"].dump(), "step " << i + 1);
  // The weights at the end are identical too.
  check_same_tensors(r.whole / "weights.safetensors", r.split / "weights.safetensors");
  // Settings other than --steps and --threads cannot change when resuming.
  BOOST_TEST(run_kpt("train --resume " + quote(r.split) + " --lr 0.1", d.path / "d.txt") == 2);
  BOOST_TEST(read_text(d.path / "d.txt").find("cannot change when resuming") != std::string::npos);
}

// Ctrl-C: a checkpoint is written, the exit code is 130, and --resume continues from it.
BOOST_AUTO_TEST_CASE(ctrl_c_saves_a_checkpoint) {
  temp_dir d("train_sigint");
  const auto run = d.path / "run";
  const int rc = run_kpt(tiny + "--steps 100000 --checkpoint-every 100000 --out '" + run.string() + "'",
                         d.path / "log.txt", "timeout --preserve-status -s INT 6");
  const std::string out = read_text(d.path / "log.txt");
  BOOST_TEST_REQUIRE(rc == 130, out);
  BOOST_TEST(out.find("interrupted; checkpoint saved") != std::string::npos, out);
  const auto log = read_log(run);
  BOOST_TEST_REQUIRE(!log.empty());
  const int last = log.back()["step"].get<int>();
  std::ostringstream name;
  name << "step-" << std::setw(8) << std::setfill('0') << last << ".safetensors";
  BOOST_TEST(fs::exists(run / "checkpoints" / name.str()), name.str());
  BOOST_TEST(run_kpt("train --resume '" + run.string() + "' --steps " + std::to_string(last + 2), d.path / "r.txt") == 0,
             read_text(d.path / "r.txt"));
  BOOST_TEST(read_log(run).back()["step"].get<int>() == last + 2);
}

// A learning rate of 1e30 sends the weights to infinity: the loss turns NaN/Inf and training stops
// naming the step and the loss term, with exit code 1.
BOOST_AUTO_TEST_CASE(nan_loss_stops_with_the_step) {
  temp_dir d("train_nan");
  const int rc = run_kpt(tiny + "--steps 20 --lr 1e30 --out '" + (d.path / "run").string() + "'", d.path / "log.txt");
  const std::string out = read_text(d.path / "log.txt");
  BOOST_TEST(rc == 1, out);
  BOOST_TEST(out.find("the detector loss is") != std::string::npos, out);
  BOOST_TEST(out.find("at step") != std::string::npos, out);
}

// A corrupt newest checkpoint: --resume fails naming it, and the file is left as it was.
BOOST_AUTO_TEST_CASE(corrupt_checkpoint_is_reported_and_kept) {
  temp_dir d("train_corrupt");
  const auto run = d.path / "run";
  BOOST_TEST_REQUIRE(run_kpt(tiny + "--steps 2 --checkpoint-every 1 --out '" + run.string() + "'", d.path / "a.txt") == 0,
                     read_text(d.path / "a.txt"));
  const auto newest = run / "checkpoints" / "step-00000002.safetensors";
  BOOST_TEST_REQUIRE(fs::exists(newest));
  fs::resize_file(newest, fs::file_size(newest) / 2);
  const auto size = fs::file_size(newest);
  const int rc = run_kpt("train --resume '" + run.string() + "' --steps 4", d.path / "b.txt");
  const std::string out = read_text(d.path / "b.txt");
  BOOST_TEST(rc == 2, out);
  BOOST_TEST(out.find("step-00000002.safetensors") != std::string::npos, out);
  BOOST_TEST(fs::file_size(newest) == size);
  BOOST_TEST(fs::exists(run / "checkpoints" / "step-00000001.safetensors"));
}

BOOST_AUTO_TEST_CASE(bad_command_lines) {
  temp_dir d("train_bad");
  const auto log = d.path / "log.txt";
  BOOST_TEST(run_kpt("train --model magicpoint", log) == 2);  // neither --out nor --resume
  BOOST_TEST(run_kpt("train --model superglue --out '" + (d.path / "x").string() + "'", log) == 2);
  BOOST_TEST(read_text(log).find("magicpoint, superpoint or keypointnet") != std::string::npos, read_text(log));
  BOOST_TEST(run_kpt("train --model magicpoint --size 60x80 --out '" + (d.path / "y").string() + "'", log) == 2);
  BOOST_TEST(read_text(log).find("divisible by 8") != std::string::npos, read_text(log));
  BOOST_TEST(run_kpt("train --resume '" + (d.path / "missing").string() + "'", log) == 2);
  std::ofstream(d.path / "bad.json") << "{\"steps\": 10, \"stepz\": 3}";
  BOOST_TEST(run_kpt("train --model magicpoint --config '" + (d.path / "bad.json").string() + "' --out '" +
                         (d.path / "z").string() + "'",
                     log) == 2);
  BOOST_TEST(read_text(log).find("stepz") != std::string::npos, read_text(log));
}

BOOST_AUTO_TEST_SUITE_END()
