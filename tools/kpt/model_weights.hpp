#pragma once
// Weights of a model <-> safetensors for the CLI adapters: every state_dict entry by its PyTorch
// name (nn::visit_params), with the model and variant in the metadata so that loading the weights
// of another model says which --model/--variant they were written for.
#include <filesystem>
#include <string>

#include "kpt/core/error.hpp"
#include "kpt/io/safetensors.hpp"
#include "kpt/nn/visit.hpp"

namespace kpt::cli {

template <class Net>
void save_model_weights(Net& net, const std::filesystem::path& file, const std::string& model, const std::string& variant) {
  io::safetensors_writer w;
  nn::visit_params(net, [&](const std::string& name, auto& t) { w.add(name, t); });
  w.set_metadata("format", "pt");
  w.set_metadata("kpt.model", model);
  w.set_metadata("kpt.variant", variant);
  w.write(file);
}

// file: a weights file, or a training checkpoint (metadata kpt.checkpoint), whose optimiser state
// ("adam.*") and second network ("ionet.*") are left out, so that any checkpoint of a run can be
// detected with or evaluated.
template <class Net>
void load_model_weights(Net& net, const std::filesystem::path& file, const std::string& model, const std::string& variant) {
  const io::safetensors_file f(file);
  io::state_loader in;
  nn::visit_params(net, [&](const std::string& name, auto& t) { in.bind(name, t); });
  const bool checkpoint = f.metadata().count("kpt.checkpoint") > 0;
  try {
    const auto report = in.load(f, {.allow_unexpected = checkpoint});
    for (const auto& key : report.unexpected)
      require<io_error>(key.starts_with("adam.") || key.starts_with("ionet."), "safetensors: checkpoint '",
                        file.string(), "' holds '", key, "', which is neither a weight of --model ", model,
                        " --variant ", variant, " nor optimiser or IO-Net state");
  } catch (const io_error& e) {
    std::string hint;
    const auto& md = f.metadata();
    const auto m = md.find("kpt.model"), v = md.find("kpt.variant");
    if (m != md.end() && v != md.end() && (m->second != model || v->second != variant))
      hint = "\n  note: the file was written for --model " + m->second + " --variant " + v->second +
             " (you asked for --model " + model + " --variant " + variant + ")";
    throw io_error(std::string(e.what()) + hint);
  }
}

}  // namespace kpt::cli
