#pragma once
// Synthetic shapes as an infinite dataset: sample i is generate_shapes / generate_purdue of
// (seed, i), optionally converted and photometrically augmented (own random stream).
//
//   synthetic_dataset ds({.style = synthetic_style::rpautrat, .seed = 3});
//   image_sample s = ds.get(12345);   // the same pixels on any thread, any run
#include <optional>
#include <string>

#include "kpt/core/tensor.hpp"
#include "kpt/data/augment.hpp"
#include "kpt/data/dataset.hpp"
#include "kpt/data/image.hpp"
#include "kpt/data/purdue_shapes.hpp"
#include "kpt/data/sample_rng.hpp"
#include "kpt/data/synthetic_shapes.hpp"

namespace kpt::data {

enum class synthetic_style { rpautrat, purdue };

struct synthetic_dataset_options {
  synthetic_style style = synthetic_style::rpautrat;
  std::uint64_t seed = 0;
  synthetic_shapes_config shapes{};  // rpautrat style (SPEC 3.1-3.3)
  purdue_shapes_config purdue{};     // purdue style (SPEC 3.6)
  color mode = color::keep;          // keep: gray for rpautrat, RGB for purdue
  std::optional<photometric_config> photometric{};  // SPEC 3.5, applied after drawing
};

class synthetic_dataset {
 public:
  explicit synthetic_dataset(synthetic_dataset_options o = {}) : o_(std::move(o)) {}

  index_t size() const { return unbounded; }
  const synthetic_dataset_options& options() const { return o_; }

  image_sample get(index_t i) const {
    require<value_error>(i >= 0, "synthetic_dataset::get: index ", i, " must be >= 0");
    image_sample s;
    if (o_.style == synthetic_style::rpautrat) {
      auto g = generate_shapes(o_.shapes, o_.seed, i);
      s.image = std::move(g.image);
      s.points = std::move(g.points);
      s.name = std::string(primitive_names[std::size_t(g.kind)]) + "/" + std::to_string(i);
    } else {
      auto g = generate_purdue(o_.purdue, o_.seed, i);
      s.image = std::move(g.image);
      s.points = std::move(g.points);
      s.name = "purdue/" + std::to_string(i);
    }
    s.image = convert_color(s.image, o_.mode);
    if (o_.photometric) {
      rng g = sample_rng(o_.seed, i, 1);
      s.image = photometric_augment(s.image, *o_.photometric, g);
    }
    return s;
  }

 private:
  synthetic_dataset_options o_;
};

}  // namespace kpt::data
