// Image loading, saving and colour conversions; every failure names the file.
#include <boost/test/unit_test.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include <unistd.h>

#include "kpt/data/image.hpp"

using namespace kpt;
using namespace kpt::data;
namespace fs = std::filesystem;
using u8tensor = tensor<std::uint8_t, cpu_ref>;

namespace {

struct temp_dir {
  fs::path path = fs::temp_directory_path() / ("kpt_data_image_test_" + std::to_string(::getpid()));
  temp_dir() { fs::create_directories(path); }
  ~temp_dir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

void write_bytes(const fs::path& p, const std::string& bytes) {
  std::ofstream out(p, std::ios::binary);
  out.write(bytes.data(), std::streamsize(bytes.size()));
}
std::string read_bytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

u8tensor pattern(index_t c, index_t h, index_t w) {
  auto t = u8tensor::empty({c, h, w});
  for (index_t i = 0; i < t.numel(); ++i) t.data()[i] = std::uint8_t((i * 37 + i / 7) % 256);
  return t;
}

// The message of the io_error thrown by f, or "" when nothing is thrown.
template <class F>
std::string io_message(F&& f) {
  try {
    f();
  } catch (const io_error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

BOOST_AUTO_TEST_SUITE(data_image)

BOOST_AUTO_TEST_CASE(png_round_trip) {
  temp_dir d;
  for (index_t c : {1, 3}) {
    const auto img = pattern(c, 13, 17);
    const auto f = d.path / ("p" + std::to_string(c) + ".png");
    save_png(f, img);
    const auto back = load_image_u8(f);
    BOOST_TEST(back.shape() == img.shape());
    BOOST_TEST(back.to_vector() == img.to_vector());
  }
  // Float images in [0, 1] are rounded; [H, W] is saved as gray.
  auto fl = tensor<float, cpu_ref>::from({2, 3}, {0.f, 0.5f, 1.f, -1.f, 2.f, 0.2f});
  save_png(d.path / "f.png", fl);
  const auto back = load_image_u8(d.path / "f.png");
  BOOST_TEST((back.to_vector() == std::vector<std::uint8_t>{0, 128, 255, 0, 255, 51}));
  const auto asf = load_image<double>(d.path / "f.png");
  BOOST_TEST(std::abs(asf.at({0, 0, 1}) - 128.0 / 255.0) < 1e-12);
  // Atomic: no temporary file is left behind.
  int files = 0;
  for (const auto& e : fs::directory_iterator(d.path)) files += e.path().string().find(".tmp-") == std::string::npos ? 1 : 100;
  BOOST_TEST(files == 3);
}

BOOST_AUTO_TEST_CASE(pnm_files) {
  temp_dir d;
  // P6 2x2 and P5 3x1 with a comment; P5 16-bit.
  write_bytes(d.path / "a.ppm", std::string("P6\n# comment\n2 2\n255\n") + std::string("\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c", 12));
  const auto a = load_image_u8(d.path / "a.ppm");
  BOOST_TEST(a.shape() == (kpt::shape{3, 2, 2}));
  BOOST_TEST(int(a.at({0, 0, 0})) == 1);
  BOOST_TEST(int(a.at({1, 0, 0})) == 2);
  BOOST_TEST(int(a.at({2, 1, 1})) == 12);
  write_bytes(d.path / "b.pgm", std::string("P5 3 1 255\n") + std::string("\x00\x80\xff", 3));
  const auto b = load_image_u8(d.path / "b.pgm");
  BOOST_TEST((b.to_vector() == std::vector<std::uint8_t>{0, 128, 255}));
  write_bytes(d.path / "c.pgm", std::string("P5 2 1 65535\n") + std::string("\xff\xff\x00\x00", 4));
  const auto c = load_image_u8(d.path / "c.pgm");
  BOOST_TEST((c.to_vector() == std::vector<std::uint8_t>{255, 0}));
  // Colour layouts.
  const auto g = load_image_u8(d.path / "a.ppm", color::gray);
  BOOST_TEST(g.shape() == (kpt::shape{1, 2, 2}));
  BOOST_TEST(int(g.at({0, 0, 0})) == int(std::floor(0.299 * 1 + 0.587 * 2 + 0.114 * 3 + 0.5)));
  const auto bgr = load_image_u8(d.path / "a.ppm", color::bgr);
  BOOST_TEST(int(bgr.at({0, 0, 0})) == 3);
  const auto rgb = load_image_u8(d.path / "b.pgm", color::rgb);
  BOOST_TEST(rgb.shape() == (kpt::shape{3, 1, 3}));
  BOOST_TEST(int(rgb.at({2, 0, 1})) == 128);
}

BOOST_AUTO_TEST_CASE(jpeg_file) {
  temp_dir d;
  // A smooth RGB image written as JPEG (quality 95) reads back close to the original.
  const index_t h = 32, w = 48;
  std::vector<unsigned char> hwc(std::size_t(h * w * 3));
  for (index_t y = 0; y < h; ++y)
    for (index_t x = 0; x < w; ++x)
      for (int c = 0; c < 3; ++c) hwc[std::size_t((y * w + x) * 3 + c)] = (unsigned char)(40 + 3 * x + 2 * y + 20 * c);
  std::string bytes;
  stbi_write_jpg_to_func([](void* ctx, void* data, int size) { static_cast<std::string*>(ctx)->append(static_cast<char*>(data), std::size_t(size)); },
                         &bytes, int(w), int(h), 3, hwc.data(), 95);
  write_bytes(d.path / "s.jpg", bytes);
  const auto img = load_image_u8(d.path / "s.jpg");
  BOOST_TEST_REQUIRE(img.shape() == (kpt::shape{3, h, w}));
  // JPEG is lossy (chroma subsampling): small mean error, bounded worst case.
  int worst = 0;
  double mean = 0;
  for (index_t y = 0; y < h; ++y)
    for (index_t x = 0; x < w; ++x)
      for (int c = 0; c < 3; ++c) {
        const int e = std::abs(int(img.at({c, y, x})) - int(hwc[std::size_t((y * w + x) * 3 + c)]));
        worst = std::max(worst, e);
        mean += e / double(h * w * 3);
      }
  BOOST_TEST(mean < 3.0);
  BOOST_TEST(worst <= 20);
  // Truncated in the middle of the scan data.
  write_bytes(d.path / "t.jpg", bytes.substr(0, bytes.size() * 2 / 3));
  const auto m = io_message([&] { load_image_u8(d.path / "t.jpg"); });
  BOOST_TEST(m.find("t.jpg") != std::string::npos);
  BOOST_TEST(m.find("truncated") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(errors_name_the_file) {
  temp_dir d;
  auto check = [&](const fs::path& f, const std::string& what) {
    const auto m = io_message([&] { load_image_u8(f); });
    BOOST_TEST_MESSAGE(m);
    BOOST_TEST(m.find(f.filename().string()) != std::string::npos, "message '" << m << "' names the file");
    BOOST_TEST(m.find(what) != std::string::npos, "message '" << m << "' says '" << what << "'");
  };
  check(d.path / "missing.png", "No such file");
  write_bytes(d.path / "empty.png", "");
  check(d.path / "empty.png", "empty");
  check(d.path, "folder");
  write_bytes(d.path / "x.gif", "GIF89a\x01\x00\x01\x00");
  check(d.path / "x.gif", "unsupported format");
  write_bytes(d.path / "notes.txt", "hello, I am not an image");
  check(d.path / "notes.txt", "unsupported format");
  write_bytes(d.path / "ascii.ppm", "P3\n1 1\n255\n1 2 3\n");
  check(d.path / "ascii.ppm", "not supported");
  write_bytes(d.path / "short.ppm", std::string("P6\n4 4\n255\n") + std::string(20, '\x10'));
  check(d.path / "short.ppm", "truncated");
  write_bytes(d.path / "nohead.pgm", "P5\n4 4\n");
  check(d.path / "nohead.pgm", "maximum value");
  // PNGs cut at several places.
  save_png(d.path / "ok.png", pattern(3, 40, 40));
  const std::string png = read_bytes(d.path / "ok.png");
  for (std::size_t cut : {std::size_t(20), std::size_t(60), png.size() / 2, png.size() - 6}) {
    write_bytes(d.path / "cut.png", png.substr(0, cut));
    check(d.path / "cut.png", "cut.png");
  }
  // Corrupt data after a valid header.
  std::string bad = png;
  for (std::size_t i = 50; i < bad.size() - 20; ++i) bad[i] = char(bad[i] ^ 0x5a);
  write_bytes(d.path / "corrupt.png", bad);
  check(d.path / "corrupt.png", "cannot be read");
  // Saving into a folder that does not exist.
  const auto m = io_message([&] { save_png(d.path / "no" / "such" / "dir.png", pattern(1, 2, 2)); });
  BOOST_TEST(m.find("dir.png") != std::string::npos);
  BOOST_CHECK_THROW(save_png(d.path / "bad.png", u8tensor::zeros({5, 2, 2})), shape_error);
}

BOOST_AUTO_TEST_CASE(colour_conversions) {
  auto rgb = tensor<float, cpu_ref>::from({3, 1, 2}, {1.f, 0.f, 0.f, 1.f, 0.f, 0.f});
  const auto g = rgb_to_gray(rgb);
  BOOST_TEST(g.shape() == (kpt::shape{1, 1, 2}));
  BOOST_TEST(std::abs(g.at({0, 0, 0}) - 0.299f) < 1e-6);
  BOOST_TEST(std::abs(g.at({0, 0, 1}) - 0.587f) < 1e-6);
  const auto back = gray_to_rgb(g);
  BOOST_TEST(back.shape() == (kpt::shape{3, 1, 2}));
  BOOST_TEST(back.at({2, 0, 1}) == g.at({0, 0, 1}));
  const auto bgr = swap_rb(rgb);
  BOOST_TEST(bgr.at({0, 0, 0}) == 0.f);
  BOOST_TEST(bgr.at({2, 0, 0}) == 1.f);
  BOOST_TEST(swap_rb(bgr).to_vector() == rgb.to_vector());
  BOOST_TEST(convert_color(rgb, color::keep).same(rgb));
  BOOST_TEST(convert_color(g, color::bgr).shape() == (kpt::shape{3, 1, 2}));
  const auto u = to_uint8(tensor<float, cpu_ref>::from({3}, {0.f, 0.499f / 255.f, 1.5f}));
  BOOST_TEST((u.to_vector() == std::vector<std::uint8_t>{0, 0, 255}));
  BOOST_CHECK_THROW(rgb_to_gray(g), shape_error);
  BOOST_CHECK_THROW(convert_color(tensor<float, cpu_ref>::zeros({2, 3, 3}), color::gray), shape_error);
}

BOOST_AUTO_TEST_SUITE_END()
