#pragma once
// Training checkpoints: one safetensors file holding the model's state_dict (PyTorch names, so the
// file is also a weights file), the optimiser state (optim/state.hpp, keys "<kind>.*") and
// metadata "kpt.checkpoint" = a JSON object (step, model, variant, ...).
//
//   save_checkpoint(file, model, opt, meta)       atomic
//   meta = load_checkpoint(file, model, opt)      all or nothing: any missing, unexpected or
//                                                 mis-shaped key is an io_error naming them, and
//                                                 then neither the model nor opt has changed
//
// Several modules trained by one optimiser (KP2D: KeyPointNet + IO-Net) go in one file, each
// under its own key prefix (the first usually ""):
//
//   save_checkpoint_parts(file, opt, meta, checkpoint_part("", net), checkpoint_part("ionet.", io))
//   meta = load_checkpoint_parts(file, opt, checkpoint_part("", net), checkpoint_part("ionet.", io))
//
// The optimiser's parameter names must be the same prefixed names. With one part and prefix ""
// this is exactly the single-model format above.
#include <algorithm>
#include <filesystem>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "kpt/io/safetensors.hpp"
#include "kpt/nn/visit.hpp"
#include "kpt/optim/state.hpp"

namespace kpt::train {

// One module of a checkpoint and the prefix of its keys.
template <class Model>
struct checkpoint_part {
  std::string prefix;
  Model& model;
  checkpoint_part(std::string p, Model& m) : prefix(std::move(p)), model(m) {}
};

template <class Optimizer, class... Models>
void save_checkpoint_parts(const std::filesystem::path& file, Optimizer& opt, const nlohmann::json& meta,
                           checkpoint_part<Models>... parts) {
  io::safetensors_writer w;
  auto add = [&](auto& part) {
    nn::visit_params(part.model, [&](const std::string& name, auto& t) { w.add(part.prefix + name, t); });
  };
  (add(parts), ...);
  optim::save_state(w, opt);
  w.set_metadata("kpt.checkpoint", meta.dump());
  w.write(file);
}

template <class Optimizer, class... Models>
nlohmann::json load_checkpoint_parts(const std::filesystem::path& file, Optimizer& opt, checkpoint_part<Models>... parts) {
  const io::safetensors_file f(file);  // throws io_error for a missing, truncated or corrupt file
  const auto m = f.metadata().find("kpt.checkpoint");
  require<io_error>(m != f.metadata().end(), "checkpoint '", file.string(),
                    "' has no 'kpt.checkpoint' metadata: it is a weights file, not a training checkpoint");
  nlohmann::json meta;
  try {
    meta = nlohmann::json::parse(m->second);
  } catch (const nlohmann::json::exception& e) {
    throw io_error("checkpoint '" + file.string() + "': its metadata is not valid JSON (" + e.what() + ")");
  }
  // Load into copies first, so that a mismatch leaves the model untouched.
  io::state_loader weights;
  std::set<std::string> names;
  std::vector<std::function<void()>> commit;
  auto bind = [&](auto& part) {
    nn::visit_params(part.model, [&](const std::string& name, auto& t) {
      auto copy = t.detach().clone();
      weights.bind(part.prefix + name, copy);
      names.insert(part.prefix + name);
      commit.push_back([t, copy]() mutable {
        auto dst = t.values();
        auto src = copy.values();
        std::copy(src.begin(), src.end(), dst.begin());
      });
    });
  };
  (bind(parts), ...);
  const std::string optimiser_prefix = std::string(Optimizer::kind_name) + ".";
  for (const auto& t : f.tensors())
    require<io_error>(t.name.starts_with(optimiser_prefix) || names.count(t.name), "checkpoint '", file.string(),
                      "' holds '", t.name, "', which this model does not have: it was written by another model or ",
                      "variant (", meta.value("model", std::string("?")), " ", meta.value("variant", std::string("?")), ")");
  weights.load(f, {.allow_unexpected = true});  // missing or mis-shaped weights throw here
  optim::load_state(f, opt);                     // all or nothing itself
  for (auto& c : commit) c();
  return meta;
}

template <class Model, class Optimizer>
void save_checkpoint(const std::filesystem::path& file, Model& model, Optimizer& opt, const nlohmann::json& meta) {
  save_checkpoint_parts(file, opt, meta, checkpoint_part<Model>("", model));
}

template <class Model, class Optimizer>
nlohmann::json load_checkpoint(const std::filesystem::path& file, Model& model, Optimizer& opt) {
  return load_checkpoint_parts(file, opt, checkpoint_part<Model>("", model));
}

}  // namespace kpt::train
