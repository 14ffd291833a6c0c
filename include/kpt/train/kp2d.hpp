#pragma once
// train::train_kp2d: KP2D (Tang et al., ICLR 2020) self-supervised training of KeyPointNet and,
// for the configs that use it, IO-Net, on a folder of photos (SPEC 4.3, 4.4, 6, 6.7).
//
// Each step takes `batch_size` photos, resizes each to `size` (aspect not kept, as KP2D), applies
// KP2D's spatial augmentation (flips, RandomAffine) to make the TARGET, warps it with a KP2D
// random homography (patch 0.7, scale 0.2, pi/4) to make the SOURCE, applies the non-spatial
// augmentation (shared channel shuffle / gray, then per image noise and blur), runs KeyPointNet
// on both (train mode) and minimises kp2d_loss (location, triplet, usp, score MSE and the IO-Net
// term) with Adam over both networks. Learning rate: lr * 0.5^min(floor(epoch / lr_halve_every),
// lr_max_halvings) (SPEC 6.7: 1e-3 for epochs 0-39, 5e-4 after).
//
// The config version decides the loss (SPEC 6.7): v0, v1, v2 without IO-Net; v3 with IO-Net and
// without the descriptor loss (its weight is 0; it is still computed and logged); v4 (and
// v4_gray) everything. The network side of the versions (cross-border, upsampling) is the model
// type itself (models::keypointnet_v0 ... _v4).
//
// Exact resumption: the stream of batches, every augmentation draw and the dropout masks are pure
// functions of (seed, step), the optimiser state is checkpointed, so with one thread the losses
// after a resume are bitwise those of an uninterrupted run.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <filesystem>
#include <functional>
#include <memory>
#include <numeric>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include <nlohmann/json.hpp>

#include "kpt/data/augment.hpp"
#include "kpt/data/epoch_stream.hpp"
#include "kpt/data/homographic_pairs.hpp"
#include "kpt/data/image_folder.hpp"
#include "kpt/data/loader.hpp"
#include "kpt/geometry/kp2d_homography.hpp"
#include "kpt/io/safetensors.hpp"
#include "kpt/losses/kp2d.hpp"
#include "kpt/models/keypointnet.hpp"
#include "kpt/optim/adam.hpp"
#include "kpt/optim/schedule.hpp"
#include "kpt/train/checkpoint.hpp"
#include "kpt/train/loop.hpp"
#include "kpt/train/run_folder.hpp"
#include "kpt/train/setup.hpp"

namespace kpt::train {

struct kp2d_options {
  std::string images;                   // folder of training photos (searched recursively)
  index_t steps = 0;                    // > 0: this many steps; 0: `epochs` epochs
  index_t epochs = 50;                  // KP2D: 50 epochs of COCO train 2017
  index_t batch_size = 8;               // KP2D: 8 per GPU
  geometry::image_size size{240, 320};  // KP2D image_shape
  double lr = 1e-3;                     // both networks (SPEC 6.7)
  double lr_halve_every = 40;           // epochs (KP2D: 40 / repeat)
  index_t lr_max_halvings = 4;
  std::uint64_t seed = 0;               // initial weights and every data draw
  index_t checkpoint_every = 500;       // steps; and at the end
  int keep = 3;
  index_t log_every = 10;
  int prefetch = 2;
  index_t overfit_batches = 0;          // > 0: cycle over the first N batches (a test of the pipeline)
  index_t io_points = 300;              // lowest-score cells per image fed to IO-Net (capped at Hc * Wc)
  bool dropout = true;                  // KeyPointNet's Dropout2d (KP2D with_drop); false: p = 0

  nlohmann::json to_json() const {
    return {{"images", images}, {"steps", steps}, {"epochs", epochs}, {"batch_size", batch_size},
            {"size", {size.height, size.width}}, {"lr", lr}, {"lr_halve_every", lr_halve_every},
            {"lr_max_halvings", lr_max_halvings}, {"seed", seed}, {"checkpoint_every", checkpoint_every},
            {"keep", keep}, {"log_every", log_every}, {"prefetch", prefetch}, {"overfit_batches", overfit_batches},
            {"io_points", io_points}, {"dropout", dropout}};
  }
  // Fields present in j override this; unknown fields are an error naming them.
  void update(const nlohmann::json& j) {
    require<value_error>(j.is_object(), "kp2d options: expected a JSON object, got ", j.dump());
    for (const auto& [k, v] : j.items()) {
      try {
        if (k == "images") images = v.get<std::string>();
        else if (k == "steps") steps = v.get<index_t>();
        else if (k == "epochs") epochs = v.get<index_t>();
        else if (k == "batch_size") batch_size = v.get<index_t>();
        else if (k == "size") size = {v.at(0).get<index_t>(), v.at(1).get<index_t>()};
        else if (k == "lr") lr = v.get<double>();
        else if (k == "lr_halve_every") lr_halve_every = v.get<double>();
        else if (k == "lr_max_halvings") lr_max_halvings = v.get<index_t>();
        else if (k == "seed") seed = v.get<std::uint64_t>();
        else if (k == "checkpoint_every") checkpoint_every = v.get<index_t>();
        else if (k == "keep") keep = v.get<int>();
        else if (k == "log_every") log_every = v.get<index_t>();
        else if (k == "prefetch") prefetch = v.get<int>();
        else if (k == "overfit_batches") overfit_batches = v.get<index_t>();
        else if (k == "io_points") io_points = v.get<index_t>();
        else if (k == "dropout") dropout = v.get<bool>();
        else if (k == "model" || k == "variant" || k == "threads") continue;  // read by the caller
        else throw value_error("kp2d options: unknown field '" + k + "'");
      } catch (const nlohmann::json::exception& e) {
        throw value_error("kp2d options: field '" + k + "' has the wrong type (" + e.what() + ")");
      }
    }
  }
  void validate() const {
    require<value_error>(!images.empty(), "kp2d: no training images; give a folder of photos (--images DIR)");
    require<value_error>(steps >= 0, "kp2d: steps must be >= 0 (0: train `epochs` epochs), got ", steps);
    require<value_error>(steps > 0 || epochs > 0, "kp2d: epochs must be > 0 (or give steps), got ", epochs);
    require<value_error>(batch_size > 0, "kp2d: batch_size must be > 0, got ", batch_size);
    require<value_error>(size.height >= 32 && size.width >= 32 && size.height % 8 == 0 && size.width % 8 == 0,
                         "kp2d: the image size ", size.height, "x", size.width,
                         " must be at least 32x32 and divisible by 8 (e.g. 240x320)");
    require<value_error>(std::isfinite(lr) && lr > 0, "kp2d: lr must be a positive number, got ", lr);
    require<value_error>(std::isfinite(lr_halve_every) && lr_halve_every > 0,
                         "kp2d: lr_halve_every must be a positive number of epochs, got ", lr_halve_every);
    require<value_error>(lr_max_halvings >= 0, "kp2d: lr_max_halvings must be >= 0");
    require<value_error>(overfit_batches >= 0, "kp2d: overfit_batches must be >= 0");
    require<value_error>(prefetch >= 0, "kp2d: prefetch must be >= 0");
    require<value_error>(io_points > 0, "kp2d: io_points must be > 0, got ", io_points);
    require<value_error>(checkpoint_every > 0 && keep >= 1 && log_every > 0,
                         "kp2d: checkpoint_every, keep and log_every must be >= 1");
  }
  // Steps of one epoch over n images (at least 1) and of the whole run.
  index_t steps_per_epoch(index_t n) const { return std::max<index_t>(1, n / batch_size); }
  index_t total_steps(index_t n) const { return steps > 0 ? steps : epochs * steps_per_epoch(n); }
};

// ---- data -----------------------------------------------------------------------------------------

// KP2D's spatial augmentation (flips, RandomAffine; SPEC 4.4 step 2) of a base dataset's images.
template <data::Dataset Base>
struct kp2d_spatial_dataset {
  Base base;
  data::kp2d_spatial_config config{};
  std::uint64_t seed = 0;

  index_t size() const { return base.size(); }
  data::image_sample get(index_t i) const {
    data::image_sample s = base.get(i);
    rng g = data::sample_rng(seed, i, 20);
    s.image = data::kp2d_spatial_augment(s.image, config, g).image;
    return s;
  }
};

// The KP2D pair stream over a folder of photos: pair_sample.image = target, .warped = source,
// .H = target pixel -> source pixel (homographic_pairs' KP2D flavour).
inline auto kp2d_pair_stream(const kp2d_options& o) {
  data::image_folder_dataset folder(o.images, {.size = o.size, .mode = data::color::rgb, .crop_scale = {1.0, 1.0},
                                               .preserve_aspect = false, .seed = o.seed});
  kp2d_spatial_dataset<data::image_folder_dataset> spatial{std::move(folder), {}, o.seed + 1};
  data::epoch_stream stream(std::move(spatial), o.seed + 2);  // shuffled epochs, new draws each
  return data::homographic_pairs(std::move(stream), geometry::kp2d_homography_config::training(),
                                 {.seed = o.seed + 3, .kp2d_photometric = data::kp2d_photometric_config{}});
}

namespace kp2d_detail {

// Calls f(layer) for every dropout layer (nn::dropout2d: members seed, calls, options.p) of a model;
// returns how many there are. (The layer stacks are seq / fork / named / residual containers.)
template <class L, class F>
int for_each_dropout(L& l, F& f) {
  if constexpr (requires { l.net; }) return for_each_dropout(l.net, f);
  else if constexpr (requires { std::tuple_size<decltype(l.layers)>::value; })
    return std::apply([&](auto&... x) { return (0 + ... + for_each_dropout(x, f)); }, l.layers);
  else if constexpr (requires { l.trunk; l.heads; })
    return for_each_dropout(l.trunk, f) + std::apply([&](auto&... x) { return (0 + ... + for_each_dropout(x, f)); }, l.heads);
  else if constexpr (requires { l.inner; }) return for_each_dropout(l.inner, f);
  else if constexpr (requires { l.body; }) return for_each_dropout(l.body, f);
  else if constexpr (requires { l.calls; l.seed; l.options.p; }) {
    f(l);
    return 1;
  } else return 0;
}

// The dropout mask of call k is a function of (layer seed, k); setting every layer's call counter
// from the step makes the masks of a step depend on the step only, also after a resume.
template <class Model>
int set_dropout_calls(Model& m, std::uint64_t calls) {
  auto f = [calls](auto& layer) { layer.calls = calls; };
  return for_each_dropout(m, f);
}

// The first NaN or infinite value of t, if any. (The loss masks out cells whose coordinates are
// NaN, so a network gone to NaN would otherwise show as a loss of exactly 0.)
template <class T, class B>
std::optional<double> non_finite(const tensor<T, B>& t) {
  const T* p = t.data();
  for (index_t i = 0, n = t.numel(); i < n; ++i)
    if (!std::isfinite(p[i])) return double(p[i]);
  return std::nullopt;
}

// Normalised source -> target map for kp2d_loss from a pair's target pixel -> source pixel H.
inline geometry::homography loss_homography(const data::pair_sample& p, geometry::image_size size) {
  return geometry::pixel_h_to_normalized(geometry::invert(p.H), size);
}

}  // namespace kp2d_detail

// model: a models::keypointnet<Config, float, B>; ionet: a models::ionet<..., float, B> when
// Config::with_io, else nullptr. Starts from the models' current weights, or from the newest
// checkpoint of `run` when resume is set (KeyPointNet's keys as they are, IO-Net's under
// "ionet."). `stop` is polled after every step (Ctrl-C): a checkpoint is written and training
// returns interrupted. At the end: RUN/weights.safetensors (KeyPointNet, metadata kpt.model /
// kpt.variant from run_meta) and, with IO-Net, RUN/ionet.safetensors.
template <class Model, class IONet>
train_status train_kp2d(Model& model, IONet* ionet, const kp2d_options& o, const run_folder& run, bool resume,
                        const nlohmann::json& run_meta, const std::function<void(const step_report&)>& on_step,
                        const std::atomic<bool>* stop = nullptr) {
  using T = float;
  using B = typename Model::tensor_type::backend_type;
  using Config = typename Model::config;
  constexpr bool with_io = Config::with_io;
  o.validate();
  require<value_error>(with_io == (ionet != nullptr), "train_kp2d: this KeyPointNet config ",
                       with_io ? "trains IO-Net: pass one" : "has no IO-Net: pass nullptr");

  auto pairs = kp2d_pair_stream(o);
  const index_t n_images = pairs.base().epoch_size();
  require<value_error>(n_images >= o.batch_size, "kp2d: only ", n_images, " image(s) under '", o.images,
                       "', fewer than one batch of ", o.batch_size, "; add photos or lower --batch-size");
  const index_t per_epoch = o.steps_per_epoch(n_images), total = o.total_steps(n_images);

  model.train(true);
  if constexpr (with_io) ionet->train(true);
  if constexpr (Config::dropout) {
    require<value_error>(kp2d_detail::set_dropout_calls(model, 0) > 0, "train_kp2d: found no dropout layer to seed");
    if (!o.dropout) {
      auto off = [](auto& layer) { layer.options.p = 0.0; };
      kp2d_detail::for_each_dropout(model, off);
    }
  }
  optim::adam<T, B> opt(trainable_params(model), {.lr = o.lr});
  if constexpr (with_io) opt.add_param_group(trainable_params(*ionet, "ionet."), {.lr = o.lr});
  auto save = [&](const std::filesystem::path& file, const nlohmann::json& meta) {
    if constexpr (with_io)
      save_checkpoint_parts(file, opt, meta, checkpoint_part<Model>("", model), checkpoint_part<IONet>("ionet.", *ionet));
    else save_checkpoint_parts(file, opt, meta, checkpoint_part<Model>("", model));
  };

  nlohmann::json meta = run_meta;
  meta["photos"] = photos_meta(pairs.base().base().base);
  const index_t step = resume_step(
      run, resume,
      [&](const std::filesystem::path& file) {
        if constexpr (with_io)
          return load_checkpoint_parts(file, opt, checkpoint_part<Model>("", model), checkpoint_part<IONet>("ionet.", *ionet));
        else return load_checkpoint_parts(file, opt, checkpoint_part<Model>("", model));
      },
      meta["photos"]);

  batch_feed feed(pairs, o.batch_size, o.prefetch, o.overfit_batches, step);

  losses::kp2d_loss_options lo;
  lo.io_points = std::min(o.io_points, (o.size.height / 8) * (o.size.width / 8));
  if constexpr (!Config::descriptor_loss) lo.weights.desc = 0;  // v3
  const optim::kp2d_halving schedule{.period = o.lr_halve_every, .max_halvings = o.lr_max_halvings};

  const loop_options loop{.steps = total, .log_every = o.log_every, .checkpoint_every = o.checkpoint_every,
                          .keep = o.keep, .images_per_step = double(o.batch_size)};
  const auto status = run_steps(
      step, loop, run, meta,
      [&](index_t s) {
        optim::apply(opt, schedule, s / per_epoch);
        const auto batch = feed.batch(s);
        const auto target = Model::normalize_input(data::stack_images(batch, &data::pair_sample::image).template to<B>());
        const auto source = Model::normalize_input(data::stack_images(batch, &data::pair_sample::warped).template to<B>());
        std::vector<geometry::homography> hs;
        for (const auto& p : batch) hs.push_back(kp2d_detail::loss_homography(p, o.size));

        if constexpr (Config::dropout) kp2d_detail::set_dropout_calls(model, 2 * std::uint64_t(s));
        auto so = model.forward(source);
        auto to = model.forward(target);
        const losses::kp2d_outputs<T, B> src{so.score, so.coord, so.desc}, tgt{to.score, to.coord, to.desc};
        auto terms = [&] {
          if constexpr (with_io)
            return losses::kp2d_loss(src, tgt, hs, lo, [&](const tensor<T, B>& x) { return ionet->forward(x); });
          else return losses::kp2d_loss(src, tgt, hs, lo);
        }();

        auto fail = [&](const std::string& what, double value) {
          throw numeric_error("kp2d: the " + what + " is " + std::to_string(value) + " at step " + std::to_string(s + 1) +
                              "; lower the learning rate (--lr) or resume from the last checkpoint");
        };
        const std::pair<const char*, const tensor<T, B>*> outputs[] = {
            {"source score", &so.score}, {"source coord", &so.coord}, {"source desc", &so.desc},
            {"target score", &to.score}, {"target coord", &to.coord}, {"target desc", &to.desc}};
        for (const auto& [what, t] : outputs)
          if (const auto bad = kp2d_detail::non_finite(*t)) fail(std::string("network's ") + what + " output", *bad);
        const std::tuple<const char*, const char*, const tensor<T, B>*> named[] = {
            {"location", "location", &terms.loc}, {"descriptor", "descriptor", &terms.desc}, {"usp", "usp", &terms.usp},
            {"score MSE", "score_mse", &terms.mse}, {"IO-Net", "io", &terms.io},          {"total", "loss", &terms.total}};
        nlohmann::json line = {{"epoch", double(s + 1) / double(per_epoch)}};
        for (const auto& [what, key, t] : named) {
          const double v = double(t->item());
          if (!std::isfinite(v)) fail(std::string(what) + " loss", v);
          line[key] = v;
        }
        // A batch in which no cell is valid gives constant terms (0) and nothing to learn from: the
        // step counts, the weights stay (PyTorch would produce NaN here).
        const bool updated = terms.total.requires_grad();
        if (updated) {
          opt.zero_grad();
          terms.total.backward();
          opt.step();
        }
        line["io_active"] = terms.io_active;
        line["io_inliers"] = terms.io_inliers;
        line["valid_cells"] = terms.valid_cells;
        line["border_cells"] = terms.border_cells;
        line["recall"] = terms.recall;
        line["updated"] = updated;
        return step_outcome{line["loss"].template get<double>(), opt.lr(0), std::move(line)};
      },
      [&](const std::filesystem::path& file, const nlohmann::json& meta) { save(file, meta); }, on_step, stop);
  if (status == train_status::finished) {
    // `kpt detect --model keypointnet --variant V --weights RUN/weights.safetensors` loads this.
    save_weights(run.weights_path(), model, run_meta.value("model", std::string("keypointnet")),
                 run_meta.value("variant", std::string("v4")));
    if constexpr (with_io) save_weights(run.dir() / "ionet.safetensors", *ionet, "ionet", "kp2d");
  }
  return status;
}

}  // namespace kpt::train
