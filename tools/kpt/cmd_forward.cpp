// kpt forward: run a network on one image and write every head's raw output as .npy, for checks
// against PyTorch (tools/check_models_torch.py) and for people who want the dense maps.
//
//   kpt forward --model M [--variant V] --weights W --input IMAGE --output DIR [--size HxW]
//
// SuperPoint / MagicPoint: DIR/semi.npy [1, 65, H/8, W/8] (and DIR/desc.npy [1, 256, H/8, W/8],
// unit-norm); input gray / 255 (SPEC 1.3). KeyPointNet: DIR/score.npy [1, 1, H/8, W/8],
// DIR/coord.npy [1, 2, H/8, W/8] (x, y pixels), DIR/desc.npy [1, 256, H/8, W/8] (eval mode:
// sampled per cell, unit-norm); input RGB / 255, then (x - 0.5) * 0.225 (SPEC 5.1). Eval mode.
#include <iostream>

#include "cli.hpp"
#include "kpt/io/npy.hpp"
#include "models.hpp"

namespace {

int run(std::span<const std::string> args) {
  namespace fs = std::filesystem;
  using namespace kpt;
  cli::flags f("forward", "Runs a model (eval mode) on one image and writes each head's raw output as DIR/<head>.npy:\n"
                          "superpoint/magicpoint semi.npy (and desc.npy); keypointnet score.npy, coord.npy, desc.npy.\n"
                          "Models: " + cli::model_help() + ".");
  cli::add_model_flags(f);
  f.option("--weights", "W", "weights (.safetensors, e.g. from kpt init)", {.required = true});
  f.option("--input", "IMAGE", "image (PNG, JPEG, PPM, PGM); sides must be multiples of 8 unless --size", {.required = true});
  f.option("--output", "DIR", "output folder (created if missing)", {.required = true});
  f.option("--size", "HxW", "resize the image to HxW first (multiples of 8)");
  if (!f.parse(args)) return 0;
  auto m = cli::model_from_flags(f);
  const auto weights = f.existing_file("--weights");
  const auto input = f.existing_file("--input");
  const fs::path out = f.get("--output");
  std::optional<std::pair<std::int64_t, std::int64_t>> size;
  if (f.has("--size")) size = f.size("--size");
  m->load_weights(weights);
  const auto img = cli::load_input(f, *m, input, size);
  std::error_code ec;
  if (fs::exists(out, ec) && !fs::is_directory(out, ec)) f.fail("--output: '" + out.string() + "' is a file, not a folder");
  fs::create_directories(out, ec);
  if (ec) throw io_error("cannot create the folder '" + out.string() + "' (" + ec.message() + ")");
  for (const auto& [name, t] : m->forward(img)) {
    io::save_npy(out / (name + ".npy"), t);
    std::cout << "kpt forward: " << (out / (name + ".npy")).string() << " " << t.shape().str() << "\n";
  }
  return 0;
}

const kpt::cli::registrar reg("forward", "run a model on an image and write its raw head outputs (.npy)", run);

}  // namespace
