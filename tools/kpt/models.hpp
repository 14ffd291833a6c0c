#pragma once
// The networks the kpt command line knows, behind one small interface. The name/variant -> type
// table is models.cpp; each family's heavy template code lives in its own TU
// (model_superpoint.cpp, model_keypointnet.cpp) so they compile in parallel.
//
//   superpoint   magicleap (default; superpoint_v1.pth layout), bn (rpautrat's PyTorch port)
//   magicpoint   default, bn (detector only: no descriptors)
//   keypointnet  v0 v1 v2 v3 v4 (default), v4_gray
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "cli.hpp"
#include "kpt/backends/cpu.hpp"
#include "kpt/core/tensor.hpp"
#include "kpt/decode/keypointnet.hpp"
#include "kpt/decode/keypoints.hpp"
#include "kpt/decode/superpoint.hpp"
#include "kpt/geometry/resize.hpp"

namespace kpt::cli {

using host_tensor = tensor<float, cpu>;
using named_outputs = std::vector<std::pair<std::string, host_tensor>>;

// Decoding settings of `kpt detect` (each family reads its own).
struct decode_settings {
  decode::superpoint_decode_options superpoint{};
  decode::keypointnet_decode_options keypointnet{};
};

class model {
 public:
  virtual ~model() = default;
  virtual std::string name() const = 0;     // "superpoint", "magicpoint", "keypointnet"
  virtual std::string variant() const = 0;
  virtual bool color() const = 0;           // RGB input (else gray)
  virtual bool has_descriptors() const = 0;
  virtual geometry::resize_mode resize_mode() const = 0;  // how --size resizes for this family
  virtual void save_weights(const std::filesystem::path& file) = 0;  // atomic safetensors
  virtual void load_weights(const std::filesystem::path& file) = 0;  // io_error naming every bad key
  // One image [C, H, W] in [0, 1] (C = 3 if color() else 1; H, W multiples of 8) -> every head's
  // raw output [1, ...] after the model's own input normalisation, in eval mode.
  virtual named_outputs forward(const host_tensor& image) = 0;
  // forward's outputs -> keypoints.
  virtual decode::keypoints<float, cpu> decode(const named_outputs& outputs, const decode_settings& s) const = 0;
  // Whether probability_map exists: a dense per-pixel detector map (SuperPoint/MagicPoint; not
  // KeyPointNet, whose scores are per cell with a regressed offset).
  virtual bool has_probability_map() const { return false; }
  // One image [C, H, W] as for forward -> the detector's probability map [H, W] before any
  // threshold or NMS (softmax, dustbin dropped, depth-to-space). What homographic adaptation
  // (kpt adapt) aggregates. logic_error when !has_probability_map().
  virtual host_tensor probability_map(const host_tensor& image, decode::softmax_variant softmax) {
    (void)image, (void)softmax;
    throw std::logic_error("kpt: " + name() + " has no dense probability map");
  }
};

struct model_info {
  std::string name;
  std::vector<std::string> variants;  // the first is the default
  std::string summary;
};
const std::vector<model_info>& model_table();
// "superpoint (magicleap*, bn), ..." for --help texts.
std::string model_help();

// The model called name/variant (variant "" = its default), freshly initialised from seed;
// usage_error naming the choices for an unknown name or variant.
std::unique_ptr<model> make_model(const flags& f, const std::string& name, const std::string& variant, std::uint64_t seed);

// Declares --model and --variant on f; model_from_flags reads them.
void add_model_flags(flags& f);
std::unique_ptr<model> model_from_flags(const flags& f, std::uint64_t seed = 0);

// Loads an image for m: RGB or gray as the model wants, resized to `size` when given; a size that is
// not a multiple of 8 is a usage_error suggesting the --size to use.
host_tensor load_input(const flags& f, const model& m, const std::filesystem::path& file,
                       std::optional<std::pair<std::int64_t, std::int64_t>> size);

// Per-family factories (nullptr for an unknown variant), defined in model_<family>.cpp.
std::unique_ptr<model> make_superpoint(const std::string& name, const std::string& variant, std::uint64_t seed);
std::unique_ptr<model> make_keypointnet(const std::string& variant, std::uint64_t seed);

// The output called `name` (logic_error if absent: a bug in a model adapter).
const host_tensor& output(const named_outputs& outs, const std::string& name);

}  // namespace kpt::cli
