#pragma once
// Every image under a folder (recursively), cropped and resized to the training size.
//
//   image_folder_dataset ds("coco/train2014", {.size = {240, 320}, .mode = color::gray});
//   image_sample s = ds.get(7);   // ds.file(7 % ds.size()) cropped at random (seeded) and resized
//
// Files are listed once, sorted by path, so index -> file is stable. Sample i (i may exceed
// size(): index i uses file i % size(), with a different random crop) takes a random crop whose
// side is a fraction U(crop_scale) of the largest crop with the target aspect ratio (or of the
// whole image when preserve_aspect is false), at a random position, and resizes it to `size`.
// Defaults: the largest aspect-preserving crop at a random place (RP's COCO resize keeps the
// aspect and centre-crops); {.crop_scale = {1, 1}, .preserve_aspect = false} resizes the whole
// image as KP2D does.
#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kpt/core/error.hpp"
#include "kpt/core/random.hpp"
#include "kpt/data/dataset.hpp"
#include "kpt/data/image.hpp"
#include "kpt/data/sample_rng.hpp"
#include "kpt/geometry/resize.hpp"
#include "kpt/io/npy.hpp"

namespace kpt::data {

// The part of `path` below the folder `root` it was found in, taken lexically: symlinked images
// keep their place in the tree (std::filesystem::relative would resolve them), and a trailing
// separator on root ("photos/") does not matter.
inline std::filesystem::path relative_below(const std::filesystem::path& path, std::filesystem::path root) {
  if (!root.has_filename() && root.has_parent_path()) root = root.parent_path();
  return path.lexically_normal().lexically_relative(root.lexically_normal());
}

// The image files below the folder `root` (recursive, through folder symlinks), sorted: those whose
// extension, compared case-insensitively, is one of `extensions`. io_error when listing fails.
inline std::vector<std::filesystem::path> list_images(
    const std::filesystem::path& root,
    const std::vector<std::string>& extensions = {".png", ".jpg", ".jpeg", ".ppm", ".pgm"}) {
  namespace fs = std::filesystem;
  std::vector<fs::path> files;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(root, fs::directory_options::follow_directory_symlink, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (!it->is_regular_file(ec)) continue;
    std::string ext = it->path().extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char ch) { return char(std::tolower(ch)); });
    if (std::find(extensions.begin(), extensions.end(), ext) != extensions.end()) files.push_back(it->path());
  }
  if (ec) throw io_error("listing '" + root.string() + "' failed (" + ec.message() + ")");
  std::sort(files.begin(), files.end());
  return files;
}

struct image_folder_options {
  geometry::image_size size{240, 320};
  color mode = color::gray;
  std::array<double, 2> crop_scale = {1.0, 1.0};  // side fraction of the crop, U(lo, hi)
  bool preserve_aspect = true;
  geometry::resize_mode interpolation = geometry::resize_mode::area;  // cv2 INTER_AREA / PIL antialias
  std::vector<std::string> extensions = {".png", ".jpg", ".jpeg", ".ppm", ".pgm"};  // case-insensitive
  std::uint64_t seed = 0;
  // Points of every image (SuperPoint joint training): labels/<the image's path below the root,
  // extension replaced by .kpts.npy>, [K, >= 2] float32 rows starting with x, y (kpt adapt and
  // kpt detect write [K, 3]: x, y, score) in pixels of the image resized whole to label_size
  // (none: of the original image). They follow the crop and the resize; points that leave the
  // image are dropped. Every image must have its file.
  std::filesystem::path labels{};
  std::optional<geometry::image_size> label_size{};
};

class image_folder_dataset {
 public:
  image_folder_dataset(std::filesystem::path root, image_folder_options o = {}) : root_(std::move(root)), o_(std::move(o)) {
    namespace fs = std::filesystem;
    require<value_error>(o_.size.height > 0 && o_.size.width > 0, "image_folder_dataset: size ", o_.size.height, "x",
                         o_.size.width, " must be positive");
    require<value_error>(o_.crop_scale[0] > 0 && o_.crop_scale[0] <= o_.crop_scale[1] && o_.crop_scale[1] <= 1,
                         "image_folder_dataset: crop_scale [", o_.crop_scale[0], ", ", o_.crop_scale[1],
                         "] must satisfy 0 < lo <= hi <= 1");
    std::error_code ec;
    if (!fs::is_directory(root_, ec))
      throw io_error("image_folder_dataset: '" + root_.string() + "' is not a folder (" +
                     (fs::exists(root_, ec) ? "it is a file" : "it does not exist") + ")");
    try {
      files_ = list_images(root_, o_.extensions);
    } catch (const io_error& e) {
      throw io_error(std::string("image_folder_dataset: ") + e.what());
    }
    require<io_error>(!files_.empty(), "image_folder_dataset: no images (", o_.extensions.size(),
                      " extensions: .png, .jpg, ...) under '", root_.string(), "'");
    if (!o_.labels.empty()) {
      index_t missing = 0;
      std::filesystem::path first;
      for (index_t i = 0; i < size(); ++i)
        if (!fs::is_regular_file(label_file(i), ec)) {
          if (missing++ == 0) first = label_file(i);
        }
      require<io_error>(missing == 0, "image_folder_dataset: ", missing, " of the ", size(),
                        " images have no points file, e.g. '", first.string(), "'; write them with kpt adapt --input ",
                        root_.string(), " --output ", o_.labels.string());
    }
  }

  // The points file of image i (labels set).
  std::filesystem::path label_file(index_t i) const {
    auto rel = relative_below(files_[std::size_t(i % size())], root_);
    return o_.labels / rel.replace_extension(".kpts.npy");
  }

  index_t size() const { return index_t(files_.size()); }
  const std::filesystem::path& file(index_t i) const { return files_[std::size_t(i)]; }
  const std::filesystem::path& root() const { return root_; }

  // A fingerprint of what the dataset serves: FNV-1a over every image's path below the root and
  // its size in bytes, as 16 hex digits. A training run records it so that resuming over a changed
  // folder (images added, removed, renamed or replaced), whose epochs would differ, is refused.
  std::string listing_digest() const {
    std::uint64_t h = fnv1a("");
    std::error_code ec;
    for (const auto& f : files_) {
      h = fnv1a(relative_below(f, root_).generic_string(), h);
      h = fnv1a(std::string_view("\0", 1), h);
      h = fnv1a(std::to_string(std::filesystem::file_size(f, ec)), h);
      h = fnv1a("\n", h);
    }
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(h));
    return hex;
  }

  image_sample get(index_t i) const {
    require<value_error>(i >= 0, "image_folder_dataset::get: index ", i, " must be >= 0");
    const auto& path = files_[std::size_t(i % size())];
    auto img = load_image<float>(path, o_.mode);
    rng g = sample_rng(o_.seed, i);
    const index_t h = img.size(1), w = img.size(2);
    // The crop: largest region with the target aspect (or the whole image), scaled by U(crop_scale).
    double ch = double(h), cw = double(w);
    if (o_.preserve_aspect) {
      const double target = double(o_.size.width) / double(o_.size.height);
      if (cw / ch > target) cw = ch * target;
      else ch = cw / target;
    }
    const double f = g.uniform(o_.crop_scale[0], o_.crop_scale[1]);
    const index_t crop_h = std::clamp<index_t>(index_t(std::lround(ch * f)), 1, h);
    const index_t crop_w = std::clamp<index_t>(index_t(std::lround(cw * f)), 1, w);
    const index_t y0 = randint(g, 0, h - crop_h + 1), x0 = randint(g, 0, w - crop_w + 1);
    auto crop = tensor<float, cpu_ref>::empty({img.size(0), crop_h, crop_w});
    for (index_t c = 0; c < img.size(0); ++c)
      for (index_t y = 0; y < crop_h; ++y)
        std::copy_n(img.data() + (c * h + y0 + y) * w + x0, crop_w, crop.data() + (c * crop_h + y) * crop_w);
    image_sample s;
    s.image = geometry::resize(crop, o_.size, o_.interpolation);
    s.points = o_.labels.empty() ? tensor<float, cpu_ref>::empty({0, 2})
                                 : cropped_points(i, {h, w}, double(x0), double(y0), double(crop_w), double(crop_h));
    s.name = relative_below(path, root_).string();
    return s;
  }

 private:
  // Image i's points moved from the label frame to the crop (x0, y0, cw, ch) of the original
  // image (size full) resized to o_.size, with resize's pixel-centre convention
  // x_out = (x_in + 0.5) * out / in - 0.5.
  tensor<float, cpu_ref> cropped_points(index_t i, geometry::image_size full, double x0, double y0, double cw,
                                        double ch) const {
    const auto file = label_file(i);
    const auto rows = io::load_npy<float>(file);
    require<io_error>(rows.rank() == 2 && rows.size(1) >= 2, "image_folder_dataset: '", file.string(),
                      "' must hold [K, 2] or [K, 3] points (x, y[, score]), got ", rows.shape().str());
    const geometry::image_size from = o_.label_size.value_or(full);
    const double sx = double(full.width) / double(from.width), sy = double(full.height) / double(from.height);
    const double ox = double(o_.size.width) / cw, oy = double(o_.size.height) / ch;
    std::vector<float> kept;
    for (index_t k = 0; k < rows.size(0); ++k) {
      const double x = rows.data()[k * rows.size(1)], y = rows.data()[k * rows.size(1) + 1];
      require<io_error>(std::isfinite(x) && std::isfinite(y), "image_folder_dataset: '", file.string(), "' row ", k,
                        " is not finite");
      const double u = ((x + 0.5) * sx - 0.5 - x0 + 0.5) * ox - 0.5, v = ((y + 0.5) * sy - 0.5 - y0 + 0.5) * oy - 0.5;
      if (u >= 0 && v >= 0 && u <= double(o_.size.width - 1) && v <= double(o_.size.height - 1))
        kept.insert(kept.end(), {float(u), float(v)});
    }
    auto out = tensor<float, cpu_ref>::empty({index_t(kept.size() / 2), 2});
    std::copy(kept.begin(), kept.end(), out.data());
    return out;
  }

  std::filesystem::path root_;
  image_folder_options o_;
  std::vector<std::filesystem::path> files_;
};

}  // namespace kpt::data
