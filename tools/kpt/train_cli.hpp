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

// `kpt train --model keypointnet` (KP2D). f: the parsed flags of kpt train; config: the settings of
// --config (a new run, {} without it) or RUN/config.json (resume); dir: --out or --resume.
int train_keypointnet(const flags& f, bool resume, const std::filesystem::path& dir, const nlohmann::json& config);

// `kpt train --model superpoint` (joint training on kpt adapt's points, train_superpoint.cpp); the
// same arguments.
int train_superpoint(const flags& f, bool resume, const std::filesystem::path& dir, const nlohmann::json& config);

}  // namespace kpt::cli::train_cli
