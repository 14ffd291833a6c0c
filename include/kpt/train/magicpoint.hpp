#pragma once
// train::train_magicpoint: SuperPoint's first stage, MagicPoint on Synthetic Shapes (SPEC 2.2,
// 2.4, 3, 4.1), on the fly: every step draws `batch_size` new shapes (a pure function of the seed
// and the step), applies the photometric augmentation and a random homography, and minimises the
// 65-way detector cross-entropy on the warped image against the warped ground-truth corners,
// masked by the cells the warp keeps valid. Adam, constant learning rate (RP).
//
// The run lives in a run_folder (config, log.jsonl, checkpoints). Resuming from the newest
// checkpoint continues exactly: the batch stream, the label draws and the optimiser state depend
// only on (seed, step), so with one thread the losses after a resume are bitwise those of an
// uninterrupted run.
#include <atomic>
#include <cmath>
#include <functional>
#include <string>

#include <nlohmann/json.hpp>

#include "kpt/autograd/grad_mode.hpp"
#include "kpt/core/random.hpp"
#include "kpt/data/homographic_pairs.hpp"
#include "kpt/data/loader.hpp"
#include "kpt/data/synthetic_dataset.hpp"
#include "kpt/geometry/superpoint_homography.hpp"
#include "kpt/geometry/points.hpp"
#include "kpt/io/safetensors.hpp"
#include "kpt/losses/superpoint.hpp"
#include "kpt/losses/superpoint_labels.hpp"
#include "kpt/models/superpoint.hpp"
#include "kpt/optim/adam.hpp"
#include "kpt/train/checkpoint.hpp"
#include "kpt/train/loop.hpp"
#include "kpt/train/run_folder.hpp"
#include "kpt/train/setup.hpp"

namespace kpt::train {

struct magicpoint_options {
  index_t steps = 50000;                        // RP: 50,000 (paper: 200,000)
  index_t batch_size = 32;                      // paper 32, RP 64
  geometry::image_size size{120, 160};          // SPEC 3.1
  geometry::image_size canvas{960, 1280};       // drawing canvas of the shapes (smaller is faster)
  double lr = 1e-3;                             // Adam (paper, RP)
  std::uint64_t seed = 0;
  index_t checkpoint_every = 500;               // and at the end
  int keep = 3;                                 // newest checkpoints kept
  index_t log_every = 10;
  int valid_border_margin = 2;                  // RP magic-point_shapes
  int prefetch = 2;
  index_t overfit_batches = 0;                  // > 0: cycle over the first N batches (a test of the pipeline)

  nlohmann::json to_json() const {
    return {{"steps", steps}, {"batch_size", batch_size}, {"size", {size.height, size.width}},
            {"canvas", {canvas.height, canvas.width}}, {"lr", lr}, {"seed", seed},
            {"checkpoint_every", checkpoint_every}, {"keep", keep}, {"log_every", log_every},
            {"valid_border_margin", valid_border_margin}, {"prefetch", prefetch},
            {"overfit_batches", overfit_batches}};
  }
  // Fields present in j override this; unknown fields are an error naming them.
  void update(const nlohmann::json& j) {
    require<value_error>(j.is_object(), "magicpoint options: expected a JSON object, got ", j.dump());
    for (const auto& [k, v] : j.items()) {
      try {
        if (k == "steps") steps = v.get<index_t>();
        else if (k == "batch_size") batch_size = v.get<index_t>();
        else if (k == "size") size = {v.at(0).get<index_t>(), v.at(1).get<index_t>()};
        else if (k == "canvas") canvas = {v.at(0).get<index_t>(), v.at(1).get<index_t>()};
        else if (k == "lr") lr = v.get<double>();
        else if (k == "seed") seed = v.get<std::uint64_t>();
        else if (k == "checkpoint_every") checkpoint_every = v.get<index_t>();
        else if (k == "keep") keep = v.get<int>();
        else if (k == "log_every") log_every = v.get<index_t>();
        else if (k == "valid_border_margin") valid_border_margin = v.get<int>();
        else if (k == "prefetch") prefetch = v.get<int>();
        else if (k == "overfit_batches") overfit_batches = v.get<index_t>();
        else if (k == "model" || k == "variant" || k == "threads") continue;  // read by the caller
        else throw value_error("magicpoint options: unknown field '" + k + "'");
      } catch (const nlohmann::json::exception& e) {
        throw value_error("magicpoint options: field '" + k + "' has the wrong type (" + e.what() + ")");
      }
    }
  }
  void validate() const {
    require<value_error>(steps > 0, "magicpoint: steps must be > 0, got ", steps);
    require<value_error>(batch_size > 0, "magicpoint: batch_size must be > 0, got ", batch_size);
    require<value_error>(size.height >= 16 && size.width >= 16 && size.height % 8 == 0 && size.width % 8 == 0,
                         "magicpoint: the image size ", size.height, "x", size.width,
                         " must be at least 16x16 and divisible by 8 (e.g. 120x160)");
    require<value_error>(canvas.height >= size.height && canvas.width >= size.width, "magicpoint: the canvas ",
                         canvas.height, "x", canvas.width, " must be at least the image size");
    require<value_error>(std::isfinite(lr) && lr > 0, "magicpoint: lr must be a positive number, got ", lr);
    require<value_error>(overfit_batches >= 0, "magicpoint: overfit_batches must be >= 0");
    require<value_error>(checkpoint_every > 0 && keep >= 1 && log_every > 0,
                         "magicpoint: checkpoint_every, keep and log_every must be >= 1");
  }
};

// model: a models::superpoint<Config, float, cpu> (MagicPoint: no descriptor head is needed, but
// a descriptor head is allowed and left untrained). Starts from the model's current weights, or
// from the newest checkpoint of `run` when resume is set. `stop` is polled after every step
// (Ctrl-C): training then saves a checkpoint and returns interrupted.
template <class Model>
train_status train_magicpoint(Model& model, const magicpoint_options& o, const run_folder& run, bool resume,
                              const nlohmann::json& run_meta, const std::function<void(const step_report&)>& on_step,
                              const std::atomic<bool>* stop = nullptr) {
  using T = float;
  using B = typename Model::tensor_type::backend_type;
  o.validate();
  model.train(true);
  optim::adam<T, B> opt(trainable_params(model), {.lr = o.lr});

  const index_t step = resume_step(run, resume, [&](const std::filesystem::path& file) {
    return load_checkpoint(file, model, opt);
  });

  data::synthetic_dataset_options so;
  so.seed = o.seed;
  so.shapes.output = o.size;
  so.shapes.canvas = o.canvas;
  data::homographic_pairs pairs(data::synthetic_dataset(so), geometry::superpoint_homography_config::magicpoint_synthetic(),
                                {.valid_border_margin = o.valid_border_margin, .seed = o.seed + 1,
                                 .photometric = data::photometric_config::magicpoint_synthetic()});
  batch_feed feed(pairs, o.batch_size, o.prefetch, o.overfit_batches, step);

  const loop_options lo{.steps = o.steps, .log_every = o.log_every, .checkpoint_every = o.checkpoint_every,
                        .keep = o.keep, .images_per_step = double(o.batch_size)};
  const auto status = run_steps(
      step, lo, run, run_meta,
      [&](index_t s) {
        const index_t batch_index = feed.batch_index(s);
        const auto batch = feed.batch(s);
        const auto x = data::stack_images(batch, &data::pair_sample::warped).template to<B>();  // [N, 1, H, W]
        std::vector<std::vector<geometry::point2>> points;
        for (const auto& p : batch) points.push_back(geometry::to_points(p.warped_points));
        const auto labels = losses::superpoint_labels<B>(points, o.size, o.seed ^ (0x9e3779b97f4a7c15ull * std::uint64_t(batch_index + 1)));
        const auto cells = losses::cell_valid_mask(data::stack_masks(batch, &data::pair_sample::valid_mask)).template to<B>();

        auto out = model.forward(x);
        auto loss = losses::detector_loss(out.semi, labels, cells);
        const double value = double(loss.item());
        require<numeric_error>(std::isfinite(value), "magicpoint: the detector loss is ", value, " at step ", s + 1,
                               "; lower the learning rate (--lr) or resume from the last checkpoint");
        opt.zero_grad();
        loss.backward();
        opt.step();
        return step_outcome{value, opt.lr(0), {{"loss", value}, {"detector", value}}};
      },
      [&](const std::filesystem::path& file, const nlohmann::json& meta) { save_checkpoint(file, model, opt, meta); },
      on_step, stop);
  if (status == train_status::finished)
    save_weights(run.weights_path(), model, run_meta.value("model", std::string("magicpoint")),
                 run_meta.value("variant", std::string("default")));
  return status;
}

}  // namespace kpt::train
