#pragma once
// The HPatches sequences (SPEC 7.1): pairs (1, k) of every sequence, images optionally resized
// to a fixed size with the homography adjusted.
//
//   hpatches_dataset hp("hpatches-sequences-release", {.size = geometry::image_size{240, 320}});
//   pair_sample p = hp.get(0);   // p.image = 1.ppm, p.warped = k.ppm, p.H maps image 1 -> image k
//
// A sequence is a folder holding `1.<ext>` and at least one `k.<ext>` (k = 2..6) with its
// `H_1_k` (3 rows of 3 numbers, mapping pixels of image 1 to image k), ext in .ppm, .png, .jpg.
// Sequences are sorted by name, pairs by k. With `size`, both images are resized (bilinear, as
// cv2.resize) exactly to size (aspect not kept) and H' = S_k H S_1^-1, S = diag(W'/W, H'/H, 1)
// computed for each image (KP2D PatchesDataset). valid_mask is left undefined.
#include <algorithm>
#include <array>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "kpt/core/error.hpp"
#include "kpt/data/dataset.hpp"
#include "kpt/data/image.hpp"
#include "kpt/geometry/resize.hpp"

namespace kpt::data {

// Width and height of an image file from its header (the pixels are not decoded).
inline geometry::image_size read_image_size(const std::filesystem::path& file) {
  const auto bytes = image_detail::read_file(file, "read_image_size");
  int w = 0, h = 0, n = 0;
  const int len = int(std::min<std::size_t>(bytes.size(), std::size_t(INT32_MAX)));
  if (!stbi_info_from_memory(bytes.data(), len, &w, &h, &n) || w <= 0 || h <= 0)
    throw io_error("read_image_size: '" + file.string() + "' is not a PNG, JPEG or PPM/PGM image with a valid header");
  return {h, w};
}


struct hpatches_options {
  std::optional<geometry::image_size> size{};  // resize both images to this; none: original sizes
  color mode = color::rgb;                     // KP2D reads colour (as BGR); SuperPoint uses gray
  enum subset_kind { all, illumination, viewpoint } subset = all;  // i_*, v_* or both
  geometry::resize_convention convention = geometry::resize_convention::scale;
};

// Reads an HPatches homography file: 9 numbers, row-major.
inline geometry::homography read_homography_file(const std::filesystem::path& file) {
  std::ifstream in(file);
  if (!in) throw io_error("read_homography_file: '" + file.string() + "' cannot be opened");
  std::array<double, 9> v{};
  for (int i = 0; i < 9; ++i)
    if (!(in >> v[std::size_t(i)]))
      throw io_error("read_homography_file: '" + file.string() + "' must hold 3 rows of 3 numbers; value " +
                     std::to_string(i + 1) + " is missing or not a number");
  std::string extra;
  if (in >> extra) throw io_error("read_homography_file: '" + file.string() + "' has more than 9 values ('" + extra + "')");
  geometry::homography H;
  H << v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8];
  if (!H.allFinite() || std::abs(H.determinant()) < 1e-300)
    throw io_error("read_homography_file: '" + file.string() + "' is not an invertible homography");
  return H;
}

class hpatches_dataset {
 public:
  struct pair_info {
    std::filesystem::path image, warped, homography;
    std::string sequence;
    int k = 2;
  };

  hpatches_dataset(std::filesystem::path root, hpatches_options o = {}) : root_(std::move(root)), o_(o) {
    namespace fs = std::filesystem;
    std::error_code ec;
    if (!fs::is_directory(root_, ec))
      throw io_error("hpatches_dataset: '" + root_.string() + "' is not a folder (" +
                     (fs::exists(root_, ec) ? "it is a file" : "it does not exist") + ")");
    std::vector<fs::path> seqs;
    for (const auto& e : fs::directory_iterator(root_, ec))
      if (e.is_directory()) seqs.push_back(e.path());
    std::sort(seqs.begin(), seqs.end());
    for (const auto& dir : seqs) {
      const std::string name = dir.filename().string();
      if (o_.subset == hpatches_options::illumination && name.rfind("i_", 0) != 0) continue;
      if (o_.subset == hpatches_options::viewpoint && name.rfind("v_", 0) != 0) continue;
      const auto first = find_image(dir, 1);
      if (!first) continue;
      for (int k = 2; k <= 6; ++k) {
        const auto other = find_image(dir, k);
        const fs::path h = dir / ("H_1_" + std::to_string(k));
        if (other && fs::is_regular_file(h, ec)) pairs_.push_back({*first, *other, h, name, k});
      }
    }
    require<io_error>(!pairs_.empty(), "hpatches_dataset: no sequences under '", root_.string(),
                      "' (expected folders holding 1.ppm, k.ppm and H_1_k for k in 2..6)");
  }

  index_t size() const { return index_t(pairs_.size()); }
  const pair_info& info(index_t i) const { return pairs_[std::size_t(i)]; }

  pair_sample get(index_t i) const {
    require<value_error>(i >= 0 && i < size(), "hpatches_dataset::get: index ", i, " out of range [0, ", size(), ")");
    const auto& p = pairs_[std::size_t(i)];
    pair_sample s;
    s.image = load_image<float>(p.image, o_.mode);
    s.warped = load_image<float>(p.warped, o_.mode);
    s.H = read_homography_file(p.homography);
    if (o_.size) {
      const geometry::image_size a{s.image.size(1), s.image.size(2)}, b{s.warped.size(1), s.warped.size(2)};
      s.H = geometry::adjust_for_resize(s.H, a, *o_.size, b, *o_.size, o_.convention);
      s.image = geometry::resize(s.image, *o_.size, geometry::resize_mode::bilinear);
      s.warped = geometry::resize(s.warped, *o_.size, geometry::resize_mode::bilinear);
    }
    s.points = tensor<float, cpu_ref>::empty({0, 2});
    s.warped_points = tensor<float, cpu_ref>::empty({0, 2});
    s.name = p.sequence + "/1-" + std::to_string(p.k);
    return s;
  }

 private:
  static std::optional<std::filesystem::path> find_image(const std::filesystem::path& dir, int k) {
    std::error_code ec;
    for (const char* ext : {".ppm", ".png", ".jpg"}) {
      auto f = dir / (std::to_string(k) + ext);
      if (std::filesystem::is_regular_file(f, ec)) return f;
    }
    return std::nullopt;
  }

  std::filesystem::path root_;
  hpatches_options o_;
  std::vector<pair_info> pairs_;
};

}  // namespace kpt::data
