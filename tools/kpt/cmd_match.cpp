// kpt match: matches the keypoints of two images and estimates the homography between them.
//
//   kpt match A B --model M [--variant V] --weights W --out matches.png [--size HxW] [--top-k 1000]
//             [--ratio R] [--homography H.txt] [--json FILE]
//
// Both images are detected as `kpt detect` does (the model's default decoding), matched by mutual
// nearest neighbours of the descriptors (L2; KP2D's crossCheck matcher, optionally with Lowe's ratio
// test), and the homography A -> B is fitted by RANSAC with the HPatches protocol's settings
// (threshold 3 px, 5,000 iterations, confidence 0.995). The picture shows A and B side by side,
// RANSAC inliers in green and outliers in red. --homography names a known A -> B homography in
// pixels of the original images (HPatches H_1_k); kpt match then also reports how many matches are
// within 3 px of it and the corner error of the estimate (SPEC 7.5).
#include <cstdio>
#include <iomanip>
#include <iostream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "cli.hpp"
#include "kpt/data/draw.hpp"
#include "kpt/data/hpatches.hpp"
#include "kpt/data/image.hpp"
#include "kpt/eval/from_decoded.hpp"
#include "kpt/eval/homography_estimation.hpp"
#include "kpt/eval/matching.hpp"
#include "kpt/io/atomic_file.hpp"
#include "models.hpp"

namespace {

using namespace kpt;
namespace fs = std::filesystem;

constexpr double correct_distance = 3.0;  // px, the protocol's threshold (SPEC 7.5)

std::string matrix_text(const geometry::homography& H) {
  std::ostringstream os;
  os << std::setprecision(9);
  for (int r = 0; r < 3; ++r) os << "  " << H(r, 0) << " " << H(r, 1) << " " << H(r, 2) << "\n";
  return os.str();
}

nlohmann::json matrix_json(const geometry::homography& H) {
  nlohmann::json rows = nlohmann::json::array();
  for (int r = 0; r < 3; ++r) rows.push_back({H(r, 0), H(r, 1), H(r, 2)});
  return rows;
}

// Checks an output path's folder exists before the slow work, so that a typo fails at once.
fs::path output_file(const cli::flags& f, const std::string& flag) {
  const fs::path p = f.get(flag);
  std::error_code ec;
  if (fs::is_directory(p, ec)) f.fail(flag + ": '" + p.string() + "' is a folder; give a file name");
  const fs::path parent = p.parent_path().empty() ? fs::path(".") : p.parent_path();
  if (!fs::is_directory(parent, ec)) f.fail(flag + ": the folder '" + parent.string() + "' does not exist");
  return p;
}

int run(std::span<const std::string> args) {
  cli::flags f("match",
               "Matches the keypoints of image A to those of image B (mutual nearest neighbours), fits the\n"
               "homography A -> B with RANSAC (3 px, 5,000 iterations) and draws the matches side by side:\n"
               "RANSAC inliers green, outliers red. Models: " + cli::model_help() + ".");
  f.positional("A", "the first image (PNG, JPEG, PPM, PGM)");
  f.positional("B", "the second image");
  cli::add_model_flags(f);
  f.option("--weights", "W", "weights (.safetensors)", {.required = true});
  f.option("--out", "FILE", "the picture of the matches (.png)", {.required = true});
  f.option("--size", "HxW", "resize both images to HxW first (multiples of 8); positions are in that size");
  f.option("--top-k", "K", "keypoints kept per image, highest scores first (0: all)", {.default_value = "1000"});
  f.option("--ratio", "R", "also apply Lowe's ratio test: keep when d1 < R * d2 (0: off)", {.default_value = "0"});
  f.option("--homography", "FILE", "known homography A -> B (3 rows of 3 numbers, pixels of the original images, "
                                   "as HPatches H_1_k): report correct matches and the corner error");
  f.option("--json", "FILE", "write the counts and the homographies as JSON");
  if (!f.parse(args)) return 0;

  const fs::path file_a = f.existing_file("A"), file_b = f.existing_file("B");
  auto m = cli::model_from_flags(f);
  if (!m->has_descriptors())
    f.fail(m->name() + " has no descriptor head, so it cannot match; use superpoint or keypointnet");
  const auto weights = f.existing_file("--weights");
  const fs::path out = output_file(f, "--out");
  const fs::path json = f.has("--json") ? output_file(f, "--json") : fs::path();
  std::optional<std::pair<std::int64_t, std::int64_t>> size;
  if (f.has("--size")) size = f.size("--size");
  cli::decode_settings s;
  s.superpoint.top_k = s.keypointnet.top_k = f.integer("--top-k", 0);
  const double ratio = f.real("--ratio");
  if (!(ratio >= 0 && ratio <= 1)) f.fail("--ratio must be in [0, 1] (0 turns the test off), got " + f.get("--ratio"));
  std::optional<geometry::homography> truth;
  if (f.has("--homography")) truth = data::read_homography_file(f.existing_file("--homography"));

  m->load_weights(weights);
  const auto img_a = cli::load_input(f, *m, file_a, size), img_b = cli::load_input(f, *m, file_b, size);
  const auto kp_a = eval::from_decoded(m->decode(m->forward(img_a), s));
  const auto kp_b = eval::from_decoded(m->decode(m->forward(img_b), s));
  const auto matches = eval::match_descriptors(kp_a, kp_b, {.mutual = true, .ratio = ratio});
  const auto est = eval::estimate_homography(kp_a, kp_b, matches);

  nlohmann::json report = {{"a", file_a.string()},
                           {"b", file_b.string()},
                           {"size_a", {img_a.size(1), img_a.size(2)}},
                           {"size_b", {img_b.size(1), img_b.size(2)}},
                           {"keypoints_a", kp_a.size()},
                           {"keypoints_b", kp_b.size()},
                           {"matches", matches.size()},
                           {"inliers", est.n_inliers},
                           {"homography_found", est.found}};
  std::cout << "kpt match: " << kp_a.size() << " keypoints in A, " << kp_b.size() << " in B, " << matches.size()
            << " mutual matches";
  if (est.found) {
    std::cout << ", " << est.n_inliers << " RANSAC inliers (" << std::fixed << std::setprecision(1)
              << 100.0 * double(est.n_inliers) / double(matches.size()) << "%)\n"
              << std::defaultfloat << "estimated homography A -> B (pixels of the matched images):\n"
              << matrix_text(est.H);
    report["homography"] = matrix_json(est.H);
  } else {
    std::cout << "\nno homography: RANSAC needs at least 4 matches in general position, got " << matches.size() << "\n";
  }

  if (truth) {
    // The known homography between the images as matched (SPEC 7.1's rescaling).
    const geometry::image_size a0 = data::read_image_size(file_a), b0 = data::read_image_size(file_b);
    const geometry::homography H = geometry::adjust_for_resize(*truth, a0, {img_a.size(1), img_a.size(2)}, b0,
                                                               {img_b.size(1), img_b.size(2)});
    index_t correct = 0;
    for (const auto& mt : matches)
      if ((geometry::apply(H, kp_a.xy[std::size_t(mt.query)]) - kp_b.xy[std::size_t(mt.train)]).norm() <= correct_distance)
        ++correct;
    std::cout << "known homography: " << correct << " of " << matches.size() << " matches within "
              << correct_distance << " px of it";
    report["correct_matches"] = correct;
    report["homography_true"] = matrix_json(H);
    if (est.found) {
      const double err = eval::corner_error(est.H, H, {img_a.size(1), img_a.size(2)});
      std::cout << "; corner error of the estimate " << std::fixed << std::setprecision(2) << err << " px"
                << std::defaultfloat;
      report["corner_error"] = err;
    }
    std::cout << "\n";
  }

  // Outliers first, so that the inliers are drawn on top of them.
  std::vector<data::match_line> lines;
  lines.reserve(matches.size());
  for (const bool inlier : {false, true})
    for (std::size_t i = 0; i < matches.size(); ++i)
      if (bool(est.inliers[i]) == inlier)
        lines.push_back({kp_a.xy[std::size_t(matches[i].query)], kp_b.xy[std::size_t(matches[i].train)],
                         inlier ? data::colour{0.f, 220.f, 0.f} : data::colour{230.f, 0.f, 0.f}});
  const index_t tallest = std::max(img_a.size(1), img_b.size(1));
  const int scale = std::max(1, int(480 / tallest));
  data::save_png(out, data::draw_matches(img_a, img_b, lines, scale, scale > 1 ? 1.5 : 1.0));
  std::cout << "wrote " << out.string() << " (inliers green, outliers red)\n";
  if (!json.empty()) {
    io::write_file_atomic(json, report.dump(2) + "\n", "kpt match --json");
    std::cout << "wrote " << json.string() << "\n";
  }
  return 0;
}

const kpt::cli::registrar reg("match", "match two images and fit their homography (picture: inliers green, outliers red)",
                              run);

}  // namespace
