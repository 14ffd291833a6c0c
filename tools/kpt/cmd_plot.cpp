// kpt plot: the loss curves of a training run as an SVG.
//
//   kpt plot RUN [--out FILE.svg] [--linear] [--smooth N] [--keys K1,K2] [--title T]
//
// Reads RUN/log.jsonl (include/kpt/train/run_folder.hpp: one JSON object per logged step) and draws
// every numeric key except the bookkeeping ones (step, epoch, lr, images_per_s, seconds) as its own
// curve over the step (loss, detector, descriptor, usp, ...), or only those named by --keys;
// log-scale y unless --linear. --smooth N draws the trailing mean of N logged points over the raw
// curve (kept faint). Written atomically (default RUN/loss.svg).
#include <algorithm>
#include <cmath>
#include <fstream>
#include <iostream>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "cli.hpp"
#include "kpt/core/error.hpp"
#include "kpt/io/atomic_file.hpp"
#include "svg_plot.hpp"

namespace {

namespace fs = std::filesystem;

// Keys of log.jsonl that are bookkeeping, not loss terms (epoch: a counter like step).
// Bookkeeping and KP2D's diagnostics (counts, recall, flags): not loss curves; --keys can still ask
// for them.
const std::set<std::string> not_plotted = {"step",        "epoch",        "lr",        "images_per_s", "seconds",
                                           "valid_cells", "border_cells", "io_inliers", "io_active",   "recall",
                                           "updated"};

// Every plottable key of the log as (step, value) series, in order of first appearance ("loss"
// first). A step without a key gets NaN (a gap); a null value (NaN or Inf when logged) too.
std::vector<kpt::cli::plot_series> read_log(const fs::path& file) {
  std::ifstream in(file);
  if (!in) throw kpt::io_error("kpt plot: cannot open '" + file.string() + "'");
  std::vector<double> steps;
  std::map<std::string, std::vector<double>> values;
  std::vector<std::string> order;
  std::string line;
  std::size_t number = 0;
  const auto where = [&] { return "'" + file.string() + "' line " + std::to_string(number); };
  while (std::getline(in, line)) {
    ++number;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    nlohmann::ordered_json j;  // the order of the line: "loss" first, then the terms as written
    try {
      j = nlohmann::ordered_json::parse(line);
    } catch (const nlohmann::ordered_json::parse_error& e) {
      throw kpt::io_error("kpt plot: " + where() + " is not valid JSON (" + e.what() +
                          "); a run cut off while writing leaves a partial last line: delete it and plot again");
    }
    if (!j.is_object()) throw kpt::io_error("kpt plot: " + where() + " is not a JSON object: " + line.substr(0, 80));
    const auto st = j.find("step");
    if (st == j.end() || !st->is_number())
      throw kpt::io_error("kpt plot: " + where() + " has no numeric \"step\"; is this a kpt run's log.jsonl?");
    const std::size_t row = steps.size();
    steps.push_back(st->get<double>());
    // "loss" first, the other terms in the order they appear.
    std::vector<std::string> keys;
    if (j.contains("loss")) keys.push_back("loss");
    for (const auto& [k, v] : j.items())
      if (k != "loss") keys.push_back(k);
    for (const auto& k : keys) {
      const auto& v = j[k];
      if (k == "step" || !(v.is_number() || v.is_null())) continue;
      auto [it, fresh] = values.try_emplace(k);
      if (fresh) order.push_back(k);
      it->second.resize(row, NAN);
      it->second.push_back(v.is_null() ? NAN : v.get<double>());
    }
  }
  if (in.bad()) throw kpt::io_error("kpt plot: reading '" + file.string() + "' failed");
  if (steps.empty())
    throw kpt::io_error("kpt plot: '" + file.string() +
                        "' holds no logged step yet (kpt train appends a line every --log-every steps)");
  std::vector<kpt::cli::plot_series> out;
  for (const auto& k : order) {
    auto v = values[k];
    v.resize(steps.size(), NAN);
    out.push_back({k, steps, v});
  }
  if (out.empty()) throw kpt::io_error("kpt plot: '" + file.string() + "' has steps but no numeric loss term to plot");
  return out;
}

// Trailing mean of the last n finite values (the window shrinks at the start; NaN stays a gap).
std::vector<double> smooth(const std::vector<double>& y, std::size_t n) {
  std::vector<double> out(y.size(), NAN);
  double sum = 0;
  std::size_t count = 0, lo = 0;
  std::vector<std::size_t> finite;
  for (std::size_t i = 0; i < y.size(); ++i) {
    if (!std::isfinite(y[i])) continue;
    finite.push_back(i);
    sum += y[i];
    ++count;
    if (count > n) {
      sum -= y[finite[lo++]];
      --count;
    }
    out[i] = sum / double(count);
  }
  return out;
}

int run(std::span<const std::string> args) {
  using namespace kpt;
  cli::flags f("plot",
               "Draws the loss curves of RUN/log.jsonl (every logged loss term against the step) as an SVG with axes,\n"
               "ticks and a legend; log-scale y by default.");
  f.positional("RUN", "a run folder of kpt train (it reads RUN/log.jsonl)");
  f.option("--out", "FILE", "the SVG to write (default RUN/loss.svg)");
  f.toggle("--linear", "linear y axis instead of log scale");
  f.option("--smooth", "N", "also draw the trailing mean of N logged points (1: off)", {.default_value = "1"});
  f.option("--keys", "K1,K2", "plot only these keys of the log (default: every loss term, not step, epoch, lr, images_per_s, seconds or KP2D's diagnostics)");
  f.option("--title", "T", "title (default: the run folder)");
  if (!f.parse(args)) return 0;
  const fs::path run = f.get("RUN");
  std::error_code ec;
  if (!fs::is_directory(run, ec))
    f.fail("RUN '" + run.string() + "' " + (fs::exists(run, ec) ? "is not a folder" : "does not exist") +
           "; give the folder passed to kpt train --out");
  const fs::path log = run / "log.jsonl";
  if (!fs::is_regular_file(log, ec))
    f.fail("'" + log.string() + "' does not exist; is '" + run.string() + "' a kpt train run folder?");
  const auto window = f.integer("--smooth", 1, 1000000);
  const fs::path out = f.has("--out") ? fs::path(f.get("--out")) : run / "loss.svg";
  if (fs::is_directory(out, ec)) f.fail("--out: '" + out.string() + "' is a folder; give a file name such as loss.svg");
  const fs::path parent = out.parent_path().empty() ? fs::path(".") : out.parent_path();
  if (!fs::is_directory(parent, ec)) f.fail("--out: the folder '" + parent.string() + "' does not exist");

  auto curves = read_log(log);
  if (!f.has("--keys")) {
    std::erase_if(curves, [](const auto& c) { return not_plotted.count(c.name) > 0; });
    if (curves.empty()) f.fail("'" + log.string() + "' has no loss values to plot; name the keys to draw with --keys");
  }
  if (f.has("--keys")) {
    std::vector<cli::plot_series> chosen;
    std::string all;
    for (const auto& c : curves) all += (all.empty() ? "" : ", ") + c.name;
    const std::string list = f.get("--keys");
    for (std::size_t a = 0; a <= list.size();) {
      const std::size_t b = std::min(list.find(',', a), list.size());
      const std::string key = list.substr(a, b - a);
      a = b + 1;
      if (key.empty()) continue;
      const auto it = std::find_if(curves.begin(), curves.end(), [&](const auto& c) { return c.name == key; });
      if (it == curves.end()) f.fail("--keys: '" + key + "' is not a plottable key of " + log.string() + " (it has: " + all + ")");
      chosen.push_back(*it);
    }
    if (chosen.empty()) f.fail("--keys: no key given (it has: " + all + ")");
    curves = std::move(chosen);
  }
  cli::plot_options o;
  o.log_y = !f.on("--linear");
  o.title = f.has("--title") ? f.get("--title") : fs::absolute(run).lexically_normal().filename().string();
  if (o.title.empty()) o.title = run.string();
  // The total first and wider: a term equal to it (MagicPoint's detector) is drawn over it, both visible.
  for (auto& c : curves)
    if (c.name == "loss") c.width = 3.5;
  std::vector<cli::plot_series> drawn;
  if (window > 1) {
    o.y_label = "loss (mean of " + std::to_string(window) + " logged points)";
    for (std::size_t k = 0; k < curves.size(); ++k) {  // raw curves faint, without legend entries
      auto raw = curves[k];
      raw.opacity = 0.25;
      raw.in_legend = false;
      raw.colour = int(k);
      drawn.push_back(std::move(raw));
    }
    for (std::size_t k = 0; k < curves.size(); ++k) {
      auto s = curves[k];
      s.y = smooth(s.y, std::size_t(window));
      s.colour = int(k);
      drawn.push_back(std::move(s));
    }
  } else {
    drawn = curves;
  }
  const std::string svg = cli::svg_line_plot(drawn, o);
  for (std::size_t k = drawn.size() - curves.size(); k < drawn.size(); ++k)
    if (drawn[k].dropped > 0)
      std::cerr << "kpt plot: " << drawn[k].dropped << " value(s) of '" << drawn[k].name << "' are "
                << (o.log_y ? "<= 0 or not finite and are left out of the log-scale plot; use --linear to see them"
                            : "not finite and are left out")
                << "\n";
  io::write_file_atomic(out, svg, "kpt plot");
  std::cout << "kpt plot: " << curves.size() << " curve(s) (";
  for (std::size_t k = 0; k < curves.size(); ++k) std::cout << (k ? ", " : "") << curves[k].name;
  std::cout << ") over " << curves.front().x.size() << " logged steps -> " << out.string() << "\n";
  return 0;
}

const kpt::cli::registrar reg("plot", "plot the loss curves of a training run (RUN/log.jsonl) as an SVG", run);

}  // namespace
