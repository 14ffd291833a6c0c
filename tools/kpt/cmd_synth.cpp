// kpt synth: write synthetic shapes with their ground-truth points, for training data dumps and
// for people to look at.
//
//   kpt synth --out DIR --count N [--size HxW] [--style rpautrat|purdue] [--seed S]
//
// For i in 0..N-1 writes DIR/i.png (the image), DIR/i.points.npy (P x 2 float32, x then y, in
// pixels of the image) and DIR/i.overlay.png (RGB, enlarged, points drawn). Sample i is the same
// for a given seed whatever the number of threads (kpt::data::synthetic_dataset).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <iostream>

#include <tbb/parallel_for.h>

#include "cli.hpp"
#include "kpt/data/draw.hpp"
#include "kpt/data/image.hpp"
#include "kpt/data/synthetic_dataset.hpp"
#include "kpt/geometry/points.hpp"
#include "kpt/io/npy.hpp"

namespace {

int run(std::span<const std::string> args) {
  namespace fs = std::filesystem;
  using namespace kpt;
  cli::flags f("synth", "Writes N synthetic images (SPEC 3: rpautrat = SuperPoint's Synthetic Shapes, purdue = the "
                        "128x128 colour set)\nwith their ground-truth points (.npy, x then y) and an overlay picture.");
  f.option("--out", "DIR", "output folder (created if missing)", {.required = true});
  f.option("--count", "N", "number of samples", {.required = true});
  f.option("--size", "HxW", "image size (rpautrat 120x160, purdue 128x128)");
  f.option("--style", "STYLE", "rpautrat or purdue", {.default_value = "rpautrat"});
  f.option("--seed", "S", "dataset seed", {.default_value = "0"});
  f.option("--canvas", "HxW", "rpautrat drawing canvas (smaller is faster)", {.default_value = "960x1280"});
  if (!f.parse(args)) return 0;

  const fs::path out = f.get("--out");
  const auto count = f.integer("--count", 1);
  const auto style = f.choice("--style", {"rpautrat", "purdue"});
  const auto seed = f.integer("--seed", 0);
  data::synthetic_dataset_options o;
  o.seed = std::uint64_t(seed);
  if (style == "purdue") {
    o.style = data::synthetic_style::purdue;
    if (f.has("--size")) {
      const auto [h, w] = f.size("--size");
      if (h < 64 || w < 64) f.fail("--size for purdue must be at least 64x64");
      o.purdue.size = {h, w};
    }
  } else {
    const auto [ch, cw] = f.size("--canvas");
    if (ch < 16 || cw < 16) f.fail("--canvas must be at least 16x16");
    o.shapes.canvas = {ch, cw};
    if (f.has("--size")) {
      const auto [h, w] = f.size("--size");
      o.shapes.output = {h, w};
    }
  }
  std::error_code ec;
  if (fs::exists(out, ec) && !fs::is_directory(out, ec)) f.fail("--out: '" + out.string() + "' is a file, not a folder");
  fs::create_directories(out, ec);
  if (ec) throw io_error("cannot create the folder '" + out.string() + "' (" + ec.message() + ")");

  const data::synthetic_dataset ds(o);
  const auto t0 = std::chrono::steady_clock::now();
  std::atomic<long long> points{0};
  tbb::parallel_for(std::int64_t(0), count, [&](std::int64_t i) {
    const auto s = ds.get(i);
    const std::string stem = std::to_string(i);
    data::save_png(out / (stem + ".png"), s.image);
    io::save_npy(out / (stem + ".points.npy"), s.points);
    const index_t h = s.image.size(1);
    const int scale = std::max(1, int(480 / h));
    const auto pts = geometry::to_points(s.points);
    data::save_png(out / (stem + ".overlay.png"), data::overlay_points(s.image, pts, scale, std::max(1.5, 0.75 * scale)));
    points += s.points.size(0);
  });
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::cout << "kpt synth: wrote " << count << " " << style << " samples (" << points.load() << " points) to "
            << out.string() << " in " << secs << " s\n";
  return 0;
}

const kpt::cli::registrar reg("synth", "write synthetic shapes, their points (.npy) and overlays", run);

}  // namespace
