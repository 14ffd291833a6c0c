// kpt init: write freshly initialised weights of a model (PyTorch's default initialisation, from a
// seed), under the model's PyTorch state_dict names.
//
//   kpt init --model M [--variant V] --seed S --output W.safetensors
#include <iostream>

#include "cli.hpp"
#include "models.hpp"

namespace {

int run(std::span<const std::string> args) {
  using namespace kpt;
  cli::flags f("init", "Writes initialised weights of a model (safetensors, PyTorch state_dict names; written atomically).\n"
                       "Models: " + cli::model_help() + ".");
  cli::add_model_flags(f);
  f.option("--seed", "S", "initialisation seed", {.required = true});
  f.option("--output", "W.safetensors", "weights file to write", {.required = true});
  if (!f.parse(args)) return 0;
  const auto seed = f.integer("--seed", 0);
  const std::filesystem::path out = f.get("--output");
  auto m = cli::model_from_flags(f, std::uint64_t(seed));
  if (out.has_parent_path()) {
    std::error_code ec;
    if (!std::filesystem::is_directory(out.parent_path(), ec))
      f.fail("--output: the folder '" + out.parent_path().string() + "' does not exist");
  }
  m->save_weights(out);
  std::cout << "kpt init: wrote " << m->name() << " (" << m->variant() << ") weights, seed " << seed << ", to "
            << out.string() << "\n";
  return 0;
}

const kpt::cli::registrar reg("init", "write initialised weights of a model (.safetensors)", run);

}  // namespace
