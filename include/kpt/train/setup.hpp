#pragma once
// What every trainer (MagicPoint, SuperPoint, KP2D) does before its first step: gather the
// trainable tensors for Adam, find the step to continue from, and set up where batches come from
// (new ones from a loader, or the first N cycled over in overfit mode).
//
//   optim::adam<T, B> opt(train::trainable_params(model), {.lr = o.lr});
//   const index_t step = train::resume_step(run, resume, [&](auto& file) { return load_checkpoint(file, model, opt); });
//   train::batch_feed feed(pairs, o.batch_size, o.prefetch, o.overfit_batches, step);
//   ... const auto batch = feed.batch(s);
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "kpt/core/error.hpp"
#include "kpt/data/loader.hpp"
#include "kpt/nn/visit.hpp"
#include "kpt/optim/optimizer.hpp"
#include "kpt/train/run_folder.hpp"

namespace kpt::train {

// Every trainable tensor of `module` as an optimiser parameter named by its state_dict key with
// `prefix` in front (checkpoints store a second network's Adam state under e.g. "ionet.").
template <class Module>
auto trainable_params(Module& module, const std::string& prefix = "") {
  using tensor_type = typename Module::tensor_type;
  using T = typename tensor_type::value_type;
  using B = typename tensor_type::backend_type;
  std::vector<optim::param<T, B>> ps;
  nn::visit_trainable(module, [&](const std::string& name, tensor<T, B>& t) { ps.push_back({prefix + name, t}); });
  return ps;
}

// What a run over a photo folder records in its checkpoints ("photos": folder, image count and
// listing digest) so that resuming over a changed folder is refused (see resume_step).
template <class Folder>
nlohmann::json photos_meta(const Folder& folder) {
  return {{"folder", folder.root().string()}, {"images", folder.size()}, {"digest", folder.listing_digest()}};
}

// The number of steps already done: 0 for a new run; when resuming, `load(file)` restores the
// newest checkpoint of `run` (weights and optimiser state) and returns its metadata, whose "step"
// is the answer, and log.jsonl is cut back to that step. With `photos` (photos_meta of the folder
// the run reads now), a checkpoint that recorded other photos is refused: the epochs would differ.
template <class Load>
index_t resume_step(const run_folder& run, bool resume, Load&& load, const nlohmann::json& photos = {}) {
  if (!resume) return 0;
  const auto cks = run.checkpoints();
  require<io_error>(!cks.empty(), "resume: '", run.dir().string(), "' has no checkpoint in checkpoints/");
  const nlohmann::json meta = load(cks.back().second);
  if (const auto was = meta.find("photos"); !photos.is_null() && was != meta.end())
    require<io_error>(was->value("digest", "") == photos.value("digest", ""), "resume: the photos under '",
                      photos.value("folder", ""), "' changed since '", cks.back().second.string(), "' was written (",
                      was->value("images", index_t(0)), " images then, ", photos.value("images", index_t(0)),
                      " now; or files were renamed or replaced): the run cannot continue exactly; put the folder "
                      "back as it was, or start a new run with --out");
  const auto step = meta.at("step").template get<index_t>();
  run.truncate_log(step);
  return step;
}

// The batches of a run. Normally batch s is the loader's s-th (the loader starts at the resumed
// step and prepares `prefetch` batches ahead); with overfit_batches = N > 0 the first N batches are
// made once and step s gets batch s mod N.
template <class Dataset>
class batch_feed {
 public:
  using sample_type = typename data::batch_loader<Dataset>::sample_type;

  batch_feed(Dataset dataset, index_t batch_size, int prefetch, index_t overfit_batches, index_t start_step)
      : overfit_(overfit_batches),
        loader_(std::move(dataset), {.batch_size = batch_size,
                                     .prefetch = overfit_batches > 0 ? 0 : prefetch,
                                     .start_batch = overfit_batches > 0 ? 0 : start_step}) {
    for (index_t i = 0; i < overfit_; ++i) fixed_.push_back(loader_.next());
  }

  // The index of the batch step s trains on (s itself, or s mod N in overfit mode).
  index_t batch_index(index_t s) const { return overfit_ > 0 ? s % overfit_ : s; }

  // The batch of step s; steps must be asked for in order.
  std::vector<sample_type> batch(index_t s) {
    return overfit_ > 0 ? fixed_[std::size_t(batch_index(s))] : loader_.next();
  }

 private:
  index_t overfit_;
  data::batch_loader<Dataset> loader_;
  std::vector<std::vector<sample_type>> fixed_;
};

}  // namespace kpt::train
