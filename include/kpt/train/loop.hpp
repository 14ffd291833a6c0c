#pragma once
// The step loop every trainer shares (MagicPoint, SuperPoint, KP2D): timing, the report after each
// step, the log.jsonl lines, checkpoints (every N steps, at the end and when asked to stop) with
// the newest K kept, and the final weights file.
//
//   auto status = train::run_steps(step, {.steps = 1000, ...}, run, run_meta,
//       [&](index_t s) -> train::step_outcome { ...one optimisation step...; return {loss, lr, {{"loss", loss}}}; },
//       [&](const std::filesystem::path& file, const nlohmann::json& meta) { save_checkpoint(file, model, opt, meta); },
//       on_step, stop);
#include <atomic>
#include <chrono>
#include <filesystem>
#include <functional>
#include <string>

#include <nlohmann/json.hpp>

#include "kpt/io/safetensors.hpp"
#include "kpt/nn/visit.hpp"
#include "kpt/train/run_folder.hpp"

namespace kpt::train {

// What a trainer reports after every step.
struct step_report {
  index_t step = 0, steps = 0;  // steps done, of
  double loss = 0, lr = 0;
  double images_per_s = 0;  // over the last step
  double seconds = 0;       // since this process started training
};

enum class train_status { finished, interrupted };

// What one optimisation step gives the loop: the total loss, the learning rate it used, and the
// fields of its log line besides step, images_per_s and seconds (every loss term, ...).
struct step_outcome {
  double loss = 0, lr = 0;
  nlohmann::json log = nlohmann::json::object();
};

struct loop_options {
  index_t steps = 0;             // run until this many steps are done
  index_t log_every = 10;        // and the last step
  index_t checkpoint_every = 500;  // and the last step, and a stop
  int keep = 3;                  // newest checkpoints kept
  double images_per_step = 1;    // for images_per_s
};

// Runs steps `step` .. o.steps - 1: one_step(s) performs step s (0-based) and returns its outcome;
// save(file, meta) writes a checkpoint, meta = run_meta + {"step": steps done}. `stop` is polled
// after every step: a checkpoint is then written and the loop returns interrupted.
template <class StepFn, class SaveFn>
train_status run_steps(index_t step, const loop_options& o, const run_folder& run, const nlohmann::json& run_meta,
                       StepFn&& one_step, SaveFn&& save, const std::function<void(const step_report&)>& on_step,
                       const std::atomic<bool>* stop) {
  using clock = std::chrono::steady_clock;
  const auto t_start = clock::now();
  while (step < o.steps) {
    const auto t0 = clock::now();
    const step_outcome out = one_step(step);
    ++step;
    const auto t1 = clock::now();
    step_report r;
    r.step = step;
    r.steps = o.steps;
    r.loss = out.loss;
    r.lr = out.lr;
    r.images_per_s = o.images_per_step / std::chrono::duration<double>(t1 - t0).count();
    r.seconds = std::chrono::duration<double>(t1 - t_start).count();
    if (step % o.log_every == 0 || step == o.steps) {
      nlohmann::json line = out.log;
      line["step"] = step;
      line["lr"] = r.lr;
      line["images_per_s"] = r.images_per_s;
      line["seconds"] = r.seconds;
      run.log(line);
    }
    if (on_step) on_step(r);
    const bool stopping = stop && stop->load();
    if (step % o.checkpoint_every == 0 || step == o.steps || stopping) {
      nlohmann::json meta = run_meta;
      meta["step"] = step;
      save(run.checkpoint_path(step), meta);
      run.prune(o.keep);
    }
    if (stopping && step < o.steps) return train_status::interrupted;
  }
  return train_status::finished;
}

// A trained network's weights alone, as `kpt init` writes them (PyTorch names, format pt, the
// model and variant in the metadata), loadable by `kpt detect --model M --variant V --weights`.
template <class Net>
void save_weights(const std::filesystem::path& file, Net& net, const std::string& model, const std::string& variant) {
  io::safetensors_writer w;
  nn::visit_params(net, [&](const std::string& name, auto& t) { w.add(name, t); });
  w.set_metadata("format", "pt");
  w.set_metadata("kpt.model", model);
  w.set_metadata("kpt.variant", variant);
  w.write(file);
}

}  // namespace kpt::train
