// kpt train: train a network on CPU, with a run folder (config, JSON-lines log, checkpoints),
// a progress bar, Ctrl-C = checkpoint and exit, and exact resumption.
//
//   kpt train --model magicpoint --out RUN [--config FILE.json] [--steps N] [--batch-size B]
//             [--size HxW] [--canvas HxW] [--lr X] [--seed S] [--threads T]
//             [--checkpoint-every N] [--keep K] [--log-every N] [--overfit N]
//   kpt train --resume RUN [--steps N]
//
// Settings: defaults < the JSON config file < flags. A resumed run reads RUN/config.json (only
// --steps may change, to train longer) and continues from the newest checkpoint.
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
#include "progress.hpp"

namespace {

using namespace kpt;

std::atomic<bool> stop_requested{false};
extern "C" void on_sigint(int) { stop_requested.store(true); }

nlohmann::json read_json(const std::filesystem::path& file) {
  std::ifstream in(file);
  if (!in) throw io_error("cannot read the config file '" + file.string() + "'");
  try {
    return nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    throw cli::usage_error("kpt train: the config file '" + file.string() + "' is not valid JSON (" + e.what() + ")");
  }
}

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

  cli::progress bar("steps", "img/s", first);
  std::signal(SIGINT, on_sigint);
  train::train_status status;
  try {
    status = train::train_magicpoint(
        model, o, run, resume, meta,
        [&](const train::step_report& r) {
          char note[64];
          std::snprintf(note, sizeof note, "loss %.4f", r.loss);
          bar.update(r.step, r.steps, r.images_per_s, note);
        },
        &stop_requested);
  } catch (...) {
    bar.finish_line();
    std::signal(SIGINT, SIG_DFL);
    throw;
  }
  std::signal(SIGINT, SIG_DFL);
  if (status == train::train_status::interrupted) {
    bar.finish_line();
    std::fprintf(stderr, "kpt train: interrupted; checkpoint saved in %s (continue with kpt train --resume %s)\n",
                 (run.dir() / "checkpoints").string().c_str(), run.dir().string().c_str());
    return 130;
  }
  std::fprintf(stderr, "kpt train: done; weights in %s, log in %s\n", run.weights_path().string().c_str(),
               run.log_path().string().c_str());
  return 0;
}

int run(std::span<const std::string> args) {
  cli::flags f("train", "train a network (MagicPoint on synthetic shapes) with checkpoints and resumption");
  f.option("--model", "M", "the network: magicpoint (SuperPoint's first stage)");
  f.option("--variant", "V", "magicpoint variant: default (no BatchNorm) or bn", {.default_value = "default"});
  f.option("--out", "RUN", "the run folder to create (config.json, log.jsonl, checkpoints/, weights.safetensors)");
  f.option("--resume", "RUN", "continue the run in RUN from its newest checkpoint");
  f.option("--config", "FILE", "JSON file of settings (flags override it)");
  f.option("--steps", "N", "optimisation steps (default 50000)");
  f.option("--batch-size", "B", "images per step (default 32)");
  f.option("--size", "HxW", "training image size, multiples of 8 (default 120x160)");
  f.option("--canvas", "HxW", "drawing canvas of the shapes (default 960x1280; smaller is faster)");
  f.option("--lr", "X", "Adam learning rate (default 0.001)");
  f.option("--seed", "S", "seed of the initial weights and of the data (default 0)");
  f.option("--threads", "T", "threads (default: all cores)");
  f.option("--checkpoint-every", "N", "steps between checkpoints (default 500; one is always written at the end)");
  f.option("--keep", "K", "newest checkpoints to keep (default 3)");
  f.option("--log-every", "N", "steps between log.jsonl lines (default 10)");
  f.option("--overfit", "N", "cycle over the first N batches instead of new data (a check that the pipeline learns)");
  if (!f.parse(args)) return 0;

  const bool resume = f.has("--resume");
  if (resume == f.has("--out")) f.fail("give either --out RUN (a new run) or --resume RUN");
  train::magicpoint_options o;
  std::string model_name, variant;
  int threads = num_threads();
  std::filesystem::path dir;
  if (resume) {
    dir = f.existing_dir("--resume");
    for (const char* flag : {"--model", "--variant", "--config", "--batch-size", "--size", "--canvas", "--lr", "--seed", "--overfit"})
      if (f.has(flag)) f.fail(std::string(flag) + " cannot change when resuming (only --steps and --threads can)");
    const auto config = train::run_folder(dir).read_config();
    o.update(config);
    model_name = config.value("model", std::string());
    variant = config.value("variant", std::string("default"));
    threads = config.value("threads", threads);
  } else {
    dir = f.get("--out");
    if (f.has("--config")) {
      const auto config = read_json(f.existing_file("--config"));
      try {
        o.update(config);
      } catch (const value_error& e) {
        f.fail(std::string("the config file: ") + e.what());
      }
      model_name = config.value("model", std::string());
      variant = config.value("variant", std::string("default"));
      threads = config.value("threads", threads);
    }
    if (f.has("--model")) model_name = f.get("--model");
    if (f.has("--variant") || variant.empty()) variant = f.get("--variant");
    if (model_name.empty()) f.fail("give --model (magicpoint)");
    if (train::run_folder probe(dir); probe.has_config() || !probe.checkpoints().empty())
      f.fail("'" + dir.string() + "' already holds a run; use --resume " + dir.string() + " or another --out");
  }
  if (f.has("--steps")) o.steps = f.integer("--steps", 1);
  if (f.has("--batch-size")) o.batch_size = f.integer("--batch-size", 1);
  if (f.has("--size")) {
    const auto [h, w] = f.size("--size");
    o.size = {h, w};
  }
  if (f.has("--canvas")) {
    const auto [h, w] = f.size("--canvas");
    o.canvas = {h, w};
  }
  if (f.has("--lr")) o.lr = f.real("--lr");
  if (f.has("--seed")) o.seed = std::uint64_t(f.integer("--seed", 0));
  if (f.has("--threads")) threads = int(f.integer("--threads", 1));
  if (f.has("--checkpoint-every")) o.checkpoint_every = f.integer("--checkpoint-every", 1);
  if (f.has("--keep")) o.keep = int(f.integer("--keep", 1));
  if (f.has("--log-every")) o.log_every = f.integer("--log-every", 1);
  if (f.has("--overfit")) o.overfit_batches = f.integer("--overfit", 1);
  try {
    o.validate();
  } catch (const value_error& e) {
    f.fail(e.what());
  }
  if (model_name != "magicpoint")
    f.fail("kpt train knows --model magicpoint so far (SuperPoint and KP2D training are not built yet), got '" +
           model_name + "'");
  const train::run_folder run(dir);
  if (variant == "default") return train<models::magicpoint>(model_name, variant, o, threads, run, resume);
  if (variant == "bn") return train<models::magicpoint_bn>(model_name, variant, o, threads, run, resume);
  f.fail("unknown magicpoint variant '" + variant + "' (default or bn)");
  return 2;
}

const kpt::cli::registrar reg("train", "train MagicPoint on synthetic shapes (checkpoints, --resume, Ctrl-C safe)", run);

}  // namespace
