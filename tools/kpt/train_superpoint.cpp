// kpt train --model superpoint: joint detector + descriptor training on photos with points from
// kpt adapt (include/kpt/train/superpoint.hpp), in its own TU so that it compiles in parallel.
//
//   kpt train --model superpoint [--variant magicleap|bn] --images DIR --labels DIR --out RUN
//             [--init MAGICPOINT.safetensors] [--label-size HxW] [--steps N] [--batch-size 8]
//             [--size 240x320] [--lr 0.0001] [--seed S] [--threads T] [--checkpoint-every N]
//             [--keep K] [--log-every N] [--overfit N] [--config FILE]
//   kpt train --resume RUN [--steps N] [--threads T]
#include <cstdio>
#include <string>

#include "kpt/backends/cpu.hpp"
#include "kpt/backends/cpu/threads.hpp"
#include "kpt/models/superpoint.hpp"
#include "kpt/train/superpoint.hpp"
#include "train_cli.hpp"

namespace kpt::cli::train_cli {
namespace {

template <class Config>
int train(const std::string& variant, const train::superpoint_options& o, const std::string& init, int threads,
          const train::run_folder& run, bool resume) {
  set_num_threads(threads);
  models::superpoint<Config, float, cpu> model(o.seed);
  if (!resume && !init.empty()) train::load_detector_weights(model, init);
  const nlohmann::json meta = {{"model", "superpoint"}, {"variant", variant}};
  if (!resume) {
    nlohmann::json config = o.to_json();
    config["model"] = "superpoint";
    config["variant"] = variant;
    config["threads"] = threads;
    if (!init.empty()) config["init"] = init;
    run.write_config(config);
  }
  const index_t first = resume && !run.checkpoints().empty() ? run.checkpoints().back().first : 0;
  std::fprintf(stderr,
               "kpt train: superpoint (%s) on the photos under %s with the points in %s at %lldx%lld, batch %lld "
               "pairs, %lld steps, %s, threads %d -> %s\n",
               variant.c_str(), o.images.c_str(), o.labels.c_str(), static_cast<long long>(o.size.height),
               static_cast<long long>(o.size.width), static_cast<long long>(o.batch_size),
               static_cast<long long>(o.steps), init.empty() ? "from random weights" : ("from " + init).c_str(),
               threads, run.dir().string().c_str());
  if (resume) std::fprintf(stderr, "kpt train: resuming from step %lld\n", static_cast<long long>(first));

  return run_with_progress(run, first, "weights in " + run.weights_path().string(), [&](const auto& on_step, const auto* stop) {
    return train::train_superpoint(model, o, geometry::resize_mode::area, run, resume, meta, on_step, stop);
  });
}

}  // namespace

int train_superpoint(const flags& f, bool resume, const std::filesystem::path& dir, const nlohmann::json& config) {
  namespace fs = std::filesystem;
  train::superpoint_options o;
  std::string variant = "magicleap", init;
  int threads = num_threads();
  for (const char* flag : {"--canvas", "--epochs", "--lr-halve-every"})
    if (f.has(flag)) f.fail(std::string(flag) + " is not a setting of --model superpoint");
  if (resume) {
    for (const char* flag : {"--model", "--variant", "--config", "--images", "--labels", "--label-size", "--init",
                             "--batch-size", "--size", "--lr", "--seed", "--overfit"})
      if (f.has(flag)) f.fail(std::string(flag) + " cannot change when resuming (only --steps and --threads can)");
  }
  start_from_config(f, o, resume, dir, config);
  variant = config.value("variant", variant);
  threads = config.value("threads", threads);
  init = config.value("init", init);
  if (f.has("--variant")) variant = f.get("--variant");
  if (f.has("--images")) o.images = fs::absolute(f.existing_dir("--images")).lexically_normal().string();
  if (f.has("--labels")) o.labels = fs::absolute(f.existing_dir("--labels")).lexically_normal().string();
  if (f.has("--init")) init = fs::absolute(f.existing_file("--init")).lexically_normal().string();
  if (f.has("--label-size")) {
    const auto [h, w] = f.size("--label-size");
    o.label_size = geometry::image_size{h, w};
  }
  apply_common_flags(f, o, threads);
  if (o.images.empty()) f.fail("give --images DIR, the training photos (scripts/training-photos.sh DIR makes a folder)");
  if (o.labels.empty())
    f.fail("give --labels DIR, their points: kpt adapt --model magicpoint --weights W --input IMAGES --output DIR");
  validate_options(f, o);
  if (variant != "magicleap" && variant != "bn")
    f.fail("--variant of superpoint must be magicleap or bn, got '" + variant + "'");

  // The photos and their points: a clear error before the run folder is written.
  try {
    data::image_folder_dataset(o.images, {.size = o.size, .labels = o.labels});
  } catch (const io_error& e) {
    f.fail(std::string("--images / --labels: ") + e.what());
  }

  const train::run_folder run(dir);
  if (variant == "bn") return train<models::superpoint_bn>(variant, o, init, threads, run, resume);
  return train<models::superpoint_magicleap>(variant, o, init, threads, run, resume);
}

}  // namespace kpt::cli::train_cli
