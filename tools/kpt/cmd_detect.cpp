// kpt detect: keypoints and descriptors of an image, or of every image under a folder.
//
//   kpt detect --model M [--variant V] --weights W --input IMAGE_OR_DIR --output DIR
//              [--size HxW] [--top-k K] [--draw] [decoding flags]
//
// Writes DIR/<stem>.kpts.npy (K x 3 float32: x, y, score; x is the column, integer values are pixel
// centres of the network input, i.e. of the --size image when given) and DIR/<stem>.desc.npy
// (K x D float32, unit rows; not for magicpoint, which has no descriptor head), sorted by score.
// A folder input is searched recursively and its sub-folders are mirrored under DIR. --draw also
// writes DIR/<stem>.kpts.png, the image with its keypoints marked.
// Decoding (include/kpt/decode): SuperPoint/MagicPoint as magicleap's demo by default (softmax with
// +1e-5, conf 0.015, grid NMS 4, border 4); KeyPointNet as KP2D's evaluation (SPEC 7.2: every cell
// with score > 0, no NMS).
#include <algorithm>
#include <iostream>

#include "cli.hpp"
#include "kpt/data/draw.hpp"
#include "kpt/data/image.hpp"
#include "kpt/data/image_folder.hpp"
#include "kpt/geometry/points.hpp"
#include "kpt/io/npy.hpp"
#include "models.hpp"

namespace {

namespace fs = std::filesystem;

int run(std::span<const std::string> args) {
  using namespace kpt;
  cli::flags f("detect", "Detects keypoints (and descriptors) in an image or in every image under a folder (recursively,\n"
                         "mirroring sub-folders): DIR/<stem>.kpts.npy (K x 3: x, y, score) and DIR/<stem>.desc.npy (K x D).\n"
                         "Models: " + cli::model_help() + ".");
  cli::add_model_flags(f);
  f.option("--weights", "W", "weights (.safetensors, e.g. from kpt init)", {.required = true});
  f.option("--input", "PATH", "an image (PNG, JPEG, PPM, PGM) or a folder of images", {.required = true});
  f.option("--output", "DIR", "output folder (created if missing)", {.required = true});
  f.option("--size", "HxW", "resize every image to HxW first (multiples of 8); positions are in that size");
  f.option("--top-k", "K", "keep the K highest-scoring keypoints (0: all)", {.default_value = "0"});
  f.toggle("--draw", "also write DIR/<stem>.kpts.png with the keypoints marked");
  f.option("--threshold", "T", "score threshold (superpoint/magicpoint: keep >= T, default 0.015; keypointnet: keep > T, default 0)");
  f.option("--nms", "KIND", "superpoint/magicpoint NMS: grid (magicleap), box (rpautrat), maxpool (SuperGlue) or none",
           {.default_value = "grid"});
  f.option("--nms-dist", "N", "NMS distance: grid/maxpool radius, box side", {.default_value = "4"});
  f.option("--border", "N", "superpoint/magicpoint: drop keypoints within N pixels of the edge", {.default_value = "4"});
  f.option("--softmax", "KIND", "superpoint/magicpoint: magicleap (+1e-5, no max-subtraction) or exact",
           {.default_value = "magicleap"});
  f.option("--sampling", "CONV", "superpoint descriptor sampling: magicleap, magicleap_torch04, pixel_centre, tf_resize, kp2d",
           {.default_value = "magicleap"});
  if (!f.parse(args)) return 0;

  auto m = cli::model_from_flags(f);
  const auto weights = f.existing_file("--weights");
  const fs::path input = f.get("--input"), out = f.get("--output");
  std::optional<std::pair<std::int64_t, std::int64_t>> size;
  if (f.has("--size")) size = f.size("--size");
  cli::decode_settings s;
  const auto top_k = f.integer("--top-k", 0);
  s.superpoint.top_k = s.keypointnet.top_k = top_k;
  if (f.has("--threshold")) s.superpoint.threshold = s.keypointnet.threshold = f.real("--threshold");
  const auto nms = f.choice("--nms", {"grid", "box", "maxpool", "none"});
  s.superpoint.nms = nms == "grid" ? decode::nms_variant::grid
                     : nms == "box" ? decode::nms_variant::box
                     : nms == "maxpool" ? decode::nms_variant::maxpool
                                        : decode::nms_variant::none;
  s.superpoint.nms_distance = int(f.integer("--nms-dist", 0, 1000));
  s.superpoint.border = int(f.integer("--border", 0, 100000));
  s.superpoint.softmax = f.choice("--softmax", {"magicleap", "exact"}) == "exact" ? decode::softmax_variant::exact
                                                                                  : decode::softmax_variant::magicleap;
  s.superpoint.sampling = decode::sampling::by_name(
      f.choice("--sampling", {"magicleap", "magicleap_torch04", "pixel_centre", "tf_resize", "kp2d"}));
  const bool draw = f.on("--draw");

  // (image, output path without the extension)
  std::vector<std::pair<fs::path, fs::path>> jobs;
  std::error_code ec;
  if (fs::is_directory(input, ec)) {
    for (const auto& image : data::list_images(input))
      jobs.push_back({image, out / data::relative_below(image, input).replace_extension()});
    if (jobs.empty()) f.fail("--input: no images (.png, .jpg, .jpeg, .ppm, .pgm) under '" + input.string() + "'");
  } else if (fs::is_regular_file(input, ec)) {
    jobs.push_back({input, out / input.stem()});
  } else {
    f.fail("--input: '" + input.string() + "' does not exist");
  }
  if (fs::exists(out, ec) && !fs::is_directory(out, ec)) f.fail("--output: '" + out.string() + "' is a file, not a folder");
  m->load_weights(weights);
  if (!m->has_descriptors())
    std::cout << "kpt detect: " << m->name() << " has no descriptor head: writing keypoints only (no .desc.npy)\n";

  index_t total = 0;
  for (const auto& [image, stem] : jobs) {
    const auto img = cli::load_input(f, *m, image, size);
    const auto kps = m->decode(m->forward(img), s);
    fs::create_directories(stem.parent_path(), ec);
    if (ec) throw io_error("cannot create the folder '" + stem.parent_path().string() + "' (" + ec.message() + ")");
    io::save_npy(fs::path(stem.string() + ".kpts.npy"), kps.xys());
    if (kps.has_descriptors()) io::save_npy(fs::path(stem.string() + ".desc.npy"), kps.desc);
    if (draw) {
      const auto pts = geometry::to_points(kps.xy);
      const int scale = std::max(1, int(480 / img.size(1)));
      data::save_png(fs::path(stem.string() + ".kpts.png"),
                     data::overlay_points(img, pts, scale, std::max(2.5, 1.25 * scale), {0.f, 255.f, 0.f}));
    }
    total += kps.size();
  }
  std::cout << "kpt detect: " << jobs.size() << " image(s), " << total << " keypoints, written to " << out.string() << "\n";
  return 0;
}

const kpt::cli::registrar reg("detect", "detect keypoints and descriptors in images (.npy, optional overlay .png)", run);

}  // namespace
