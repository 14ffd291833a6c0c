// `kpt init`, `kpt forward`, `kpt detect` end to end on small images: the weights file, the shapes
// of the raw outputs, detect's keypoints equal to decoding forward's outputs with include/kpt/decode,
// --size, --top-k, folder inputs mirrored with --draw, MagicPoint without descriptors, and the exit
// codes and messages of bad calls.
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <string>

#include "cli_support.hpp"
#include "kpt/backends/cpu_ref.hpp"
#include "kpt/data/image.hpp"
#include "kpt/decode/keypointnet.hpp"
#include "kpt/decode/superpoint.hpp"
#include "kpt/io/npy.hpp"
#include "kpt/io/safetensors.hpp"

using namespace kpt;
using namespace kpt::cli_test;

namespace {

// An RGB test picture with structure at several scales (smooth waves and a few bright squares).
void write_picture(const fs::path& file, index_t h, index_t w, int seed) {
  auto img = tensor<float, cpu_ref>::empty({3, h, w});
  for (index_t c = 0; c < 3; ++c)
    for (index_t y = 0; y < h; ++y)
      for (index_t x = 0; x < w; ++x) {
        double v = 0.5 + 0.3 * std::sin(0.35 * x + seed + c) * std::cos(0.27 * y - seed);
        if ((x / 9 + y / 7 + seed) % 5 == 0) v = 0.95;
        img.data()[(c * h + y) * w + x] = float(v);
      }
  data::save_png(file, img);
}

tensor<float, cpu_ref> npy(const fs::path& p) { return io::load_npy<float>(p); }

}  // namespace

BOOST_AUTO_TEST_SUITE(model_cli)

BOOST_AUTO_TEST_CASE(superpoint_init_forward_detect) {
  if (!fs::exists(kpt_program())) {
    BOOST_TEST_MESSAGE("skipped: " << kpt_program() << " not built");
    return;
  }
  temp_dir d("model_cli");
  const auto log = d.path / "log";
  const auto img = d.path / "pic.png", w = d.path / "sp.safetensors";
  write_picture(img, 64, 80, 1);
  BOOST_TEST_REQUIRE(run_kpt("init --model superpoint --seed 3 --output " + quote(w), log) == 0);
  {
    const io::safetensors_file f(w);
    BOOST_TEST(f.tensors().size() == 24u);  // 12 convs, weight + bias (magicleap layout)
    BOOST_TEST(f.get<float>("convPb.weight").shape() == (kpt::shape{65, 256, 1, 1}));
    BOOST_TEST(f.metadata().at("kpt.variant") == "magicleap");
  }
  // Same seed, same bytes; another seed, other weights.
  BOOST_TEST_REQUIRE(run_kpt("init --model superpoint --variant magicleap --seed 3 --output " + quote(d.path / "again.safetensors"), log) == 0);
  BOOST_TEST((read_text(w) == read_text(d.path / "again.safetensors")));
  BOOST_TEST_REQUIRE(run_kpt("init --model superpoint --seed 4 --output " + quote(d.path / "other.safetensors"), log) == 0);
  BOOST_TEST((read_text(w) != read_text(d.path / "other.safetensors")));

  const auto fwd = d.path / "fwd";
  BOOST_TEST_REQUIRE(run_kpt("forward --model superpoint --weights " + quote(w) + " --input " + quote(img) + " --output " + quote(fwd), log) == 0);
  const auto semi = npy(fwd / "semi.npy"), desc = npy(fwd / "desc.npy");
  BOOST_TEST(semi.shape() == (kpt::shape{1, 65, 8, 10}));
  BOOST_TEST(desc.shape() == (kpt::shape{1, 256, 8, 10}));

  // detect == decode(forward), with the default decoding and with another one.
  struct setting {
    std::string flags;
    decode::superpoint_decode_options o;
  };
  decode::superpoint_decode_options other;
  other.nms = decode::nms_variant::maxpool;
  other.threshold = 0.001;
  other.top_k = 20;
  other.softmax = decode::softmax_variant::exact;
  other.sampling = decode::sampling::pixel_centre;
  for (const auto& s : {setting{"", {}}, setting{"--nms maxpool --threshold 0.001 --top-k 20 --softmax exact --sampling pixel_centre", other}}) {
    const auto out = d.path / "det";
    fs::remove_all(out);
    BOOST_TEST_REQUIRE(run_kpt("detect --model superpoint --weights " + quote(w) + " --input " + quote(img) + " --output " + quote(out) + " " + s.flags, log) == 0);
    const auto expected = decode::decode_superpoint(semi, desc, s.o)[0];
    const auto kpts = npy(out / "pic.kpts.npy"), kdesc = npy(out / "pic.desc.npy");
    BOOST_TEST_REQUIRE(kpts.shape() == (kpt::shape{expected.size(), 3}));
    BOOST_TEST(kdesc.shape() == (kpt::shape{expected.size(), 256}));
    BOOST_TEST(kpts.to_vector() == expected.xys().to_vector(), boost::test_tools::per_element());
    BOOST_TEST(kdesc.to_vector() == expected.desc.to_vector(), boost::test_tools::per_element());
    if (!s.flags.empty()) BOOST_TEST(expected.size() == 20);
  }
}

BOOST_AUTO_TEST_CASE(keypointnet_sizes_folders_and_magicpoint) {
  if (!fs::exists(kpt_program())) return;
  temp_dir d("model_cli");
  const auto log = d.path / "log";
  const auto w = d.path / "kp.safetensors";
  BOOST_TEST_REQUIRE(run_kpt("init --model keypointnet --variant v4 --seed 1 --output " + quote(w), log) == 0);
  // A 60 x 75 picture: not divisible by 8, so forward must be told a --size.
  const auto odd = d.path / "odd.png";
  write_picture(odd, 60, 75, 2);
  const auto fwd = d.path / "fwd";
  BOOST_TEST(run_kpt("forward --model keypointnet --weights " + quote(w) + " --input " + quote(odd) + " --output " + quote(fwd), log) == 2);
  BOOST_TEST(log_has(log, "60x75"));
  BOOST_TEST(log_has(log, "--size 56x72"));
  BOOST_TEST_REQUIRE(run_kpt("forward --model keypointnet --weights " + quote(w) + " --input " + quote(odd) + " --output " + quote(fwd) + " --size 64x80", log) == 0);
  const auto score = npy(fwd / "score.npy"), coord = npy(fwd / "coord.npy"), desc = npy(fwd / "desc.npy");
  BOOST_TEST(score.shape() == (kpt::shape{1, 1, 8, 10}));
  BOOST_TEST(coord.shape() == (kpt::shape{1, 2, 8, 10}));
  BOOST_TEST(desc.shape() == (kpt::shape{1, 256, 8, 10}));

  // Folder input: sub-folders mirrored, --draw pictures, --size applied to each image.
  const auto in = d.path / "in", out = d.path / "out";
  fs::create_directories(in / "sub" / "deeper");
  fs::copy_file(odd, in / "odd.png");
  write_picture(in / "sub" / "deeper" / "b.png", 64, 80, 3);
  { std::ofstream(in / "notes.txt") << "not an image"; }
  // A symlink to an image outside the folder is written by its own name, inside --output.
  fs::create_directories(d.path / "elsewhere");
  write_picture(d.path / "elsewhere" / "real.png", 64, 80, 4);
  fs::create_symlink(d.path / "elsewhere" / "real.png", in / "sub" / "linked.png");
  BOOST_TEST_REQUIRE(run_kpt("detect --model keypointnet --weights " + quote(w) + " --input " + quote(in) + " --output " + quote(out) + " --size 64x80 --draw", log) == 0);
  BOOST_TEST(fs::exists(out / "sub" / "linked.kpts.npy"));
  BOOST_TEST(!fs::exists(d.path / "elsewhere" / "real.kpts.npy"));
  const auto kpts = npy(out / "odd.kpts.npy");
  const auto expected = decode::decode_keypointnet(score, coord, desc)[0];
  BOOST_TEST(expected.size() == 6 * 8);  // every interior cell (the border cells score 0)
  BOOST_TEST(kpts.to_vector() == expected.xys().to_vector(), boost::test_tools::per_element());
  BOOST_TEST(npy(out / "odd.desc.npy").to_vector() == expected.desc.to_vector(), boost::test_tools::per_element());
  BOOST_TEST(fs::exists(out / "sub" / "deeper" / "b.kpts.npy"));
  BOOST_TEST(fs::exists(out / "sub" / "deeper" / "b.desc.npy"));
  BOOST_TEST(data::load_image_u8(out / "sub" / "deeper" / "b.kpts.png").size(0) == 3);
  BOOST_TEST(!fs::exists(out / "notes.kpts.npy"));
  // Positions inside the 64 x 80 image, scores sorted.
  const auto b = npy(out / "sub" / "deeper" / "b.kpts.npy");
  for (index_t i = 0; i < b.size(0); ++i) {
    BOOST_TEST((b.at({i, 0}) >= 0 && b.at({i, 0}) <= 79 && b.at({i, 1}) >= 0 && b.at({i, 1}) <= 63));
    if (i > 0) BOOST_TEST(b.at({i, 2}) <= b.at({i - 1, 2}));
  }
  // --top-k
  BOOST_TEST_REQUIRE(run_kpt("detect --model keypointnet --weights " + quote(w) + " --input " + quote(odd) + " --output " + quote(d.path / "top") + " --size 64x80 --top-k 5", log) == 0);
  BOOST_TEST(npy(d.path / "top" / "odd.kpts.npy").to_vector() == decode::top_k(expected, 5).xys().to_vector(),
             boost::test_tools::per_element());

  // MagicPoint: keypoints only, and it says so.
  const auto mp = d.path / "mp.safetensors";
  BOOST_TEST_REQUIRE(run_kpt("init --model magicpoint --seed 2 --output " + quote(mp), log) == 0);
  BOOST_TEST_REQUIRE(run_kpt("detect --model magicpoint --weights " + quote(mp) + " --input " + quote(in / "sub") + " --output " + quote(d.path / "mpo"), log) == 0);
  BOOST_TEST(log_has(log, "no descriptor head"));
  BOOST_TEST(fs::exists(d.path / "mpo" / "deeper" / "b.kpts.npy"));
  BOOST_TEST(!fs::exists(d.path / "mpo" / "deeper" / "b.desc.npy"));
  BOOST_TEST_REQUIRE(run_kpt("forward --model magicpoint --weights " + quote(mp) + " --input " + quote(in / "sub" / "deeper" / "b.png") + " --output " + quote(d.path / "mpf"), log) == 0);
  BOOST_TEST(fs::exists(d.path / "mpf" / "semi.npy"));
  BOOST_TEST(!fs::exists(d.path / "mpf" / "desc.npy"));
}

BOOST_AUTO_TEST_CASE(bad_calls_exit_with_clear_messages) {
  if (!fs::exists(kpt_program())) return;
  temp_dir d("model_cli");
  const auto log = d.path / "log";
  const auto img = d.path / "pic.png", sp = d.path / "sp.safetensors", kp = d.path / "kp.safetensors";
  write_picture(img, 32, 40, 0);
  BOOST_TEST_REQUIRE(run_kpt("init --model superpoint --seed 0 --output " + quote(sp), log) == 0);
  BOOST_TEST_REQUIRE(run_kpt("init --model keypointnet --variant v0 --seed 0 --output " + quote(kp), log) == 0);
  const std::string io = " --input " + quote(img) + " --output " + quote(d.path / "o");
  for (const char* cmd : {"init", "forward", "detect"}) {
    BOOST_TEST(run_kpt(std::string(cmd) + " --help", log) == 0);
    BOOST_TEST(log_has(log, "--model M"));
  }
  BOOST_TEST(run_kpt("detect --model superpoint --variant v4 --weights " + quote(sp) + io, log) == 2);
  BOOST_TEST(log_has(log, "--variant of superpoint must be one of magicleap, bn, got 'v4'"));
  BOOST_TEST(run_kpt("init --model superglue --seed 0 --output " + quote(d.path / "x.safetensors"), log) == 2);
  BOOST_TEST(log_has(log, "--model must be one of superpoint, magicpoint, keypointnet"));
  BOOST_TEST(run_kpt("forward --model superpoint --weights " + quote(d.path / "missing.safetensors") + io, log) == 2);
  BOOST_TEST(log_has(log, "missing.safetensors' does not exist"));
  BOOST_TEST(run_kpt("forward --model superpoint --weights " + quote(sp) + " --input " + quote(d.path / "nope.png") + " --output o", log) == 2);
  BOOST_TEST(log_has(log, "nope.png' does not exist"));
  // Weights of another model: missing, unexpected and mis-shaped keys, and which model wrote them.
  BOOST_TEST(run_kpt("detect --model superpoint --weights " + quote(kp) + io, log) == 2);
  BOOST_TEST(log_has(log, "missing (bound but not in the file): 'conv1a.weight'"));
  BOOST_TEST(log_has(log, "unexpected (in the file but bound to nothing): 'conv1a.0.weight'"));
  BOOST_TEST(log_has(log, "mis-shaped: 'convPb.weight': file [2, 256, 3, 3], expected [65, 256, 1, 1]"));
  BOOST_TEST(log_has(log, "written for --model keypointnet --variant v0"));
  // Another variant of the same model: v0 has no upsampling but the same keys (convFb is allocated
  // anyway), so V4 loads it; the gray variant's first conv has another shape.
  BOOST_TEST(run_kpt("forward --model keypointnet --variant v4 --weights " + quote(kp) + io, log) == 0);
  BOOST_TEST(run_kpt("forward --model keypointnet --variant v4_gray --weights " + quote(kp) + io, log) == 2);
  BOOST_TEST(log_has(log, "'conv1a.0.weight': file [32, 3, 3, 3], expected [32, 1, 3, 3]"));
  BOOST_TEST(run_kpt("detect --model superpoint --weights " + quote(sp) + io + " --bogus", log) == 2);
  BOOST_TEST(log_has(log, "unknown flag '--bogus'"));
  BOOST_TEST(run_kpt("detect --model superpoint --weights " + quote(sp) + io + " --nms fast", log) == 2);
  BOOST_TEST(log_has(log, "--nms must be one of grid, box, maxpool, none"));
  BOOST_TEST(run_kpt("detect --model superpoint --weights " + quote(sp) + io + " --size 30x40", log) == 2);
  BOOST_TEST(log_has(log, "--size 24x40"));
  { std::ofstream(d.path / "notes.png") << "not a picture"; }
  BOOST_TEST(run_kpt("detect --model superpoint --weights " + quote(sp) + " --input " + quote(d.path / "notes.png") + " --output o", log) == 2);
  BOOST_TEST(log_has(log, "notes.png"));
  BOOST_TEST(run_kpt("init --model superpoint --seed -1 --output " + quote(d.path / "x.safetensors"), log) == 2);
}

BOOST_AUTO_TEST_SUITE_END()
