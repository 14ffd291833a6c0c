// kpt-kp2d-batches: writes the first N training pairs that `kpt train --model keypointnet --images
// DIR --seed S --size HxW` trains on, in batch order, for tools/kp2d_replay/replay.py (the same
// steps in PyTorch). Not built by default:
//
//   cmake --build build --target kpt-kp2d-batches
//   build/bin/kpt-kp2d-batches --images photos --seed 42 --count 192 --out batches
//
// OUT/target.npy and OUT/source.npy: [N, 3, H, W] float32 RGB in [0, 1] (before KeyPointNet's input
// normalisation); OUT/hn.npy: [N, 3, 3] float64, each pair's normalised source -> target homography
// as kp2d_loss gets it.
#include <cstdio>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "../kpt/cli.hpp"
#include "kpt/backends/cpu.hpp"
#include "kpt/io/npy.hpp"
#include "kpt/train/kp2d.hpp"

int main(int argc, char** argv) {
  using namespace kpt;
  const std::vector<std::string> args(argv + 1, argv + argc);
  cli::flags f("kpt-kp2d-batches", "writes the first N KP2D training pairs of a seed, in batch order");
  f.option("--images", "DIR", "the training photos, as for kpt train", {.required = true});
  f.option("--seed", "S", "the seed of the run to replay", {.default_value = "0"});
  f.option("--count", "N", "pairs to write (steps x batch size)", {.default_value = "192"});
  f.option("--size", "HxW", "training image size", {.default_value = "240x320"});
  f.option("--out", "DIR", "output folder (created)", {.required = true});
  try {
    if (!f.parse(args)) return 0;
    train::kp2d_options o;
    o.images = f.existing_dir("--images").string();
    o.seed = std::uint64_t(f.integer("--seed", 0));
    const auto [h, w] = f.size("--size");
    o.size = {h, w};
    const index_t n = f.integer("--count", 1);
    const std::filesystem::path out = f.get("--out");
    std::filesystem::create_directories(out);
    auto pairs = train::kp2d_pair_stream(o);
    std::vector<data::pair_sample> all;
    auto hn = tensor<double, cpu_ref>::empty({n, 3, 3});
    for (index_t i = 0; i < n; ++i) {
      all.push_back(pairs.get(i));
      const auto H = train::kp2d_detail::loss_homography(all.back(), o.size);
      for (int r = 0; r < 3; ++r)
        for (int c = 0; c < 3; ++c) hn.data()[i * 9 + r * 3 + c] = H(r, c);
    }
    io::save_npy(out / "target.npy", data::stack_images(all, &data::pair_sample::image));
    io::save_npy(out / "source.npy", data::stack_images(all, &data::pair_sample::warped));
    io::save_npy(out / "hn.npy", hn);
    std::printf("kpt-kp2d-batches: wrote %lld pairs to %s\n", static_cast<long long>(n), out.string().c_str());
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 2;
  }
}
