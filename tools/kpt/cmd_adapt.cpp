// kpt adapt: homographic adaptation (SPEC 4.2), the pseudo-ground-truth points of SuperPoint's
// second stage, for every image under a folder.
//
//   kpt adapt --model magicpoint [--variant V] --weights W --input DIR --output DIR
//             [--num-homographies 100] [--size HxW] [--threshold 0.015] [--nms-dist 4] [--top-k 600]
//             [--seed S] [--draw] [--aggregation mean|max] [--filter-counts N] [--softmax exact|magicleap]
//             [--threads T]
//
// Writes DIR/<stem>.kpts.npy in the format of kpt detect (K x 3 float32: x, y, score; pixels of the
// image as evaluated, i.e. of the --size image), sorted by score; --draw adds DIR/<stem>.kpts.png.
// The algorithm is include/kpt/train/homographic_adaptation.hpp; the homographies of an image are
// drawn from (--seed, its path relative to --input), so a result depends on neither the order nor
// the number of images.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>

#include "cli.hpp"
#include "kpt/backends/cpu/threads.hpp"
#include "kpt/data/draw.hpp"
#include "kpt/data/image.hpp"
#include "kpt/data/image_folder.hpp"
#include "kpt/geometry/points.hpp"
#include "kpt/io/npy.hpp"
#include "kpt/train/homographic_adaptation.hpp"
#include "models.hpp"
#include "progress.hpp"

namespace {

namespace fs = std::filesystem;

int run(std::span<const std::string> args) {
  using namespace kpt;
  cli::flags f("adapt",
               "Homographic adaptation (SuperPoint, SPEC 4.2): for every image under a folder (recursively, mirroring\n"
               "sub-folders), averages the detector's probability map over the identity and N-1 random homographies\n"
               "(rpautrat's label-export settings), then box NMS, threshold and top-k: DIR/<stem>.kpts.npy (K x 3: x, y,\n"
               "score), the pseudo ground truth for SuperPoint training. Models: superpoint, magicpoint.");
  cli::add_model_flags(f);
  f.option("--weights", "W", "weights (.safetensors, e.g. RUN/weights.safetensors of kpt train)", {.required = true});
  f.option("--input", "PATH", "a folder of images (PNG, JPEG, PPM, PGM), or one image", {.required = true});
  f.option("--output", "DIR", "output folder (created if missing)", {.required = true});
  f.option("--num-homographies", "N", "terms: the identity + N-1 random homographies", {.default_value = "100"});
  f.option("--size", "HxW", "resize every image to HxW first (multiples of 8); positions are in that size");
  f.option("--threshold", "T", "keep aggregated probabilities >= T", {.default_value = "0.015"});
  f.option("--nms-dist", "N", "box NMS side (rpautrat's box_nms, IoU 0.1)", {.default_value = "4"});
  f.option("--top-k", "K", "keep the K highest-scoring points (0: all)", {.default_value = "600"});
  f.option("--seed", "S", "seed of the homographies", {.default_value = "0"});
  f.option("--aggregation", "KIND", "mean (rpautrat's 'sum') or max", {.default_value = "mean"});
  f.option("--filter-counts", "N", "zero the pixels seen by fewer than N terms (0: off)", {.default_value = "0"});
  f.option("--softmax", "KIND", "exact (rpautrat) or magicleap (+1e-5, no max-subtraction)", {.default_value = "exact"});
  f.option("--threads", "T", "threads (default: all cores)");
  f.toggle("--draw", "also write DIR/<stem>.kpts.png with the points marked");
  if (!f.parse(args)) return 0;

  auto m = cli::model_from_flags(f);
  if (!m->has_probability_map())
    f.fail("--model " + m->name() + " has no dense per-pixel probability map to adapt; use superpoint or magicpoint");
  const auto weights = f.existing_file("--weights");
  const fs::path input = f.get("--input"), out = f.get("--output");
  std::optional<std::pair<std::int64_t, std::int64_t>> size;
  if (f.has("--size")) size = f.size("--size");
  train::homographic_adaptation_options o;
  o.num = int(f.integer("--num-homographies", 1, 100000));
  o.aggregation = f.choice("--aggregation", {"mean", "max"}) == "max" ? train::ha_aggregation::max : train::ha_aggregation::mean;
  o.filter_counts = int(f.integer("--filter-counts", 0, 100000));
  const auto seed = std::uint64_t(f.integer("--seed", 0));
  const double threshold = f.real("--threshold");
  const auto dec = train::homographic_adaptation_decode(threshold, int(f.integer("--nms-dist", 1, 1000)), f.integer("--top-k", 0));
  const auto softmax = f.choice("--softmax", {"exact", "magicleap"}) == "exact" ? decode::softmax_variant::exact
                                                                               : decode::softmax_variant::magicleap;
  if (f.has("--threads")) set_num_threads(int(f.integer("--threads", 1, 4096)));
  const bool draw = f.on("--draw");

  // (image, output path without the extension, path relative to --input)
  struct job {
    fs::path image, stem;
    std::string key;
  };
  std::vector<job> jobs;
  std::error_code ec;
  if (fs::is_directory(input, ec)) {
    for (const auto& image : data::list_images(input)) {
      const auto rel = data::relative_below(image, input);
      jobs.push_back({image, out / fs::path(rel).replace_extension(), rel.generic_string()});
    }
    if (jobs.empty()) f.fail("--input: no images (.png, .jpg, .jpeg, .ppm, .pgm) under '" + input.string() + "'");
  } else if (fs::is_regular_file(input, ec)) {
    jobs.push_back({input, out / input.stem(), input.filename().generic_string()});
  } else {
    f.fail("--input: '" + input.string() + "' does not exist");
  }
  if (fs::exists(out, ec) && !fs::is_directory(out, ec)) f.fail("--output: '" + out.string() + "' is a file, not a folder");
  m->load_weights(weights);

  auto net = [&](const cli::host_tensor& x) { return m->probability_map(x.view_as({1, x.size(-2), x.size(-1)}), softmax); };
  cli::progress bar("images", "img/s");
  const auto t0 = std::chrono::steady_clock::now();
  index_t total = 0;
  for (std::size_t i = 0; i < jobs.size(); ++i) {
    const auto& j = jobs[i];
    const auto img = cli::load_input(f, *m, j.image, size);
    o.seed = splitmix64(seed ^ fnv1a(j.key));  // each image its own homographies, the same on every run
    // Within an image too: 100 forwards take seconds.
    o.on_term = [&](int k, int num) {
      if (k < num) bar.update(index_t(i), index_t(jobs.size()), -1, "homography " + std::to_string(k) + "/" + std::to_string(num));
    };
    const auto r = train::homographic_adaptation(img, net, o);
    const auto kps = decode::superpoint_keypoints(r.prob, cli::host_tensor{}, dec);
    fs::create_directories(j.stem.parent_path(), ec);
    if (ec) throw io_error("cannot create the folder '" + j.stem.parent_path().string() + "' (" + ec.message() + ")");
    io::save_npy(fs::path(j.stem.string() + ".kpts.npy"), kps.xys());
    if (draw) {
      const auto pts = geometry::to_points(kps.xy);
      const int scale = std::max(1, int(480 / img.size(1)));
      data::save_png(fs::path(j.stem.string() + ".kpts.png"),
                     data::overlay_points(img, pts, scale, std::max(2.5, 1.25 * scale), {0.f, 255.f, 0.f}));
    }
    total += kps.size();
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    bar.update(index_t(i + 1), index_t(jobs.size()), secs > 0 ? double(i + 1) / secs : -1);
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  char timing[64];
  std::snprintf(timing, sizeof timing, "%.2f s per image", secs / double(jobs.size()));
  std::cout << "kpt adapt: " << jobs.size() << " image(s), " << o.num << " homographies each, " << total
            << " points, " << timing << ", written to " << out.string() << "\n";
  return 0;
}

const kpt::cli::registrar reg("adapt", "homographic adaptation: pseudo-ground-truth points of a folder of images (.kpts.npy)",
                              run);

}  // namespace
