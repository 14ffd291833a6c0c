// SuperPoint and MagicPoint for the command line (their template instantiations live in this TU).
#include "kpt/models/superpoint.hpp"

#include "model_weights.hpp"
#include "models.hpp"

namespace kpt::cli {
namespace {

template <class Config>
class superpoint_model final : public model {
 public:
  superpoint_model(std::string name, std::string variant, std::uint64_t seed)
      : name_(std::move(name)), variant_(std::move(variant)), net_(seed) {
    net_.eval();
  }
  std::string name() const override { return name_; }
  std::string variant() const override { return variant_; }
  bool color() const override { return false; }
  bool has_descriptors() const override { return net_type::has_descriptor; }
  // magicleap's demo resizes with cv2.INTER_AREA.
  geometry::resize_mode resize_mode() const override { return geometry::resize_mode::area; }
  void save_weights(const std::filesystem::path& file) override { save_model_weights(net_, file, name_, variant_); }
  void load_weights(const std::filesystem::path& file) override { load_model_weights(net_, file, name_, variant_); }

  named_outputs forward(const host_tensor& image) override {
    no_grad guard;
    // SPEC 1.3: gray in [0, 1], no mean/std.
    const auto x = image.view_as({1, 1, image.size(1), image.size(2)});
    auto out = net_.forward(x);
    named_outputs r{{"semi", out.semi}};
    if constexpr (net_type::has_descriptor) r.emplace_back("desc", out.desc);
    return r;
  }

  bool has_probability_map() const override { return true; }
  host_tensor probability_map(const host_tensor& image, decode::softmax_variant softmax) override {
    no_grad guard;
    const auto x = image.view_as({1, 1, image.size(-2), image.size(-1)});
    const auto heat = decode::superpoint_heatmap(net_.forward(x).semi, softmax);  // [1, H, W]
    return heat.view_as({heat.size(1), heat.size(2)});
  }

  decode::keypoints<float, cpu> decode(const named_outputs& outs, const decode_settings& s) const override {
    const host_tensor desc = net_type::has_descriptor ? output(outs, "desc") : host_tensor{};
    return decode::decode_superpoint(output(outs, "semi"), desc, s.superpoint).front();
  }

 private:
  using net_type = models::superpoint<Config, float, cpu>;
  std::string name_, variant_;
  net_type net_;
};

}  // namespace

std::unique_ptr<model> make_superpoint(const std::string& name, const std::string& variant, std::uint64_t seed) {
  if (name == "superpoint" && variant == "magicleap")
    return std::make_unique<superpoint_model<models::superpoint_magicleap>>(name, variant, seed);
  if (name == "superpoint" && variant == "bn") return std::make_unique<superpoint_model<models::superpoint_bn>>(name, variant, seed);
  if (name == "magicpoint" && variant == "default") return std::make_unique<superpoint_model<models::magicpoint>>(name, variant, seed);
  if (name == "magicpoint" && variant == "bn") return std::make_unique<superpoint_model<models::magicpoint_bn>>(name, variant, seed);
  return nullptr;
}

}  // namespace kpt::cli
