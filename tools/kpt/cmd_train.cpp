// kpt train: train a network on CPU, with a run folder (config, JSON-lines log, checkpoints),
// a progress bar, Ctrl-C = checkpoint and exit, and exact resumption.
//
//   kpt train --model magicpoint --out RUN [--config FILE.json] [--steps N] [--batch-size B]
//             [--size HxW] [--canvas HxW] [--lr X] [--seed S] [--threads T]
//             [--checkpoint-every N] [--keep K] [--log-every N] [--overfit N]
//   kpt train --model superpoint [--variant magicleap|bn] --images DIR --labels DIR --out RUN
//             [--init MAGICPOINT_WEIGHTS] [--label-size HxW] ... (train_superpoint.cpp)
//   kpt train --model keypointnet [--variant v0..v4] --images DIR --out RUN [--epochs N | --steps N]
//             [--lr-halve-every E] ... (KP2D: train_kp2d.cpp)
//   kpt train --resume RUN [--steps N]
//
// Settings: defaults < the JSON config file < flags. A resumed run reads RUN/config.json (only
// --steps (KP2D: also --epochs) and --threads may change) and continues from the newest checkpoint.
#include <atomic>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <span>
#include <string>

#include <nlohmann/json.hpp>

#include "cli.hpp"
#include "kpt/backends/cpu.hpp"
#include "kpt/backends/cpu/threads.hpp"
#include "kpt/models/superpoint.hpp"
#include "kpt/train/magicpoint.hpp"
#include "train_cli.hpp"

namespace kpt::cli::train_cli {

std::atomic<bool>& stop_requested() {
  static std::atomic<bool> flag{false};
  return flag;
}

namespace {
extern "C" void on_sigint(int) { stop_requested().store(true); }
}  // namespace

sigint_scope::sigint_scope() { std::signal(SIGINT, on_sigint); }
sigint_scope::~sigint_scope() { std::signal(SIGINT, SIG_DFL); }

nlohmann::json read_json(const std::filesystem::path& file) {
  std::ifstream in(file);
  if (!in) throw io_error("cannot read the config file '" + file.string() + "'");
  try {
    return nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    throw cli::usage_error("kpt train: the config file '" + file.string() + "' is not valid JSON (" + e.what() + ")");
  }
}

}  // namespace kpt::cli::train_cli

namespace {

using namespace kpt;
using cli::train_cli::apply_common_flags;
using cli::train_cli::read_json;
using cli::train_cli::start_from_config;
using cli::train_cli::validate_options;

template <class Config>
int train(const std::string& model_name, const std::string& variant, train::magicpoint_options o, int threads,
          const train::run_folder& run, bool resume) {
  set_num_threads(threads);
  models::superpoint<Config, float, cpu> model(o.seed);
  const nlohmann::json meta = {{"model", model_name}, {"variant", variant}};
  if (!resume) {
    nlohmann::json config = o.to_json();
    config["model"] = model_name;
    config["variant"] = variant;
    config["threads"] = threads;
    run.write_config(config);
  }
  const index_t first = resume && !run.checkpoints().empty() ? run.checkpoints().back().first : 0;
  std::fprintf(stderr, "kpt train: %s (%s) on synthetic shapes %lldx%lld, batch %lld, %lld steps, threads %d -> %s\n",
               model_name.c_str(), variant.c_str(), static_cast<long long>(o.size.height),
               static_cast<long long>(o.size.width), static_cast<long long>(o.batch_size),
               static_cast<long long>(o.steps), threads, run.dir().string().c_str());
  if (resume) std::fprintf(stderr, "kpt train: resuming from step %lld\n", static_cast<long long>(first));

  return cli::train_cli::run_with_progress(
      run, first, "weights in " + run.weights_path().string(), [&](const auto& on_step, const auto* stop) {
        return train::train_magicpoint(model, o, run, resume, meta, on_step, stop);
      });
}

int run(std::span<const std::string> args) {
  cli::flags f("train", "train a network with checkpoints and resumption: MagicPoint on synthetic shapes, SuperPoint "
                        "on photos with kpt adapt's points, or KP2D's KeyPointNet (+ IO-Net) self-supervised on photos");
  f.option("--model", "M", "the network: magicpoint (SuperPoint's first stage), superpoint (joint training on "
                           "adapted points) or keypointnet (KP2D)");
  f.option("--variant", "V", "magicpoint: default (no BatchNorm, the default) or bn; superpoint: magicleap (the "
                             "default) or bn; keypointnet: v4 (the paper's model, the default), v0, v1, v2, v3 "
                             "(KP2D's ablations) or v4_gray");
  f.option("--images", "DIR", "superpoint, keypointnet: the folder of training photos, searched recursively "
                              "(scripts/training-photos.sh DIR makes one)");
  f.option("--labels", "DIR", "superpoint: the points of those photos, as kpt adapt --input IMAGES --output DIR wrote them");
  f.option("--label-size", "HxW", "superpoint: the --size kpt adapt ran at (default: --size)");
  f.option("--init", "W", "superpoint: start the encoder and detector from these MagicPoint weights");
  f.option("--out", "RUN", "the run folder to create (config.json, log.jsonl, checkpoints/, weights.safetensors)");
  f.option("--resume", "RUN", "continue the run in RUN from its newest checkpoint");
  f.option("--config", "FILE", "JSON file of settings (flags override it)");
  f.option("--steps", "N", "optimisation steps (magicpoint: default 50000; superpoint: 100000; keypointnet: instead "
                           "of --epochs)");
  f.option("--epochs", "N", "keypointnet: passes over the photos (default 50); an epoch is photos / batch-size steps");
  f.option("--batch-size", "B", "images (superpoint: pairs) per step (magicpoint: default 32; superpoint, keypointnet: 8)");
  f.option("--size", "HxW", "training image size, multiples of 8 (magicpoint: default 120x160; others: 240x320)");
  f.option("--canvas", "HxW", "magicpoint: drawing canvas of the shapes (default 960x1280; smaller is faster)");
  f.option("--lr", "X", "Adam learning rate (default 0.001; superpoint: 0.0001)");
  f.option("--lr-halve-every", "E", "keypointnet: halve the learning rate every E epochs, at most 4 times (default 40)");
  f.option("--seed", "S", "seed of the initial weights and of the data (default 0)");
  f.option("--threads", "T", "threads (default: all cores)");
  f.option("--checkpoint-every", "N", "steps between checkpoints (default 500; one is always written at the end)");
  f.option("--keep", "K", "newest checkpoints to keep (default 3)");
  f.option("--log-every", "N", "steps between log.jsonl lines (default 10)");
  f.option("--overfit", "N", "cycle over the first N batches instead of new data (a check that the pipeline learns)");
  if (!f.parse(args)) return 0;

  const bool resume = f.has("--resume");
  if (resume == f.has("--out")) f.fail("give either --out RUN (a new run) or --resume RUN");
  // Which trainer: --model, or the model of the --config file or of the resumed run.
  nlohmann::json config = nlohmann::json::object();
  std::filesystem::path dir;
  std::string model_name;
  if (resume) {
    dir = f.existing_dir("--resume");
    config = train::run_folder(dir).read_config();
    model_name = config.value("model", std::string());
  } else {
    dir = f.get("--out");
    if (f.has("--config")) config = read_json(f.existing_file("--config"));
    if (config.is_object()) model_name = config.value("model", std::string());
    if (f.has("--model")) model_name = f.get("--model");
    if (model_name.empty()) f.fail("give --model (magicpoint, superpoint or keypointnet)");
  }
  if (model_name == "superpoint") return cli::train_cli::train_superpoint(f, resume, dir, config);
  for (const char* flag : {"--labels", "--label-size", "--init"})
    if (f.has(flag)) f.fail(std::string(flag) + " is for --model superpoint");
  if (model_name == "keypointnet") return cli::train_cli::train_keypointnet(f, resume, dir, config);
  if (model_name != "magicpoint")
    f.fail("--model must be magicpoint, superpoint or keypointnet, got '" + model_name + "'");
  for (const char* flag : {"--images", "--epochs", "--lr-halve-every"})
    if (f.has(flag)) f.fail(std::string(flag) + " is for --model keypointnet or superpoint; magicpoint trains on "
                                                "synthetic shapes");

  train::magicpoint_options o;
  std::string variant;
  int threads = num_threads();
  if (resume) {
    for (const char* flag : {"--model", "--variant", "--config", "--batch-size", "--size", "--canvas", "--lr", "--seed", "--overfit"})
      if (f.has(flag)) f.fail(std::string(flag) + " cannot change when resuming (only --steps and --threads can)");
  }
  start_from_config(f, o, resume, dir, config);
  variant = config.value("variant", std::string("default"));
  threads = config.value("threads", threads);
  if (f.has("--variant")) variant = f.get("--variant");
  apply_common_flags(f, o, threads);
  if (f.has("--canvas")) {
    const auto [h, w] = f.size("--canvas");
    o.canvas = {h, w};
  }
  validate_options(f, o);
  const train::run_folder run(dir);
  if (variant == "default") return train<models::magicpoint>(model_name, variant, o, threads, run, resume);
  if (variant == "bn") return train<models::magicpoint_bn>(model_name, variant, o, threads, run, resume);
  f.fail("unknown magicpoint variant '" + variant + "' (default or bn)");
  return 2;
}

const kpt::cli::registrar reg(
    "train", "train MagicPoint on synthetic shapes, SuperPoint or KP2D on photos (checkpoints, --resume, Ctrl-C safe)", run);

}  // namespace
