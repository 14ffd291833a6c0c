// `kpt train --model keypointnet` (KP2D) end to end on tiny runs (64x80 images made by `kpt synth`):
// the pipeline learns (overfitting one batch), resuming is exact (KeyPointNet, IO-Net, Adam and the
// dropout masks), a NaN loss stops with the step and the term named, and bad command lines give
// errors that name the flag.
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli_support.hpp"
#include "kpt/io/safetensors.hpp"

using namespace kpt::cli_test;

namespace {

// A folder of `count` synthetic-shapes photos (kpt synth, 120x160 gray PNGs) in dir/photos; the
// trainer loads them as RGB and resizes them to --size.
fs::path make_photos(const fs::path& dir, int count) {
  const auto photos = dir / "photos";
  const int rc = run_kpt("synth --out '" + photos.string() + "' --count " + std::to_string(count) + " --seed 3",
                         dir / "synth.txt");
  BOOST_TEST_REQUIRE(rc == 0, read_text(dir / "synth.txt"));
  // Keep the images only (synth also writes N.overlay.png): the trainer takes every image it finds.
  std::vector<fs::path> overlays;
  for (const auto& e : fs::directory_iterator(photos))
    if (e.path().string().ends_with(".overlay.png")) overlays.push_back(e.path());
  for (const auto& p : overlays) fs::remove(p);
  return photos;
}

std::string tiny(const fs::path& photos) {
  return "train --model keypointnet --images '" + photos.string() +
         "' --size 64x80 --batch-size 2 --threads 1 --log-every 1 ";
}

const char* const terms[] = {"loss", "location", "descriptor", "usp", "score_mse", "io"};

}  // namespace

BOOST_AUTO_TEST_SUITE(train_kp2d_cli)

// V4 (all losses, IO-Net) on one fixed batch of two 64x80 pairs, dropout off (with it the fixed
// batch is a moving target): the total loss falls at least tenfold within 80 steps, and not only
// through the usp term (which goes negative as the scores learn): the location, descriptor and
// IO-Net terms fall too. Measured (1 thread): total 5.4 -> 0.29 (last 10 steps), location
// 2.5 -> 1.25, descriptor 0.26 -> 0.0002, IO-Net 2.8 -> 0.02, usp 0.01 -> -0.96.
// Then the final weights load in `kpt detect` as KeyPointNet v4.
BOOST_AUTO_TEST_CASE(v4_overfits_one_batch) {
  temp_dir d("kp2d_overfit");
  const auto photos = make_photos(d.path, 2);
  const auto run = d.path / "run";
  std::ofstream(d.path / "nodrop.json") << R"({"dropout": false})";
  const int rc = run_kpt(tiny(photos) + "--variant v4 --config '" + (d.path / "nodrop.json").string() +
                             "' --overfit 1 --steps 80 --lr 0.001 --lr-halve-every 1000 --checkpoint-every 1000 --out '" +
                             run.string() + "'",
                         d.path / "log.txt");
  BOOST_TEST_REQUIRE(rc == 0, read_text(d.path / "log.txt"));
  const auto log = read_log(run);
  BOOST_TEST_REQUIRE(log.size() == 80u);
  for (const auto& line : log)
    for (const char* t : terms) BOOST_TEST_REQUIRE(line.contains(t), "log line without '" << t << "': " << line.dump());
  auto head = [&](const char* t) { return (log[0][t].get<double>() + log[1][t].get<double>()) / 2; };
  auto tail = [&](const char* t) {
    double s = 0;
    for (std::size_t i = log.size() - 10; i < log.size(); ++i) s += log[i][t].get<double>() / 10;
    return s;
  };
  BOOST_TEST_MESSAGE("kp2d overfit: loss " << head("loss") << " -> " << tail("loss") << ", location " << head("location")
                                           << " -> " << tail("location") << ", descriptor " << head("descriptor")
                                           << " -> " << tail("descriptor") << ", io " << head("io") << " -> "
                                           << tail("io") << ", usp " << head("usp") << " -> " << tail("usp"));
  BOOST_TEST(head("loss") > 1.0);
  BOOST_TEST(tail("loss") < head("loss") / 10);
  BOOST_TEST(tail("location") < 0.75 * head("location"));
  BOOST_TEST(tail("descriptor") < head("descriptor") / 10);
  BOOST_TEST(tail("io") < head("io") / 10);
  BOOST_TEST(log.back()["io_active"].get<bool>());  // the IO-Net term takes part

  BOOST_TEST(fs::exists(run / "config.json"));
  BOOST_TEST(fs::exists(run / "checkpoints" / "step-00000080.safetensors"));
  const kpt::io::safetensors_file w(run / "weights.safetensors");
  BOOST_TEST(w.contains("convFbb.weight"));
  BOOST_TEST(!w.contains("ionet.p_in.0.weight"));
  const kpt::io::safetensors_file io(run / "ionet.safetensors");
  BOOST_TEST(io.contains("p_in.0.weight"));
  const kpt::io::safetensors_file ck(run / "checkpoints" / "step-00000080.safetensors");
  BOOST_TEST(ck.contains("ionet.p_in.0.weight"));
  BOOST_TEST(ck.contains("adam.ionet.p_in.0.weight.exp_avg"));
  BOOST_TEST(ck.contains("adam.conv1a.0.weight.exp_avg"));

  const auto img = photos / "0.png";
  BOOST_TEST_REQUIRE(fs::exists(img));
  BOOST_TEST(run_kpt("detect --model keypointnet --variant v4 --weights '" + (run / "weights.safetensors").string() +
                         "' --input '" + img.string() + "' --size 64x80 --output '" + (d.path / "det").string() + "'",
                     d.path / "detect.txt") == 0,
             read_text(d.path / "detect.txt"));
}

// 2 steps, then --resume to 4, equals 4 steps in one go, bit for bit (one thread): every loss term
// of every step, and the final weights of both networks.
BOOST_AUTO_TEST_CASE(resume_is_bitwise_exact) {
  temp_dir d("kp2d_resume");
  const auto photos = make_photos(d.path, 4);
  const auto r = run_whole_and_resumed(tiny(photos), 4, d.path);
  const auto& a = r.whole_log;
  for (std::size_t i = 0; i < 4; ++i)
    for (const char* t : terms) BOOST_TEST(a[i][t].dump() == r.split_log[i][t].dump(), "step " << i + 1 << " " << t);
  // Steps 3-4 differ from steps 1-2 (the data moves on: a test that would pass by repeating nothing).
  BOOST_TEST(a[2]["loss"].dump() != a[0]["loss"].dump());
  for (const char* file : {"weights.safetensors", "ionet.safetensors"}) check_same_tensors(r.whole / file, r.split / file);
  // A checkpoint is also a weights file for kpt detect (its Adam and IO-Net parts are left out):
  // the last one detects exactly as the final weights do.
  const auto detect = [&](const fs::path& weights, const fs::path& out) {
    BOOST_TEST_REQUIRE(run_kpt("detect --model keypointnet --size 64x80 --weights " + quote(weights) + " --input " +
                                   quote(photos / "0.png") + " --output " + quote(out),
                               d.path / "detect.txt") == 0,
                       read_text(d.path / "detect.txt"));
    return read_text(out / "0.kpts.npy");
  };
  const auto from_weights = detect(r.split / "weights.safetensors", d.path / "det_w");
  BOOST_TEST(!from_weights.empty());
  BOOST_TEST(from_weights == detect(r.split / "checkpoints" / "step-00000004.safetensors", d.path / "det_ck"));
  // Only --steps, --epochs and --threads may change when resuming.
  BOOST_TEST(run_kpt("train --resume " + quote(r.split) + " --variant v0", d.path / "d.txt") == 2);
  BOOST_TEST(read_text(d.path / "d.txt").find("cannot change when resuming") != std::string::npos,
             read_text(d.path / "d.txt"));
}

// Ctrl-C: a checkpoint (both networks) is written, the exit code is 130, and --resume continues.
BOOST_AUTO_TEST_CASE(ctrl_c_saves_a_checkpoint) {
  temp_dir d("kp2d_sigint");
  const auto photos = make_photos(d.path, 2);
  const auto run = d.path / "run";
  const int rc = run_kpt(tiny(photos) + "--steps 100000 --checkpoint-every 100000 --out '" + run.string() + "'",
                         d.path / "log.txt", "timeout --preserve-status -s INT 8");
  const std::string out = read_text(d.path / "log.txt");
  BOOST_TEST_REQUIRE(rc == 130, out);
  BOOST_TEST(out.find("interrupted; checkpoint saved") != std::string::npos, out);
  const auto log = read_log(run);
  BOOST_TEST_REQUIRE(!log.empty());
  const int last = log.back()["step"].get<int>();
  std::string name = std::to_string(last);
  name = "step-" + std::string(8 - name.size(), '0') + name + ".safetensors";
  BOOST_TEST_REQUIRE(fs::exists(run / "checkpoints" / name), name);
  BOOST_TEST(kpt::io::safetensors_file(run / "checkpoints" / name).contains("ionet.p_out.bias"));
  BOOST_TEST(run_kpt("train --resume '" + run.string() + "' --steps " + std::to_string(last + 1), d.path / "r.txt") == 0,
             read_text(d.path / "r.txt"));
  BOOST_TEST(read_log(run).back()["step"].get<int>() == last + 1);
  BOOST_TEST(fs::exists(run / "ionet.safetensors"));
}

// A learning rate of 1e30 sends the weights to infinity: the network's outputs or some loss term
// turn NaN/Inf (the loss alone would hide NaN coordinates: its masks drop them) and training stops
// naming the step and what went bad (exit 1).
BOOST_AUTO_TEST_CASE(nan_loss_stops_with_the_step_and_term) {
  temp_dir d("kp2d_nan");
  const auto photos = make_photos(d.path, 2);
  const int rc = run_kpt(tiny(photos) + "--variant v1 --steps 20 --lr 1e30 --out '" + (d.path / "run").string() + "'",
                         d.path / "log.txt");
  const std::string out = read_text(d.path / "log.txt");
  BOOST_TEST(rc == 1, out);
  BOOST_TEST(out.find(" at step ") != std::string::npos, out);
  const bool named = out.find("kp2d: the network's ") != std::string::npos || out.find(" loss is ") != std::string::npos;
  BOOST_TEST(named, out);
  BOOST_TEST((out.find("nan") != std::string::npos || out.find("inf") != std::string::npos), out);
}

BOOST_AUTO_TEST_CASE(bad_command_lines) {
  temp_dir d("kp2d_bad");
  const auto log = d.path / "log.txt";
  const auto photos = make_photos(d.path, 2);
  const std::string out = " --out '" + (d.path / "run").string() + "'";
  // --images: missing, not given, empty, too few photos for a batch
  BOOST_TEST(run_kpt("train --model keypointnet --images '" + (d.path / "missing").string() + "'" + out, log) == 2);
  BOOST_TEST(read_text(log).find("--images") != std::string::npos, read_text(log));
  BOOST_TEST(read_text(log).find("does not exist") != std::string::npos, read_text(log));
  BOOST_TEST(run_kpt("train --model keypointnet" + out, log) == 2);
  BOOST_TEST(read_text(log).find("--images DIR") != std::string::npos, read_text(log));
  fs::create_directories(d.path / "empty" / "sub");
  BOOST_TEST(run_kpt("train --model keypointnet --images '" + (d.path / "empty").string() + "'" + out, log) == 2);
  BOOST_TEST(read_text(log).find("no photos") != std::string::npos, read_text(log));
  BOOST_TEST(run_kpt("train --model keypointnet --images '" + photos.string() + "' --batch-size 8" + out, log) == 2);
  BOOST_TEST(read_text(log).find("--batch-size") != std::string::npos, read_text(log));
  // unknown variant, magicpoint-only and conflicting flags, unknown config field
  BOOST_TEST(run_kpt("train --model keypointnet --variant v9 --images '" + photos.string() + "'" + out, log) == 2);
  BOOST_TEST(read_text(log).find("--variant of keypointnet must be one of v4, v0, v1, v2, v3") != std::string::npos,
             read_text(log));
  BOOST_TEST(run_kpt("train --model keypointnet --canvas 96x128 --images '" + photos.string() + "'" + out, log) == 2);
  BOOST_TEST(read_text(log).find("--canvas") != std::string::npos, read_text(log));
  BOOST_TEST(run_kpt("train --model keypointnet --steps 5 --epochs 1 --images '" + photos.string() + "'" + out, log) == 2);
  BOOST_TEST(run_kpt("train --model magicpoint --images '" + photos.string() + "'" + out, log) == 2);
  BOOST_TEST(read_text(log).find("--images is for --model keypointnet") != std::string::npos, read_text(log));
  std::ofstream(d.path / "bad.json") << R"({"model": "keypointnet", "epochs": 1, "epochz": 3})";
  BOOST_TEST(run_kpt("train --config '" + (d.path / "bad.json").string() + "' --images '" + photos.string() + "'" + out,
                     log) == 2);
  BOOST_TEST(read_text(log).find("epochz") != std::string::npos, read_text(log));
  BOOST_TEST(run_kpt("train --model keypointnet --size 60x80 --images '" + photos.string() + "'" + out, log) == 2);
  BOOST_TEST(read_text(log).find("divisible by 8") != std::string::npos, read_text(log));
  // Nothing was written by the refused runs.
  BOOST_TEST(!fs::exists(d.path / "run" / "config.json"));
}

BOOST_AUTO_TEST_SUITE_END()
