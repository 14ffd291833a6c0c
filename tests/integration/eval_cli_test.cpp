// `kpt eval --detections` end to end on a tiny HPatches-like folder with synthetic detections:
// perfectly warped keypoints with identical descriptors score 1 everywhere (localization error
// 0), the homography is adjusted to --size, the JSON has every subset; bad inputs exit with 2
// and a message naming the file.
#include <boost/test/unit_test.hpp>

#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

#include "cli_support.hpp"
#include "kpt/core/random.hpp"
#include "kpt/data/image.hpp"
#include "kpt/io/npy.hpp"

using namespace kpt;
using namespace kpt::cli_test;

namespace {

void write_text(const fs::path& p, const std::string& s) {
  std::ofstream out(p);
  out << s;
}

// rows x cols float32 .npy from a row-major vector.
void save_rows(const fs::path& p, const std::vector<float>& v, index_t cols) {
  auto t = tensor<float, cpu_ref>::empty({index_t(v.size()) / cols, cols});
  std::copy(v.begin(), v.end(), t.data());
  io::save_npy(p, t);
}

// Sequence `name` with images 1 and 2 of 120x160 (8-bit gray) and H_1_2 = translation (4, 2) in
// the original pixels; at --size 60x80 that is a translation by (2, 1). Detections at 60x80:
// 40 points with distinct scores and random 32-d descriptors in image 1, the same points moved
// by (2, 1) with the same descriptors in image 2, all inside both images.
void make_sequence(const fs::path& hp, const fs::path& det, const std::string& name, double tx, double ty,
                   std::uint64_t seed) {
  fs::create_directories(hp / name);
  fs::create_directories(det / name);
  auto img = tensor<std::uint8_t, cpu_ref>::zeros({1, 120, 160});
  data::save_png(hp / name / "1.png", img);
  data::save_png(hp / name / "2.png", img);
  write_text(hp / name / "H_1_2", "1 0 " + std::to_string(2 * tx) + "\n0 1 " + std::to_string(2 * ty) + "\n0 0 1\n");
  rng g(seed);
  std::vector<float> k1, k2, d;
  for (int i = 0; i < 40; ++i) {
    const float x = float(5 + (i % 8) * 8) + 0.25f, y = float(4 + (i / 8) * 9) + 0.5f, s = 1.0f - 0.01f * float(i);
    k1.insert(k1.end(), {x, y, s});
    k2.insert(k2.end(), {x + float(tx), y + float(ty), s});
    for (int k = 0; k < 32; ++k) d.push_back(float(g.normal()));
  }
  save_rows(det / name / "1.kpts.npy", k1, 3);
  save_rows(det / name / "2.kpts.npy", k2, 3);
  save_rows(det / name / "1.desc.npy", d, 32);
  save_rows(det / name / "2.desc.npy", d, 32);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(eval_cli)

BOOST_AUTO_TEST_CASE(perfect_detections_score_one) {
  if (!fs::exists(kpt_program())) {
    BOOST_TEST_MESSAGE("skipped: " << kpt_program() << " not built (KPT_BUILD_TOOLS=OFF?)");
    return;
  }
  temp_dir d("eval_cli");
  const fs::path hp = d.path / "hp", det = d.path / "det", json = d.path / "out.json";
  make_sequence(hp, det, "i_flat", 0, 0, 1);
  make_sequence(hp, det, "v_shift", 2, 1, 2);
  BOOST_TEST_REQUIRE(run_kpt("eval --detections '" + det.string() + "' --hpatches '" + hp.string() +
                                 "' --size 60x80 --top-k 30 --json '" + json.string() + "'",
                             d.path / "log") == 0);
  const std::string log = read_text(d.path / "log");
  BOOST_TEST(log.find("repeatability") != std::string::npos);
  const auto j = nlohmann::json::parse(read_text(json));
  BOOST_TEST(j["size"] == nlohmann::json({60, 80}));
  BOOST_TEST(j["top_k"] == 30);
  for (const char* s : {"all", "i", "v"}) {
    const auto& m = j["subsets"][s];
    BOOST_TEST(m["pairs"] == (std::string(s) == "all" ? 2 : 1));
    BOOST_TEST(m["repeatability"].get<double>() == 1.0);
    BOOST_TEST(m["localization_error"].get<double>() < 1e-12);
    BOOST_TEST(m["matching_score"].get<double>() == 1.0);
    BOOST_TEST(m["cor1"].get<double>() == 1.0);
    BOOST_TEST(m["cor5"].get<double>() == 1.0);
  }
  BOOST_TEST_REQUIRE(j["pairs"].size() == 2u);
  const auto& p = j["pairs"][1];
  BOOST_TEST(p["sequence"] == "v_shift");
  BOOST_TEST(p["k"] == 2);
  BOOST_TEST(p["n1"] == 30);  // top-k
  // H_1_2 moves by (4, 2) at 120x160, so by (2, 1) at 60x80.
  BOOST_TEST(p["H"][0][2].get<double>() == 2.0);
  BOOST_TEST(p["H"][1][2].get<double>() == 1.0);
  BOOST_TEST(std::abs(p["H_est"][0][2].get<double>() - 2.0) < 1e-6);
  BOOST_TEST(std::abs(p["H_est"][1][2].get<double>() - 1.0) < 1e-6);
  BOOST_TEST(p["matches"] == 30);
}

// --model runs a network on every image resized to --size: KeyPointNet gives one keypoint per
// interior cell (8x10 cells at 64x80 -> 48), its descriptors are used, and every pair is scored.
// MagicPoint has no descriptors and is refused.
BOOST_AUTO_TEST_CASE(network_mode) {
  temp_dir d("eval_cli_model");
  const fs::path hp = d.path / "hp", det = d.path / "det", json = d.path / "out.json", w = d.path / "w.safetensors";
  make_sequence(hp, det, "i_flat", 0, 0, 1);
  make_sequence(hp, det, "v_shift", 2, 1, 2);
  BOOST_TEST_REQUIRE(run_kpt("init --model keypointnet --seed 1 --output '" + w.string() + "'", d.path / "log") == 0);
  BOOST_TEST_REQUIRE(run_kpt("eval --model keypointnet --weights '" + w.string() + "' --hpatches '" + hp.string() +
                                 "' --size 64x80 --top-k 300 --json '" + json.string() + "'",
                             d.path / "log") == 0,
                     read_text(d.path / "log"));
  const auto j = nlohmann::json::parse(read_text(json));
  BOOST_TEST(j["subsets"]["all"]["pairs"] == 2);
  BOOST_TEST_REQUIRE(j["pairs"].size() == 2u);
  for (const auto& p : j["pairs"]) {
    BOOST_TEST(p["n1"] == 48);
    BOOST_TEST(p["n2"] == 48);
  }
  BOOST_TEST(run_kpt("init --model magicpoint --seed 1 --output '" + (d.path / "m.safetensors").string() + "'",
                     d.path / "log") == 0);
  BOOST_TEST(run_kpt("eval --model magicpoint --weights '" + (d.path / "m.safetensors").string() + "' --hpatches '" +
                         hp.string() + "'",
                     d.path / "log") == 2);
  BOOST_TEST(read_text(d.path / "log").find("no descriptor head") != std::string::npos, read_text(d.path / "log"));
  BOOST_TEST(run_kpt("eval --model keypointnet --detections '" + det.string() + "' --hpatches '" + hp.string() + "'",
                     d.path / "log") == 2);
}

BOOST_AUTO_TEST_CASE(bad_inputs_exit_with_2) {
  if (!fs::exists(kpt_program())) return;
  temp_dir d("eval_cli");
  const fs::path hp = d.path / "hp", det = d.path / "det", log = d.path / "log";
  make_sequence(hp, det, "v_shift", 2, 1, 2);
  const std::string base = "eval --detections '" + det.string() + "' --hpatches '" + hp.string() + "' --size 60x80";
  auto fails_with = [&](const std::string& args, const std::string& text) {
    const int code = run_kpt(args, log);
    const std::string out = read_text(log);
    BOOST_TEST(code == 2, args << " -> " << code << ": " << out);
    BOOST_TEST(out.find(text) != std::string::npos, "expected '" << text << "' in: " << out);
  };
  // Detections at the original resolution (120x160) instead of --size.
  fails_with("eval --detections '" + det.string() + "' --hpatches '" + hp.string() + "' --size 30x40",
             "outside the evaluated 30x40 image");
  fails_with("eval --hpatches '" + hp.string() + "'", "--detections");
  fails_with("eval --detections '" + det.string() + "' --hpatches '" + hp.string() + "' --size 60", "--size expects HxW");
  fails_with(base + " --top-k 0", "--top-k");
  fails_with(base + " --json '" + (d.path / "nowhere" / "x.json").string() + "'", "does not exist");
  fails_with("eval --detections '" + det.string() + "' --hpatches '" + (d.path / "none").string() + "'",
             "does not exist");
  // Descriptor rows that do not match the keypoints.
  save_rows(det / "v_shift" / "2.desc.npy", std::vector<float>(39 * 32, 0.0f), 32);
  fails_with(base, "2.desc.npy' must have shape (40, D)");
  // Keypoints without scores.
  save_rows(det / "v_shift" / "2.kpts.npy", std::vector<float>(80, 1.0f), 2);
  fails_with(base, "2.kpts.npy' must have shape (K, 3)");
  // A missing file.
  fs::remove(det / "v_shift" / "2.kpts.npy");
  fails_with(base, "2.kpts.npy' is missing");
}

BOOST_AUTO_TEST_SUITE_END()
