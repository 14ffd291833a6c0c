#pragma once
// What the translation units of `kpt train` share (cmd_train.cpp: flags, MagicPoint;
// train_kp2d.cpp: KP2D; train_superpoint.cpp: SuperPoint; their template code is heavy and so
// each compiles in its own TU).
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "cli.hpp"
#include "kpt/train/loop.hpp"
#include "progress.hpp"

namespace kpt::cli::train_cli {

// Set by Ctrl-C while a sigint_scope is alive; trainers poll it after every step.
std::atomic<bool>& stop_requested();

// Routes SIGINT to stop_requested() for its lifetime (then back to the default action).
struct sigint_scope {
  sigint_scope();
  ~sigint_scope();
  sigint_scope(const sigint_scope&) = delete;
  sigint_scope& operator=(const sigint_scope&) = delete;
};

// Runs trainer(on_step, stop) -> train::train_status with what every `kpt train` shows: a progress
// bar from step `first`, Ctrl-C = checkpoint and stop, and the closing message. Returns the exit
// code: 0 finished, 130 interrupted. `outputs` names what a finished run wrote besides the log.
template <class Trainer>
int run_with_progress(const train::run_folder& run, index_t first, const std::string& outputs, Trainer&& trainer) {
  progress bar("steps", "img/s", first);
  train::train_status status;
  {
    sigint_scope sigint;
    try {
      status = trainer(
          [&](const train::step_report& r) {
            char note[64];
            std::snprintf(note, sizeof note, "loss %.4f", r.loss);
            bar.update(r.step, r.steps, r.images_per_s, note);
          },
          &stop_requested());
    } catch (...) {
      bar.finish_line();
      throw;
    }
  }
  if (status == train::train_status::interrupted) {
    bar.finish_line();
    std::fprintf(stderr, "kpt train: interrupted; checkpoint saved in %s (continue with kpt train --resume %s)\n",
                 (run.dir() / "checkpoints").string().c_str(), run.dir().string().c_str());
    return 130;
  }
  std::fprintf(stderr, "kpt train: done; %s, log in %s\n", outputs.c_str(), run.log_path().string().c_str());
  return 0;
}

// A JSON settings file (--config); usage_error when it is not valid JSON.
nlohmann::json read_json(const std::filesystem::path& file);

// The settings a run starts from, into o: RUN/config.json when resuming (a bad one is an io_error
// naming it), else the --config file's ({} without one; a bad one is a usage error), and then a new
// run's folder `dir` must not hold a run yet.
template <class Options>
void start_from_config(const flags& f, Options& o, bool resume, const std::filesystem::path& dir,
                       const nlohmann::json& config) {
  try {
    o.update(config);
  } catch (const value_error& e) {
    if (resume) throw io_error("'" + (dir / "config.json").string() + "': " + e.what());
    f.fail(std::string("the config file: ") + e.what());
  }
  if (resume) return;
  if (train::run_folder probe(dir); probe.has_config() || !probe.checkpoints().empty())
    f.fail("'" + dir.string() + "' already holds a run; use --resume " + dir.string() + " or another --out");
}

// The flags every trainer takes (each options struct has these fields), over the settings the run
// starts from; --threads goes to `threads`.
template <class Options>
void apply_common_flags(const flags& f, Options& o, int& threads) {
  if (f.has("--steps")) o.steps = f.integer("--steps", 1);
  if (f.has("--batch-size")) o.batch_size = f.integer("--batch-size", 1);
  if (f.has("--size")) {
    const auto [h, w] = f.size("--size");
    o.size = {h, w};
  }
  if (f.has("--lr")) o.lr = f.real("--lr");
  if (f.has("--seed")) o.seed = std::uint64_t(f.integer("--seed", 0));
  if (f.has("--threads")) threads = int(f.integer("--threads", 1));
  if (f.has("--checkpoint-every")) o.checkpoint_every = f.integer("--checkpoint-every", 1);
  if (f.has("--keep")) o.keep = int(f.integer("--keep", 1));
  if (f.has("--log-every")) o.log_every = f.integer("--log-every", 1);
  if (f.has("--overfit")) o.overfit_batches = f.integer("--overfit", 1);
}

// o.validate(), its complaint turned into a usage error.
template <class Options>
void validate_options(const flags& f, const Options& o) {
  try {
    o.validate();
  } catch (const value_error& e) {
    f.fail(e.what());
  }
}

// `kpt train --model keypointnet` (KP2D). f: the parsed flags of kpt train; config: the settings of
// --config (a new run, {} without it) or RUN/config.json (resume); dir: --out or --resume.
int train_keypointnet(const flags& f, bool resume, const std::filesystem::path& dir, const nlohmann::json& config);

// `kpt train --model superpoint` (joint training on kpt adapt's points, train_superpoint.cpp); the
// same arguments.
int train_superpoint(const flags& f, bool resume, const std::filesystem::path& dir, const nlohmann::json& config);

}  // namespace kpt::cli::train_cli
