#pragma once
// train::train_superpoint: SuperPoint's last stage (SPEC 2.1-2.4), joint training of the detector
// and the descriptor on pairs of real images with pseudo-ground-truth points from homographic
// adaptation (`kpt adapt`, SPEC 4.2).
//
// Every step takes `batch_size` photos (gray, resized whole to `size`; epochs in a seeded order,
// every epoch with new draws), warps each by a random homography of SPEC 4.1 (`superpoint_pair`,
// valid border 3), augments both images independently (`superpoint_coco` photometric), and
// minimises
//   L = Lp(image, its points) + Lp(warped, warped points) + lambda * Ld(desc, warped desc, H)
// (detector cross-entropy on both, masked by the valid cells; descriptor hinge of the paper with
// the warped image's cell mask). Adam with a constant learning rate. The points come from
// `labels` (kpt adapt's .kpts.npy, in pixels of the image resized to `label_size`).
//
// Starting weights: the model's current weights (e.g. a MagicPoint's detector loaded with
// load_detector_weights), or the newest checkpoint of the run when resuming; the run continues
// exactly (the batch stream, labels and optimiser state depend only on (seed, step)).
#include <atomic>
#include <cmath>
#include <functional>
#include <string>

#include <nlohmann/json.hpp>

#include "kpt/data/epoch_stream.hpp"
#include "kpt/data/homographic_pairs.hpp"
#include "kpt/data/loader.hpp"
#include "kpt/data/image_folder.hpp"
#include "kpt/geometry/points.hpp"
#include "kpt/geometry/superpoint_homography.hpp"
#include "kpt/io/safetensors.hpp"
#include "kpt/losses/superpoint.hpp"
#include "kpt/losses/superpoint_labels.hpp"
#include "kpt/nn/visit.hpp"
#include "kpt/optim/adam.hpp"
#include "kpt/train/checkpoint.hpp"
#include "kpt/train/loop.hpp"
#include "kpt/train/run_folder.hpp"
#include "kpt/train/setup.hpp"

namespace kpt::train {

struct superpoint_options {
  std::string images;                            // folder of training photos (recursive)
  std::string labels;                            // kpt adapt's output for that folder
  index_t steps = 100000;
  index_t batch_size = 8;                        // paper 32, RP 2
  geometry::image_size size{240, 320};           // SPEC 2.4
  std::optional<geometry::image_size> label_size{};  // the --size kpt adapt ran at (none: = size)
  double lr = 1e-4;                              // RP (paper: 1e-3)
  double lambda = 1e-4;                          // weight of the descriptor loss (paper)
  double lambda_d = 250, positive_margin = 1, negative_margin = 0.2, radius = 8;  // SPEC 2.3, paper
  int valid_border_margin = 3;                   // RP superpoint_coco
  std::uint64_t seed = 0;
  index_t checkpoint_every = 500;
  int keep = 3;
  index_t log_every = 10;
  int prefetch = 2;
  index_t overfit_batches = 0;

  nlohmann::json to_json() const {
    nlohmann::json j = {{"images", images}, {"labels", labels}, {"steps", steps}, {"batch_size", batch_size},
                        {"size", {size.height, size.width}}, {"lr", lr}, {"lambda", lambda}, {"lambda_d", lambda_d},
                        {"positive_margin", positive_margin}, {"negative_margin", negative_margin},
                        {"radius", radius}, {"valid_border_margin", valid_border_margin}, {"seed", seed},
                        {"checkpoint_every", checkpoint_every}, {"keep", keep}, {"log_every", log_every},
                        {"prefetch", prefetch}, {"overfit_batches", overfit_batches}};
    if (label_size) j["label_size"] = {label_size->height, label_size->width};
    return j;
  }
  // Fields present in j override this; unknown fields are an error naming them.
  void update(const nlohmann::json& j) {
    require<value_error>(j.is_object(), "superpoint options: expected a JSON object, got ", j.dump());
    for (const auto& [k, v] : j.items()) {
      try {
        if (k == "images") images = v.get<std::string>();
        else if (k == "labels") labels = v.get<std::string>();
        else if (k == "steps") steps = v.get<index_t>();
        else if (k == "batch_size") batch_size = v.get<index_t>();
        else if (k == "size") size = {v.at(0).get<index_t>(), v.at(1).get<index_t>()};
        else if (k == "label_size") label_size = geometry::image_size{v.at(0).get<index_t>(), v.at(1).get<index_t>()};
        else if (k == "lr") lr = v.get<double>();
        else if (k == "lambda") lambda = v.get<double>();
        else if (k == "lambda_d") lambda_d = v.get<double>();
        else if (k == "positive_margin") positive_margin = v.get<double>();
        else if (k == "negative_margin") negative_margin = v.get<double>();
        else if (k == "radius") radius = v.get<double>();
        else if (k == "valid_border_margin") valid_border_margin = v.get<int>();
        else if (k == "seed") seed = v.get<std::uint64_t>();
        else if (k == "checkpoint_every") checkpoint_every = v.get<index_t>();
        else if (k == "keep") keep = v.get<int>();
        else if (k == "log_every") log_every = v.get<index_t>();
        else if (k == "prefetch") prefetch = v.get<int>();
        else if (k == "overfit_batches") overfit_batches = v.get<index_t>();
        else if (k == "model" || k == "variant" || k == "threads" || k == "init") continue;  // read by the caller
        else throw value_error("superpoint options: unknown field '" + k + "'");
      } catch (const nlohmann::json::exception& e) {
        throw value_error("superpoint options: field '" + k + "' has the wrong type (" + e.what() + ")");
      }
    }
  }
  void validate() const {
    require<value_error>(!images.empty(), "superpoint: give the folder of training photos (--images DIR)");
    require<value_error>(!labels.empty(),
                         "superpoint: give the folder of their points (--labels DIR, written by kpt adapt)");
    require<value_error>(steps > 0 && batch_size > 0, "superpoint: steps and batch_size must be > 0");
    require<value_error>(size.height >= 16 && size.width >= 16 && size.height % 8 == 0 && size.width % 8 == 0,
                         "superpoint: the image size ", size.height, "x", size.width,
                         " must be at least 16x16 and divisible by 8 (e.g. 240x320)");
    require<value_error>(std::isfinite(lr) && lr > 0, "superpoint: lr must be a positive number, got ", lr);
    require<value_error>(std::isfinite(lambda) && lambda >= 0 && std::isfinite(lambda_d) && lambda_d >= 0,
                         "superpoint: lambda and lambda_d must be >= 0");
    require<value_error>(radius > 0 && valid_border_margin >= 0, "superpoint: radius must be > 0 and valid_border_margin >= 0");
    require<value_error>(overfit_batches >= 0 && checkpoint_every > 0 && keep >= 1 && log_every > 0,
                         "superpoint: checkpoint_every, keep and log_every must be >= 1, overfit_batches >= 0");
  }
};

// The training pairs of SPEC 2.4 over a folder of photos and their points.
inline auto superpoint_pair_stream(const superpoint_options& o, geometry::resize_mode interpolation) {
  data::image_folder_dataset folder(o.images, {.size = o.size, .mode = data::color::gray, .crop_scale = {1.0, 1.0},
                                               .preserve_aspect = false, .interpolation = interpolation,
                                               .seed = o.seed, .labels = o.labels,
                                               .label_size = o.label_size.value_or(o.size)});
  data::epoch_stream stream(std::move(folder), o.seed + 2);
  return data::homographic_pairs(std::move(stream), geometry::superpoint_homography_config::superpoint_pair(),
                                 {.valid_border_margin = o.valid_border_margin, .seed = o.seed + 3,
                                  .photometric = data::photometric_config::superpoint_coco()});
}

// Loads a MagicPoint's weights (encoder and detector head) into a SuperPoint whose descriptor head
// keeps its initial values; io_error when anything but the descriptor head is missing or when the
// file has weights the model lacks.
template <class Model>
void load_detector_weights(Model& model, const std::filesystem::path& file) {
  const std::string hint = "; give MagicPoint weights of the same variant (magicpoint default for superpoint "
                           "magicleap, magicpoint bn for superpoint bn)";
  io::state_loader in;
  nn::visit_params(model, [&](const std::string& name, auto& t) { in.bind(name, t); });
  io::load_report report;
  try {
    report = in.load(io::safetensors_file(file), {.allow_missing = true});
  } catch (const io_error& e) {
    throw io_error(std::string(e.what()) + hint);
  }
  for (const auto& name : report.missing)
    require<io_error>(name.starts_with("convD") || name.starts_with("descriptor."), "load_detector_weights: '",
                      file.string(), "' lacks '", name, "', which is not a descriptor-head weight", hint);
  require<io_error>(!report.loaded.empty(), "load_detector_weights: '", file.string(), "' holds no weight of this model", hint);
}

// model: a models::superpoint<Config, float, cpu> with a descriptor head.
template <class Model>
train_status train_superpoint(Model& model, const superpoint_options& o, geometry::resize_mode interpolation,
                              const run_folder& run, bool resume, const nlohmann::json& run_meta,
                              const std::function<void(const step_report&)>& on_step,
                              const std::atomic<bool>* stop = nullptr) {
  using T = float;
  using B = typename Model::tensor_type::backend_type;
  static_assert(Model::has_descriptor, "train_superpoint: the model needs a descriptor head (use superpoint, not magicpoint)");
  o.validate();
  auto pairs = superpoint_pair_stream(o, interpolation);
  const index_t n_images = pairs.base().epoch_size();
  require<value_error>(n_images >= o.batch_size, "superpoint: only ", n_images, " image(s) under '", o.images,
                       "', fewer than one batch of ", o.batch_size, "; add photos or lower --batch-size");

  model.train(true);
  optim::adam<T, B> opt(trainable_params(model), {.lr = o.lr});
  nlohmann::json meta = run_meta;
  meta["photos"] = photos_meta(pairs.base().base());
  const index_t step = resume_step(
      run, resume, [&](const std::filesystem::path& file) { return load_checkpoint(file, model, opt); }, meta["photos"]);

  batch_feed feed(pairs, o.batch_size, o.prefetch, o.overfit_batches, step);

  losses::superpoint_loss_options lo;
  lo.lambda = o.lambda;
  lo.descriptor.lambda_d = o.lambda_d;
  lo.descriptor.positive_margin = o.positive_margin;
  lo.descriptor.negative_margin = o.negative_margin;
  lo.descriptor.radius = o.radius;

  const loop_options lp{.steps = o.steps, .log_every = o.log_every, .checkpoint_every = o.checkpoint_every,
                        .keep = o.keep, .images_per_step = double(2 * o.batch_size)};
  const auto status = run_steps(
      step, lp, run, meta,
      [&](index_t s) {
        const index_t batch_index = feed.batch_index(s);
        const auto batch = feed.batch(s);
        const auto x = data::stack_images(batch, &data::pair_sample::image).template to<B>();
        const auto xw = data::stack_images(batch, &data::pair_sample::warped).template to<B>();
        std::vector<std::vector<geometry::point2>> points, warped_points;
        std::vector<geometry::homography> hs;
        for (const auto& p : batch) {
          points.push_back(geometry::to_points(p.points));
          warped_points.push_back(geometry::to_points(p.warped_points));
          hs.push_back(p.H);
        }
        const std::uint64_t label_seed = o.seed ^ (0x9e3779b97f4a7c15ull * std::uint64_t(batch_index + 1));
        const auto labels = losses::superpoint_labels<B>(points, o.size, label_seed);
        const auto warped_labels = losses::superpoint_labels<B>(warped_points, o.size, label_seed + 1);
        const auto warped_cells = losses::cell_valid_mask(data::stack_masks(batch, &data::pair_sample::valid_mask)).template to<B>();

        const auto out = model.forward(x), outw = model.forward(xw);
        const auto terms = losses::superpoint_loss(out.semi, outw.semi, labels, warped_labels, out.desc, outw.desc, hs,
                                                   tensor<T, B>{}, warped_cells, lo);
        const double total = double(terms.total.item()), det = double(terms.detector.item()),
                     det_w = double(terms.warped_detector.item()), desc = double(terms.descriptor.item());
        for (const auto& [name, v] : {std::pair{"detector", det}, {"warped_detector", det_w}, {"descriptor", desc}})
          require<numeric_error>(std::isfinite(v), "superpoint: the ", name, " loss is ", v, " at step ", s + 1,
                                 "; lower the learning rate (--lr) or resume from the last checkpoint");
        opt.zero_grad();
        terms.total.backward();
        opt.step();
        return step_outcome{total, opt.lr(0),
                            {{"loss", total}, {"detector", det}, {"warped_detector", det_w}, {"descriptor", desc}}};
      },
      [&](const std::filesystem::path& file, const nlohmann::json& meta) { save_checkpoint(file, model, opt, meta); },
      on_step, stop);
  if (status == train_status::finished)
    save_weights(run.weights_path(), model, run_meta.value("model", std::string("superpoint")),
                 run_meta.value("variant", std::string("magicleap")));
  return status;
}

}  // namespace kpt::train
