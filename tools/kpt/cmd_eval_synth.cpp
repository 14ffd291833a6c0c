// kpt eval-synth: detection average precision on synthetic shapes with known corners (the
// SuperPoint paper's Table 1 protocol: a detection is correct within 4 px; eval/detection_ap.hpp).
//
//   kpt synth --out shapes --count 1000 --seed 12345               # the test images, once
//   kpt eval-synth --images shapes --model magicpoint --weights W [--json F]
//   kpt eval-synth --images shapes --detections DIR [--json F]     # any detector: DIR/N.kpts.npy
//
// A network runs on each image at its own size and is decoded as rpautrat's MagicPoint evaluation
// does (exact softmax, keep >= 0.001, box NMS of side 4 with IoU 0.1, no border removal, no top-k),
// so the precision-recall curve is complete. The ground truth is prepared as rpautrat's pipeline
// does: rounded to pixels, clipped into the image, duplicates merged.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli.hpp"
#include "kpt/data/hpatches.hpp"
#include "kpt/eval/detection_ap.hpp"
#include "kpt/eval/from_decoded.hpp"
#include "kpt/geometry/points.hpp"
#include "kpt/io/atomic_file.hpp"
#include "kpt/io/npy.hpp"
#include "models.hpp"
#include "progress.hpp"

namespace {

using namespace kpt;
namespace fs = std::filesystem;

// The images of a `kpt synth` folder: N.png with N.points.npy, in numeric order.
std::vector<index_t> synth_indices(const fs::path& dir) {
  std::vector<index_t> out;
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string n = e.path().filename().string();
    if (!n.ends_with(".points.npy")) continue;
    const std::string stem = n.substr(0, n.size() - 11);
    if (stem.empty() || !std::all_of(stem.begin(), stem.end(), [](char c) { return c >= '0' && c <= '9'; })) continue;
    if (fs::exists(dir / (stem + ".png"))) out.push_back(std::stoll(stem));
  }
  std::sort(out.begin(), out.end());
  return out;
}

int run(std::span<const std::string> args) {
  cli::flags f("eval-synth", "detection average precision on synthetic shapes (SuperPoint Table 1)");
  f.option("--images", "DIR", "a folder written by kpt synth (N.png + N.points.npy)", {.required = true});
  f.option("--model", "M", "the network: superpoint, magicpoint or keypointnet");
  f.option("--variant", "V", "variant of the model: " + cli::model_help());
  f.option("--weights", "W", "the network's weights (.safetensors)");
  f.option("--detections", "DIR", "evaluate stored detections DIR/N.kpts.npy (K x 3: x, y, score) instead");
  f.option("--distance", "PX", "correctness distance in pixels", {.default_value = "4"});
  f.option("--threshold", "T", "network decoding: keep heat >= T", {.default_value = "0.001"});
  f.option("--json", "FILE", "also write the numbers as JSON");
  if (!f.parse(args)) return 0;

  const fs::path images = f.existing_dir("--images");
  const auto indices = synth_indices(images);
  if (indices.empty()) f.fail("'" + images.string() + "' holds no N.png + N.points.npy pairs; write them with kpt synth");
  const double distance = f.real("--distance");
  if (!(distance > 0)) f.fail("--distance must be > 0");

  std::unique_ptr<cli::model> net;
  fs::path dets;
  if (f.has("--detections")) {
    if (f.has("--model") || f.has("--weights")) f.fail("give either --detections or --model with --weights, not both");
    dets = f.existing_dir("--detections");
  } else {
    if (!f.has("--model") || !f.has("--weights")) f.fail("give --model M --weights W (or --detections DIR)");
    net = cli::model_from_flags(f);
    net->load_weights(f.existing_file("--weights"));
  }
  cli::decode_settings settings;
  settings.superpoint.softmax = decode::softmax_variant::exact;
  settings.superpoint.threshold = f.real("--threshold");
  settings.superpoint.nms = decode::nms_variant::box;
  settings.superpoint.nms_distance = 4;
  settings.superpoint.box_iou = 0.1;
  settings.superpoint.border = 0;

  eval::detection_counter counter(distance);
  cli::progress bar("images", "img/s");
  index_t done = 0;
  const auto t0 = std::chrono::steady_clock::now();
  for (const index_t i : indices) {
    const std::string stem = std::to_string(i);
    const auto points = geometry::to_points(io::load_npy<float>(images / (stem + ".points.npy")));
    const auto size = data::read_image_size(images / (stem + ".png"));
    const auto gt = eval::pixel_ground_truth(points, size);
    eval::scored_keypoints found;
    if (net) {
      const auto input = cli::load_input(f, *net, images / (stem + ".png"), std::nullopt);
      found = eval::from_decoded(net->decode(net->forward(input), settings));
    } else {
      const fs::path file = dets / (stem + ".kpts.npy");
      if (!fs::exists(file)) f.fail("missing detections '" + file.string() + "' for image " + stem + ".png");
      const auto rows = io::load_npy<float>(file);
      if (rows.rank() != 2 || rows.size(1) != 3)
        f.fail("'" + file.string() + "' must be K x 3 (x, y, score), got " + rows.shape().str());
      const auto v = rows.to_vector();
      found = eval::scored_keypoints::from_rows(v);
    }
    counter.add(found, gt);
    ++done;
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    bar.update(done, index_t(indices.size()), double(done) / std::max(secs, 1e-9));
  }
  const auto r = counter.result();
  std::printf("synthetic shapes: %lld images, %lld ground-truth points, %lld detections\n",
              static_cast<long long>(r.images), static_cast<long long>(r.ground_truth),
              static_cast<long long>(r.detections));
  std::printf("average precision (correct within %g px): %.4f   precision %.4f   recall %.4f\n", distance,
              r.average_precision, r.precision, r.recall);
  if (f.has("--json")) {
    nlohmann::json j = {{"images", r.images},
                        {"ground_truth", r.ground_truth},
                        {"detections", r.detections},
                        {"true_positives", r.true_positives},
                        {"distance", distance},
                        {"average_precision", r.average_precision},
                        {"precision", r.precision},
                        {"recall", r.recall},
                        {"source", net ? net->name() + " " + net->variant() : dets.string()}};
    io::write_file_atomic(f.get("--json"), j.dump(2) + "\n", "kpt eval-synth");
  }
  return 0;
}

const kpt::cli::registrar reg("eval-synth", "detection average precision on synthetic shapes (SuperPoint Table 1)", run);

}  // namespace
