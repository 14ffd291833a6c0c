#pragma once
// The HPatches benchmark (SPEC 7): every pair (1, k) of every sequence, evaluated at a fixed size,
// averaged over all pairs and over each subset (i_*, v_*, ...), with a JSON report.
//
//   data::hpatches_dataset hp(root);                        // only the pair list is used
//   eval::npy_detections src(dir);                          // or any eval::detection_source
//   auto rep = eval::evaluate_hpatches(hp, src, {.size = {240, 320}, .metrics = {.top_k = 300}});
//   eval::write_json(file, eval::to_json(rep));
//
// Ground truth: H_1_k adjusted to the evaluated size, H' = S_k H S_1^-1 with S = diag(W'/W, H'/H, 1)
// from each image's own size (SPEC 7.1, as data::hpatches_dataset). Detections are in pixels of
// the image resized to `size`.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <tbb/parallel_for.h>

#include "kpt/data/hpatches.hpp"
#include "kpt/data/image.hpp"
#include "kpt/eval/metrics.hpp"
#include "kpt/io/atomic_file.hpp"
#include "kpt/io/npy.hpp"

namespace kpt::eval {

// One image of a sequence: `index` is 1 for the reference image, k for the others.
struct view_ref {
  std::filesystem::path image;
  std::string sequence;
  int index = 1;
};

// Where keypoints come from: files written by another program (npy_detections) or a network run
// on the resized image (the `kpt eval --model` mode plugs in here).
class detection_source {
 public:
  virtual ~detection_source() = default;
  // Keypoints (x, y, score) and descriptors of `view` in pixels of the image resized to `size`.
  virtual scored_keypoints detect(const view_ref& view, geometry::image_size size) = 0;
  // True when detect may be called from several threads at once.
  virtual bool concurrent() const { return false; }
};

// Detections stored as DIR/SEQ/N.kpts.npy (K x 3 float32: x, y, score) and DIR/SEQ/N.desc.npy
// (K x D float32).
class npy_detections : public detection_source {
 public:
  explicit npy_detections(std::filesystem::path dir) : dir_(std::move(dir)) {
    std::error_code ec;
    require<io_error>(std::filesystem::is_directory(dir_, ec), "detections folder '", dir_.string(),
                      "' does not exist or is not a folder");
  }

  scored_keypoints detect(const view_ref& v, geometry::image_size size) override {
    namespace fs = std::filesystem;
    const fs::path stem = dir_ / v.sequence / std::to_string(v.index);
    const fs::path kf = stem.string() + ".kpts.npy", df = stem.string() + ".desc.npy";
    std::error_code ec;
    for (const auto& f : {kf, df})
      require<io_error>(fs::is_regular_file(f, ec), "detections: '", f.string(),
                        "' is missing; the detections folder must hold SEQ/N.kpts.npy (K x 3 float32: x, y, score) "
                        "and SEQ/N.desc.npy (K x D float32) for every image N of every HPatches sequence");
    const auto k = io::load_npy<float>(kf);
    const auto d = io::load_npy<float>(df);
    require<io_error>(k.rank() == 2 && k.size(1) == 3, "detections: '", kf.string(),
                      "' must have shape (K, 3) (x, y, score), got ", k.shape().str());
    require<io_error>(d.rank() == 2 && d.size(0) == k.size(0) && (d.size(1) > 0 || k.size(0) == 0), "detections: '",
                      df.string(), "' must have shape (", k.size(0), ", D) with D > 0 (one descriptor per keypoint of '",
                      kf.string(), "'), got ", d.shape().str());
    scored_keypoints s;
    try {
      s = scored_keypoints::from_rows({k.data(), std::size_t(k.numel())}, {d.data(), std::size_t(d.numel())},
                                      d.size(1));
    } catch (const error& e) {
      throw io_error(detail::concat("detections: '", kf.string(), "': ", e.what()));
    }
    for (index_t i = 0; i < s.size(); ++i) {
      const auto& p = s.xy[std::size_t(i)];
      // A point far outside the evaluated image usually means detections at the original resolution.
      require<io_error>(p.x() >= -1.0 && p.y() >= -1.0 && p.x() <= double(size.width) && p.y() <= double(size.height),
                        "detections: keypoint ", i, " of '", kf.string(), "' is at (", p.x(), ", ", p.y(),
                        "), outside the evaluated ", size.height, "x", size.width,
                        " image; write keypoints in pixels of the image resized to that size (or change --size)");
    }
    for (float x : s.desc)
      require<io_error>(std::isfinite(x), "detections: '", df.string(), "' holds a non-finite descriptor value");
    return s;
  }
  bool concurrent() const override { return true; }

 private:
  std::filesystem::path dir_;
};

// The subset of a sequence: its name up to the first underscore ("i", "v"); "" without one.
inline std::string subset_of(const std::string& sequence) {
  const auto u = sequence.find('_');
  return u == std::string::npos ? std::string() : sequence.substr(0, u);
}

struct hpatches_eval_options {
  geometry::image_size size{240, 320};
  eval_options metrics{};
  // Called after each pair with (pairs done, total); from one thread at a time.
  std::function<void(index_t, index_t)> progress{};
};

struct hpatches_pair_result {
  std::string sequence;
  int k = 2;
  geometry::homography H = geometry::homography::Identity();  // ground truth at the evaluated size
  pair_metrics metrics;
};

struct hpatches_report {
  geometry::image_size size;
  index_t top_k = 0;
  std::vector<hpatches_pair_result> pairs;  // in dataset order
  std::map<std::string, metric_means> subsets;  // "all" and every subset prefix
};

inline hpatches_report evaluate_hpatches(const data::hpatches_dataset& hp, detection_source& src,
                                         const hpatches_eval_options& o = {}) {
  require<value_error>(o.size.height > 1 && o.size.width > 1, "evaluate_hpatches: size ", o.size.height, "x",
                       o.size.width, " must be at least 2x2");
  hpatches_report rep;
  rep.size = o.size;
  rep.top_k = o.metrics.top_k;
  const index_t n = hp.size();
  rep.pairs.resize(std::size_t(n));
  // Pairs grouped by sequence, so image 1 is read and detected once per sequence.
  std::vector<std::pair<index_t, index_t>> groups;  // [begin, end) of each sequence
  for (index_t i = 0; i < n; ++i)
    if (i == 0 || hp.info(i).sequence != hp.info(i - 1).sequence) groups.push_back({i, i + 1});
    else groups.back().second = i + 1;

  std::mutex progress_mutex;
  index_t done = 0;
  auto run_group = [&](std::size_t gi) {
    const auto [b, e] = groups[gi];
    const auto& first = hp.info(b);
    const geometry::image_size size1 = data::read_image_size(first.image);
    const scored_keypoints kp1 = src.detect({first.image, first.sequence, 1}, o.size);
    for (index_t i = b; i < e; ++i) {
      const auto& p = hp.info(i);
      const geometry::homography H0 = data::read_homography_file(p.homography);
      const geometry::homography H =
          geometry::adjust_for_resize(H0, size1, o.size, data::read_image_size(p.warped), o.size);
      const scored_keypoints kp2 = src.detect({p.warped, p.sequence, p.k}, o.size);
      auto& r = rep.pairs[std::size_t(i)];
      r.sequence = p.sequence;
      r.k = p.k;
      r.H = H;
      r.metrics = evaluate_pair(kp1, kp2, H, o.size, o.metrics);
      if (o.progress) {
        std::lock_guard lock(progress_mutex);
        o.progress(++done, n);
      }
    }
  };
  if (src.concurrent())
    tbb::parallel_for(std::size_t(0), groups.size(), run_group);
  else
    for (std::size_t g = 0; g < groups.size(); ++g) run_group(g);

  std::map<std::string, std::vector<pair_metrics>> by_subset;
  for (const auto& r : rep.pairs) {
    by_subset["all"].push_back(r.metrics);
    if (const auto s = subset_of(r.sequence); !s.empty() && s != "all") by_subset[s].push_back(r.metrics);
  }
  for (const auto& [name, v] : by_subset) rep.subsets[name] = mean_metrics(v);
  return rep;
}

// ---- JSON ------------------------------------------------------------------------------------

namespace hpatches_detail {
inline nlohmann::json number(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); }
inline nlohmann::json matrix(const geometry::homography& H) {
  nlohmann::json m = nlohmann::json::array();
  for (int r = 0; r < 3; ++r) m.push_back({H(r, 0), H(r, 1), H(r, 2)});
  return m;
}
inline nlohmann::json means(const metric_means& s) {
  return {{"pairs", s.pairs},
          {"repeatability", number(s.repeatability)},
          {"localization_error", number(s.localization_error)},
          {"matching_score", number(s.matching_score)},
          {"cor1", number(s.cor1)},
          {"cor3", number(s.cor3)},
          {"cor5", number(s.cor5)}};
}
}  // namespace hpatches_detail

// {"size": [H, W], "top_k": k, "subsets": {"all": {...}, "i": {...}, ...}, "pairs": [...]}; a NaN
// (localization error without any repeated point, corner error without an estimate) is null.
inline nlohmann::json to_json(const hpatches_report& rep) {
  using hpatches_detail::number;
  nlohmann::json j;
  j["size"] = {rep.size.height, rep.size.width};
  j["top_k"] = rep.top_k;
  j["subsets"] = nlohmann::json::object();
  for (const auto& [name, s] : rep.subsets) j["subsets"][name] = hpatches_detail::means(s);
  j["pairs"] = nlohmann::json::array();
  for (const auto& p : rep.pairs) {
    const auto& m = p.metrics;
    const auto& est = m.homography.estimate;
    j["pairs"].push_back({{"sequence", p.sequence},
                          {"k", p.k},
                          {"repeatability", number(m.repeatability.repeatability)},
                          {"localization_error", number(m.repeatability.localization_error)},
                          {"matching_score", number(m.matching.matching_score)},
                          {"cor1", m.homography.cor1},
                          {"cor3", m.homography.cor3},
                          {"cor5", m.homography.cor5},
                          {"n1", m.repeatability.n1},
                          {"n2", m.repeatability.n2},
                          {"matches", m.homography.matches},
                          {"inliers", est.n_inliers},
                          {"corner_error", number(m.homography.corner_error)},
                          {"H", hpatches_detail::matrix(p.H)},
                          {"H_est", est.found ? hpatches_detail::matrix(est.H) : nlohmann::json(nullptr)}});
  }
  return j;
}

// Writes `j` (indented) to `file` atomically: a temporary in the same folder, then a rename.
inline void write_json(const std::filesystem::path& file, const nlohmann::json& j) {
  io::write_file_atomic(file, j.dump(2) + "\n", "write_json");
}

}  // namespace kpt::eval
