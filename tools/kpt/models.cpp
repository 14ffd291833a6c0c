// The name/variant table of the command line's models and what all commands share: the model
// flags and image loading. The networks themselves are in model_<family>.cpp.
#include "models.hpp"

#include <stdexcept>

#include "kpt/data/image.hpp"

namespace kpt::cli {

const std::vector<model_info>& model_table() {
  static const std::vector<model_info> table = {
      {"superpoint", {"magicleap", "bn"}, "SuperPoint (SPEC 1): magicleap = superpoint_v1.pth layout, bn = rpautrat's port"},
      {"magicpoint", {"default", "bn"}, "MagicPoint: SuperPoint's detector only (no descriptors)"},
      {"keypointnet", {"v4", "v0", "v1", "v2", "v3", "v4_gray"}, "KP2D's KeyPointNet (SPEC 5.1), paper ablations v0-v4"},
  };
  return table;
}

std::string model_help() {
  std::string s;
  for (const auto& m : model_table()) {
    s += (s.empty() ? "" : "; ") + m.name + " (";
    for (std::size_t i = 0; i < m.variants.size(); ++i) s += (i ? ", " : "") + m.variants[i] + (i == 0 ? " [default]" : "");
    s += ")";
  }
  return s;
}

std::unique_ptr<model> make_model(const flags& f, const std::string& name, const std::string& variant, std::uint64_t seed) {
  for (const auto& m : model_table()) {
    if (m.name != name) continue;
    const std::string v = variant.empty() ? m.variants.front() : variant;
    std::unique_ptr<model> out;
    if (std::find(m.variants.begin(), m.variants.end(), v) != m.variants.end())
      out = name == "keypointnet" ? make_keypointnet(v, seed) : make_superpoint(name, v, seed);
    if (!out) {
      std::string all;
      for (const auto& x : m.variants) all += (all.empty() ? "" : ", ") + x;
      f.fail("--variant of " + name + " must be one of " + all + ", got '" + v + "'");
    }
    return out;
  }
  f.fail("--model must be one of superpoint, magicpoint, keypointnet, got '" + name + "'");
}

void add_model_flags(flags& f) {
  f.option("--model", "M", "superpoint, magicpoint or keypointnet", {.required = true});
  f.option("--variant", "V", "variant of the model: " + model_help());
}

std::unique_ptr<model> model_from_flags(const flags& f, std::uint64_t seed) {
  return make_model(f, f.get("--model"), f.has("--variant") ? f.get("--variant") : std::string(), seed);
}

host_tensor load_input(const flags& f, const model& m, const std::filesystem::path& file,
                       std::optional<std::pair<std::int64_t, std::int64_t>> size) {
  auto img = data::load_image<float>(file, m.color() ? data::color::rgb : data::color::gray);
  if (size) img = geometry::resize(img, {size->first, size->second}, m.resize_mode());
  const index_t h = img.size(1), w = img.size(2);
  if (h % 8 != 0 || w % 8 != 0 || h < 8 || w < 8) {
    const index_t h8 = std::max<index_t>(8, h / 8 * 8), w8 = std::max<index_t>(8, w / 8 * 8);
    f.fail("'" + file.string() + "' is " + std::to_string(h) + "x" + std::to_string(w) + " (HxW); " + m.name() +
           " needs both sides divisible by 8: pass --size " + std::to_string(h8) + "x" + std::to_string(w8) +
           " (or another multiple of 8)");
  }
  return img.to<cpu>();
}

const host_tensor& output(const named_outputs& outs, const std::string& name) {
  for (const auto& [n, t] : outs)
    if (n == name) return t;
  throw std::logic_error("kpt: model output '" + name + "' is missing");
}

}  // namespace kpt::cli
