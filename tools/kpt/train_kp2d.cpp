// kpt train --model keypointnet: KP2D training (include/kpt/train/kp2d.hpp) from the command line.
// Its template instantiations (KeyPointNet configs, IO-Net, the KP2D loss) live in this TU so that
// they compile in parallel with the rest of the program.
//
//   kpt train --model keypointnet [--variant v4] --images DIR --out RUN [--epochs 50 | --steps N]
//             [--batch-size 8] [--size 240x320] [--lr 0.001] [--lr-halve-every 40] [--seed S]
//             [--threads T] [--checkpoint-every N] [--keep K] [--log-every N] [--overfit N] [--config FILE]
//   kpt train --resume RUN [--steps N | --epochs N] [--threads T]
#include <algorithm>
#include <cstdio>
#include <iterator>
#include <memory>
#include <string>

#include "kpt/backends/cpu.hpp"
#include "kpt/backends/cpu/threads.hpp"
#include "kpt/models/ionet.hpp"
#include "kpt/models/keypointnet.hpp"
#include "kpt/train/kp2d.hpp"
#include "train_cli.hpp"

namespace kpt::cli::train_cli {
namespace {

template <class Config>
int train(const std::string& variant, const train::kp2d_options& o, int threads, index_t n_images,
          const train::run_folder& run, bool resume) {
  set_num_threads(threads);
  models::keypointnet<Config, float, cpu> model(o.seed);
  using io_type = models::ionet<models::ionet_kp2d, float, cpu>;
  std::unique_ptr<io_type> ionet;
  if constexpr (Config::with_io) ionet = std::make_unique<io_type>(o.seed ^ 0x10e7ull);
  const nlohmann::json meta = {{"model", "keypointnet"}, {"variant", variant}};
  if (!resume) {
    nlohmann::json config = o.to_json();
    config["model"] = "keypointnet";
    config["variant"] = variant;
    config["threads"] = threads;
    run.write_config(config);
  }
  const index_t per_epoch = o.steps_per_epoch(n_images), total = o.total_steps(n_images);
  const index_t cells = (o.size.height / 8) * (o.size.width / 8);
  const index_t first = resume && !run.checkpoints().empty() ? run.checkpoints().back().first : 0;
  std::fprintf(stderr,
               "kpt train: keypointnet (%s: %s) on %lld photos under %s at %lldx%lld, batch %lld, %lld steps "
               "(%.4g epochs of %lld steps), threads %d -> %s\n",
               variant.c_str(),
               Config::with_io ? (Config::descriptor_loss ? "all losses with IO-Net" : "IO-Net, no descriptor loss")
                               : "no IO-Net",
               static_cast<long long>(n_images), o.images.c_str(), static_cast<long long>(o.size.height),
               static_cast<long long>(o.size.width), static_cast<long long>(o.batch_size), static_cast<long long>(total),
               double(total) / double(per_epoch), static_cast<long long>(per_epoch), threads, run.dir().string().c_str());
  if (Config::with_io && o.io_points > cells)
    std::fprintf(stderr, "kpt train: IO-Net takes all %lld cells per image (io_points %lld > the cells of %lldx%lld)\n",
                 static_cast<long long>(cells), static_cast<long long>(o.io_points),
                 static_cast<long long>(o.size.height), static_cast<long long>(o.size.width));
  if (resume) std::fprintf(stderr, "kpt train: resuming from step %lld\n", static_cast<long long>(first));

  std::string outputs = "weights in " + run.weights_path().string();
  if (Config::with_io) outputs += " (IO-Net: " + (run.dir() / "ionet.safetensors").string() + ")";
  return run_with_progress(run, first, outputs, [&](const auto& on_step, const auto* stop) {
    return train::train_kp2d(model, ionet.get(), o, run, resume, meta, on_step, stop);
  });
}

}  // namespace

int train_keypointnet(const flags& f, bool resume, const std::filesystem::path& dir, const nlohmann::json& config) {
  namespace fs = std::filesystem;
  train::kp2d_options o;
  std::string variant = "v4";
  int threads = num_threads();
  if (f.has("--canvas"))
    f.fail("--canvas is for --model magicpoint (synthetic shapes); keypointnet trains on photos (--images DIR)");
  if (resume) {
    for (const char* flag : {"--model", "--variant", "--config", "--images", "--batch-size", "--size", "--lr",
                             "--lr-halve-every", "--seed", "--overfit"})
      if (f.has(flag)) f.fail(std::string(flag) + " cannot change when resuming (only --steps, --epochs and --threads can)");
  }
  start_from_config(f, o, resume, dir, config);
  variant = config.value("variant", variant);
  threads = config.value("threads", threads);
  if (f.has("--variant")) variant = f.get("--variant");
  if (f.has("--images")) o.images = fs::absolute(f.existing_dir("--images")).lexically_normal().string();
  if (o.images.empty())
    f.fail("give --images DIR, a folder of training photos searched recursively (scripts/training-photos.sh DIR "
           "makes one from Debian wallpaper packages)");
  if (f.has("--steps") && f.has("--epochs")) f.fail("give --steps or --epochs, not both");
  apply_common_flags(f, o, threads);
  if (f.has("--epochs")) o.steps = 0, o.epochs = f.integer("--epochs", 1);
  if (f.has("--lr-halve-every")) o.lr_halve_every = f.real("--lr-halve-every");
  validate_options(f, o);
  static const char* const variants[] = {"v4", "v0", "v1", "v2", "v3", "v4_gray"};
  if (std::find(std::begin(variants), std::end(variants), variant) == std::end(variants))
    f.fail("--variant of keypointnet must be one of v4, v0, v1, v2, v3, v4_gray, got '" + variant + "'");

  // The photos: a clear error before anything is written.
  std::error_code ec;
  if (!fs::is_directory(o.images, ec))
    f.fail("--images: '" + o.images + "' " + (fs::exists(o.images, ec) ? "is not a folder" : "does not exist") +
           (resume ? " (the folder this run was trained on, from " + (dir / "config.json").string() + ")" : ""));
  index_t n_images = 0;
  try {
    n_images = data::image_folder_dataset(o.images, {.size = o.size}).size();
  } catch (const io_error&) {
    f.fail("--images: no photos (.png, .jpg, .jpeg, .ppm, .pgm, searched recursively) under '" + o.images +
           "'; scripts/training-photos.sh DIR makes a folder of photos");
  }
  if (n_images < o.batch_size)
    f.fail("--images: '" + o.images + "' holds " + std::to_string(n_images) + " photo(s), fewer than one batch of " +
           std::to_string(o.batch_size) + "; add photos or lower --batch-size");

  const train::run_folder run(dir);
  using namespace models;
  if (variant == "v0") return train<keypointnet_v0>(variant, o, threads, n_images, run, resume);
  if (variant == "v1") return train<keypointnet_v1>(variant, o, threads, n_images, run, resume);
  if (variant == "v2") return train<keypointnet_v2>(variant, o, threads, n_images, run, resume);
  if (variant == "v3") return train<keypointnet_v3>(variant, o, threads, n_images, run, resume);
  if (variant == "v4_gray") return train<keypointnet_v4_gray>(variant, o, threads, n_images, run, resume);
  return train<keypointnet_v4>(variant, o, threads, n_images, run, resume);
}

}  // namespace kpt::cli::train_cli
