// kpt eval: the HPatches benchmark of SPEC 7 (KP2D protocol) on stored detections or a network.
//
//   kpt eval --detections DIR --hpatches DIR [--size 240x320] [--top-k 300] [--json FILE]
//   kpt eval --model M [--variant V] --weights W --hpatches DIR [...]   (a network, run here)
//
// DIR/SEQ/N.kpts.npy (K x 3 float32: x, y, score, in pixels of image N resized to --size) and
// DIR/SEQ/N.desc.npy (K x D float32) for every image of every sequence; pairs (1, k). Prints
// repeatability, localization error, matching score and Cor-1/3/5 for each subset (i, v, ...) and
// all pairs, and writes them with per-pair details (including the estimated homography) as JSON.
#include <cstdio>
#include <iomanip>
#include <iostream>
#include <memory>
#include <sstream>

#include "cli.hpp"
#include "kpt/eval/from_decoded.hpp"
#include "kpt/eval/hpatches_eval.hpp"
#include "models.hpp"
#include "progress.hpp"

namespace {

using namespace kpt;

// A network run on each image resized to the evaluated size, decoded with kpt detect's defaults.
class model_detections : public eval::detection_source {
 public:
  model_detections(const cli::flags& f, std::unique_ptr<cli::model> m) : f_(f), m_(std::move(m)) {}
  eval::scored_keypoints detect(const eval::view_ref& v, geometry::image_size size) override {
    const auto img = cli::load_input(f_, *m_, v.image, std::pair{size.height, size.width});
    return eval::from_decoded(m_->decode(m_->forward(img), cli::decode_settings{}));
  }

 private:
  const cli::flags& f_;
  std::unique_ptr<cli::model> m_;
};

// The detections to evaluate: stored files, or a network (--model M --weights W).
std::unique_ptr<eval::detection_source> make_source(const cli::flags& f) {
  if (f.has("--detections") == f.has("--model"))
    f.fail("give either --detections DIR (SEQ/N.kpts.npy and SEQ/N.desc.npy) or --model M --weights W");
  if (f.has("--detections")) return std::make_unique<eval::npy_detections>(f.existing_dir("--detections"));
  if (!f.has("--weights")) f.fail("--model needs --weights W (.safetensors)");
  auto m = cli::model_from_flags(f);
  if (!m->has_descriptors())
    f.fail(m->name() + " has no descriptor head; the HPatches metrics need descriptors (use superpoint or keypointnet)");
  m->load_weights(f.existing_file("--weights"));
  return std::make_unique<model_detections>(f, std::move(m));
}

std::string cell(double v, int precision) {
  std::ostringstream os;
  os << std::fixed << std::setprecision(precision) << v;
  return os.str();
}

void print_table(const eval::hpatches_report& rep, std::ostream& out) {
  out << "HPatches at " << rep.size.height << "x" << rep.size.width << ", top-" << rep.top_k << "\n";
  out << std::left << std::setw(8) << "subset" << std::right << std::setw(7) << "pairs" << std::setw(15)
      << "repeatability" << std::setw(20) << "localization_error" << std::setw(16) << "matching_score"
      << std::setw(8) << "cor1" << std::setw(8) << "cor3" << std::setw(8) << "cor5" << "\n";
  auto row = [&](const std::string& name, const eval::metric_means& s) {
    out << std::left << std::setw(8) << name << std::right << std::setw(7) << s.pairs << std::setw(15)
        << cell(s.repeatability, 4) << std::setw(20) << cell(s.localization_error, 4) << std::setw(16)
        << cell(s.matching_score, 4) << std::setw(8) << cell(s.cor1, 3) << std::setw(8) << cell(s.cor3, 3)
        << std::setw(8) << cell(s.cor5, 3) << "\n";
  };
  for (const auto& [name, s] : rep.subsets)
    if (name != "all") row(name, s);
  if (auto it = rep.subsets.find("all"); it != rep.subsets.end()) row("all", it->second);
}

int run(std::span<const std::string> args) {
  namespace fs = std::filesystem;
  cli::flags f("eval",
               "Evaluates keypoints and descriptors on HPatches pairs (1, k) with the KP2D protocol (SPEC 7):\n"
               "repeatability, localization error, matching score, homography accuracy Cor-1/3/5.");
  f.option("--detections", "DIR", "detections: DIR/SEQ/N.kpts.npy (K x 3 float32 x, y, score) and N.desc.npy (K x D)");
  f.option("--model", "M", "or run a network: superpoint or keypointnet");
  f.option("--variant", "V", "variant of the model: " + cli::model_help());
  f.option("--weights", "W", "the network's weights (.safetensors)");
  f.option("--hpatches", "DIR", "HPatches sequences folder (hpatches-sequences-release)", {.required = true});
  f.option("--size", "HxW", "evaluated image size; detections are in its pixels", {.default_value = "240x320"});
  f.option("--top-k", "N", "keypoints kept per image (300 at 240x320, 1000 at 480x640)", {.default_value = "300"});
  f.option("--json", "FILE", "write the numbers and per-pair details as JSON");
  if (!f.parse(args)) return 0;

  const auto [h, w] = f.size("--size");
  if (h < 2 || w < 2) f.fail("--size must be at least 2x2");
  const auto top_k = f.integer("--top-k", 1);
  const fs::path root = f.existing_dir("--hpatches");
  fs::path json;
  if (f.has("--json")) {
    json = f.get("--json");
    std::error_code ec;
    if (fs::is_directory(json, ec)) f.fail("--json: '" + json.string() + "' is a folder; give a file name");
    const fs::path parent = json.parent_path().empty() ? fs::path(".") : json.parent_path();
    if (!fs::is_directory(parent, ec)) f.fail("--json: the folder '" + parent.string() + "' does not exist");
  }
  auto src = make_source(f);

  const data::hpatches_dataset hp(root);
  cli::progress bar("pairs");
  eval::hpatches_eval_options o;
  o.size = {h, w};
  o.metrics.top_k = top_k;
  o.progress = [&](index_t done, index_t total) { bar.update(done, total); };
  const auto rep = eval::evaluate_hpatches(hp, *src, o);

  print_table(rep, std::cout);
  if (!json.empty()) {
    eval::write_json(json, eval::to_json(rep));
    std::cout << "wrote " << json.string() << "\n";
  }
  return 0;
}

const kpt::cli::registrar reg("eval", "evaluate detections on HPatches (repeatability, MLE, M.Score, Cor-1/3/5)", run);

}  // namespace
