// KP2D's KeyPointNet for the command line (its template instantiations live in this TU). V2, V3 and
// V4 differ only in training switches, so they share one network type (and its instantiation);
// so do V0 and V1 (only the cross-border ratio differs, applied outside the network).
#include "kpt/models/keypointnet.hpp"

#include "model_weights.hpp"
#include "models.hpp"

namespace kpt::cli {
namespace {

template <class Config>
class keypointnet_model final : public model {
 public:
  keypointnet_model(std::string variant, std::uint64_t seed) : variant_(std::move(variant)), net_(seed) { net_.eval(); }
  std::string name() const override { return "keypointnet"; }
  std::string variant() const override { return variant_; }
  // The gray variant still takes RGB: its normalisation averages the channels (SPEC 5.1).
  bool color() const override { return true; }
  bool has_descriptors() const override { return true; }
  // KP2D resizes with cv2.resize (bilinear).
  geometry::resize_mode resize_mode() const override { return geometry::resize_mode::bilinear; }
  void save_weights(const std::filesystem::path& file) override { save_model_weights(net_, file, name(), variant_); }
  void load_weights(const std::filesystem::path& file) override { load_model_weights(net_, file, name(), variant_); }

  named_outputs forward(const host_tensor& image) override {
    no_grad guard;
    const auto x = net_type::normalize_input(image.view_as({1, 3, image.size(1), image.size(2)}));  // (x - 0.5) * 0.225
    auto out = net_.forward(x);
    return {{"score", out.score}, {"coord", out.coord}, {"desc", out.desc}};
  }

  decode::keypoints<float, cpu> decode(const named_outputs& outs, const decode_settings& s) const override {
    return decode::decode_keypointnet(output(outs, "score"), output(outs, "coord"), output(outs, "desc"), s.keypointnet).front();
  }

 private:
  using net_type = models::keypointnet<Config, float, cpu>;
  std::string variant_;
  net_type net_;
};

}  // namespace

std::unique_ptr<model> make_keypointnet(const std::string& v, std::uint64_t seed) {
  using namespace models;
  if (v == "v0") return std::make_unique<keypointnet_model<keypointnet_v0>>(v, seed);
  if (v == "v1") return std::make_unique<keypointnet_model<keypointnet_v1>>(v, seed);
  if (v == "v2") return std::make_unique<keypointnet_model<keypointnet_v2>>(v, seed);
  if (v == "v3") return std::make_unique<keypointnet_model<keypointnet_v3>>(v, seed);
  if (v == "v4") return std::make_unique<keypointnet_model<keypointnet_v4>>(v, seed);
  if (v == "v4_gray") return std::make_unique<keypointnet_model<keypointnet_v4_gray>>(v, seed);
  return nullptr;
}

}  // namespace kpt::cli
