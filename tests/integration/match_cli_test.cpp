// `kpt match` end to end. A convolutional network with stride-8 cells is equivariant to shifts by
// multiples of 8 pixels away from the borders, even with random weights, so two crops of one
// texture 8 and 16 pixels apart must match: most matches agree with the known translation and the
// estimated homography is that translation. An image matched with itself gives the identity.
// Bad calls exit with 2 and name the problem. The network is a kpt-initialised KeyPointNet:
// SuperPoint's descriptors at initialisation are all alike (nearest-neighbour distances ~1e-7),
// so they cannot be matched by anything, while KeyPointNet's already differ.
#include <boost/test/unit_test.hpp>

#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

#include "cli_support.hpp"
#include "kpt/backends/cpu_ref.hpp"
#include "kpt/core/random.hpp"
#include "kpt/data/image.hpp"
#include "kpt/geometry/resize.hpp"

using namespace kpt;
using namespace kpt::cli_test;

namespace {

void write_text(const fs::path& p, const std::string& s) {
  std::ofstream out(p);
  out << s;
}

// A smooth random gray texture [1, h, w]: uniform noise on a coarse grid, enlarged bilinearly.
tensor<float, cpu_ref> texture(index_t h, index_t w, std::uint64_t seed) {
  rng g(seed);
  auto coarse = tensor<float, cpu_ref>::empty({1, h / 6, w / 6});
  for (auto& v : coarse.values()) v = float(g.uniform());
  return geometry::resize(coarse, {h, w}, geometry::resize_mode::bilinear);
}

// The window [y0, y0 + h) x [x0, x0 + w) of t.
tensor<float, cpu_ref> crop(const tensor<float, cpu_ref>& t, index_t y0, index_t x0, index_t h, index_t w) {
  auto out = tensor<float, cpu_ref>::empty({1, h, w});
  for (index_t y = 0; y < h; ++y)
    for (index_t x = 0; x < w; ++x) out.data()[y * w + x] = t.data()[(y0 + y) * t.size(2) + x0 + x];
  return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(match_cli)

BOOST_AUTO_TEST_CASE(shifted_crops_match_by_the_shift) {
  if (!fs::exists(kpt_program())) {
    BOOST_TEST_MESSAGE("skipped: " << kpt_program() << " not built");
    return;
  }
  temp_dir d("match_cli");
  const auto log = d.path / "log", w = d.path / "kpn.safetensors";
  const auto t = texture(136, 184, 7);
  const auto a = d.path / "a.png", b = d.path / "b.png", h = d.path / "H_a_b";
  data::save_png(a, crop(t, 0, 0, 120, 160));
  data::save_png(b, crop(t, 8, 16, 120, 160));
  write_text(h, "1 0 -16\n0 1 -8\n0 0 1\n");  // A's pixel (x, y) is B's (x - 16, y - 8)
  BOOST_TEST_REQUIRE(run_kpt("init --model keypointnet --seed 5 --output " + quote(w), log) == 0);

  const auto pic = d.path / "m.png", json = d.path / "m.json";
  BOOST_TEST_REQUIRE(run_kpt("match " + quote(a) + " " + quote(b) + " --model keypointnet --weights " + quote(w) + " --out " + quote(pic) +
                                 " --top-k 200 --homography " + quote(h) + " --json " + quote(json),
                             log) == 0);
  BOOST_TEST_MESSAGE(read_text(log));
  const auto j = nlohmann::json::parse(read_text(json));
  const int matches = j.at("matches"), inliers = j.at("inliers"), correct = j.at("correct_matches");
  BOOST_TEST(matches >= 50);
  BOOST_TEST(correct >= 0.8 * matches);
  BOOST_TEST(inliers >= correct - 2);  // RANSAC keeps (about) the matches that agree with the shift
  BOOST_TEST(j.at("homography_found") == true);
  BOOST_TEST(double(j.at("corner_error")) < 0.5);
  BOOST_TEST(read_text(log).find("RANSAC inliers") != std::string::npos);
  // A 120-row pair is drawn 4 times enlarged, side by side.
  const auto drawn = data::load_image<float>(pic, data::color::rgb);
  BOOST_TEST(drawn.size(1) == 480);
  BOOST_TEST(drawn.size(2) == 1280);
}

BOOST_AUTO_TEST_CASE(an_image_matches_itself) {
  if (!fs::exists(kpt_program())) return;
  temp_dir d("match_cli_self");
  const auto log = d.path / "log", w = d.path / "kpn.safetensors", a = d.path / "a.png", h = d.path / "I";
  data::save_png(a, crop(texture(120, 160, 11), 0, 0, 120, 160));
  write_text(h, "1 0 0\n0 1 0\n0 0 1\n");
  BOOST_TEST_REQUIRE(run_kpt("init --model keypointnet --seed 2 --output " + quote(w), log) == 0);
  const auto json = d.path / "m.json";
  BOOST_TEST_REQUIRE(run_kpt("match " + quote(a) + " " + quote(a) + " --model keypointnet --weights " + quote(w) + " --out " +
                                 quote(d.path / "m.png") + " --homography " + quote(h) + " --json " + quote(json),
                             log) == 0);
  const auto j = nlohmann::json::parse(read_text(json));
  const int keypoints = j.at("keypoints_a"), matches = j.at("matches"), correct = j.at("correct_matches");
  BOOST_TEST(keypoints >= 100);
  BOOST_TEST(matches >= 0.8 * keypoints);  // near-identical descriptors of neighbours may pair up instead
  BOOST_TEST(correct >= 0.9 * matches);
  BOOST_TEST(int(j.at("inliers")) >= correct);
  BOOST_TEST(double(j.at("corner_error")) < 1e-6);
}

BOOST_AUTO_TEST_CASE(bad_calls_name_the_problem) {
  if (!fs::exists(kpt_program())) return;
  temp_dir d("match_cli_bad");
  const auto log = d.path / "log", a = d.path / "a.png", w = d.path / "sp.safetensors", mp = d.path / "mp.safetensors";
  data::save_png(a, crop(texture(64, 80, 3), 0, 0, 64, 80));
  BOOST_TEST_REQUIRE(run_kpt("init --model superpoint --seed 1 --output " + quote(w), log) == 0);
  BOOST_TEST_REQUIRE(run_kpt("init --model magicpoint --seed 1 --output " + quote(mp), log) == 0);
  const std::string out = " --out " + quote(d.path / "m.png");

  BOOST_TEST(run_kpt("match " + quote(a) + " --model superpoint --weights " + quote(w) + out, log) == 2);
  BOOST_TEST(read_text(log).find("missing the argument B") != std::string::npos);
  BOOST_TEST(run_kpt("match " + quote(a) + " " + quote(d.path / "nope.png") + " --model superpoint --weights " + quote(w) + out, log) == 2);
  BOOST_TEST(read_text(log).find("nope.png' does not exist") != std::string::npos);
  BOOST_TEST(run_kpt("match " + quote(a) + " " + quote(a) + " --model magicpoint --weights " + quote(mp) + out, log) == 2);
  BOOST_TEST(read_text(log).find("no descriptor head") != std::string::npos);
  BOOST_TEST(run_kpt("match " + quote(a) + " " + quote(a) + " --model superpoint --weights " + quote(w) + out + " --ratio 1.5", log) == 2);
  BOOST_TEST(read_text(log).find("--ratio must be in [0, 1]") != std::string::npos);
  BOOST_TEST(run_kpt("match " + quote(a) + " " + quote(a) + " --model superpoint --weights " + quote(w) + " --out " +
                         quote(d.path / "missing" / "m.png"),
                     log) == 2);
  BOOST_TEST(read_text(log).find("does not exist") != std::string::npos);
  BOOST_TEST(run_kpt("match " + quote(a) + " " + quote(a) + " " + quote(a) + " --model superpoint --weights " + quote(w) + out, log) == 2);
  BOOST_TEST(read_text(log).find("unexpected argument") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
