// The models kpt ships under models/ (trained by kpt itself) do what models/README.md says they
// do, measured through the `kpt` program on data they never trained on:
// - magicpoint-shapes: detection AP on fresh synthetic shapes well above its initial weights;
// - superpoint-photos: on the shared HPatches sequences, a matching score five times its initial
//   weights' and homographies its initial weights never find (models/README.md: MS 0.131,
//   repeatability 0.387, Cor-5 0.1; initial weights 0.013, 0.339, 0).
#include <boost/test/unit_test.hpp>

#include <string>

#include <nlohmann/json.hpp>

#include "cli_support.hpp"

using namespace kpt::cli_test;

namespace {

const fs::path models_dir = KPT_MODELS_DIR;
const fs::path hpatches_dir = fs::path(KPT_SHARED_DIR) / "data" / "hpatches";

// `kpt args --json json`, then the JSON it wrote; fails the test with the command's output when it
// did not exit 0.
nlohmann::json run_for_json(const std::string& args, const fs::path& json, const fs::path& log) {
  const int rc = run_kpt(args + " --json " + quote(json), log);
  BOOST_TEST_REQUIRE(rc == 0, "kpt " << args << " exited " << rc << ":\n" << read_text(log));
  return nlohmann::json::parse(read_text(json));
}

bool tools_built() {
  if (fs::exists(kpt_program())) return true;
  BOOST_TEST_MESSAGE("skipped: " << kpt_program() << " not built (KPT_BUILD_TOOLS=OFF?)");
  return false;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(shipped_models)

BOOST_AUTO_TEST_CASE(magicpoint_shapes_detects_corners_of_unseen_shapes) {
  if (!tools_built()) return;
  const fs::path weights = models_dir / "magicpoint-shapes.safetensors";
  BOOST_TEST_REQUIRE(fs::exists(weights), weights << " is missing from the checkout");
  temp_dir d("shipped_magicpoint");
  // A seed no training run of models/README.md used.
  BOOST_TEST_REQUIRE(run_kpt("synth --out " + quote(d.path / "shapes") + " --count 60 --seed 918273645", d.path / "synth.log") == 0);
  BOOST_TEST_REQUIRE(run_kpt("init --model magicpoint --seed 3 --output " + quote(d.path / "init.safetensors"), d.path / "init.log") == 0);
  const auto eval = [&](const fs::path& w, const std::string& name) {
    return run_for_json("eval-synth --images " + quote(d.path / "shapes") + " --model magicpoint --weights " + quote(w),
                        d.path / (name + ".json"), d.path / (name + ".log"))["average_precision"].get<double>();
  };
  const double shipped = eval(weights, "shipped"), initial = eval(d.path / "init.safetensors", "initial");
  BOOST_TEST_MESSAGE("synthetic-shapes AP: shipped " << shipped << ", initial weights " << initial);
  // models/README.md: 0.859 on 1,000 images; FAST reaches 0.751 on them.
  BOOST_TEST(shipped > 0.75);
  BOOST_TEST(initial < 0.2);
}

BOOST_AUTO_TEST_CASE(superpoint_photos_matches_hpatches) {
  if (!tools_built()) return;
  if (!fs::exists(hpatches_dir)) {
    BOOST_TEST_MESSAGE("skipped: " << hpatches_dir << " not found (the shared HPatches sequences)");
    return;
  }
  const fs::path weights = models_dir / "superpoint-photos.safetensors";
  BOOST_TEST_REQUIRE(fs::exists(weights), weights << " is missing from the checkout");
  temp_dir d("shipped_superpoint");
  BOOST_TEST_REQUIRE(run_kpt("init --model superpoint --seed 3 --output " + quote(d.path / "init.safetensors"), d.path / "init.log") == 0);
  const auto eval = [&](const fs::path& w, const std::string& name) {
    return run_for_json("eval --model superpoint --weights " + quote(w) + " --hpatches " + quote(hpatches_dir) +
                            " --size 240x320 --top-k 300",
                        d.path / (name + ".json"), d.path / (name + ".log"))["subsets"]["all"];
  };
  const auto shipped = eval(weights, "shipped"), initial = eval(d.path / "init.safetensors", "initial");
  BOOST_TEST_MESSAGE("HPatches (10 pairs, 240x320, top 300): shipped " << shipped.dump() << "; initial " << initial.dump());
  const double ms = shipped["matching_score"], ms0 = initial["matching_score"];
  BOOST_TEST(ms > 0.1);
  BOOST_TEST(ms > 5 * ms0);
  BOOST_TEST(shipped["repeatability"].get<double>() > 0.35);
  BOOST_TEST(shipped["cor5"].get<double>() > initial["cor5"].get<double>());
}

BOOST_AUTO_TEST_SUITE_END()
