#pragma once
// Images: loading (PNG, JPEG, PPM P6, PGM P5), saving PNG, and colour conversions.
//
//   auto img = kpt::data::load_image("a.jpg", color::gray);       // tensor<float> [1, H, W] in [0, 1]
//   auto raw = kpt::data::load_image_u8("a.ppm");                  // tensor<uint8_t> [C, H, W], C = 1 or 3
//   kpt::data::save_png("out.png", img);                           // atomic: temp file + rename
//
// The kpt image is a host tensor [C, H, W] (channels first, like the networks' input), C = 1
// (gray) or 3 (RGB unless a function says BGR), either uint8 in 0..255 or float/double in [0, 1].
// Alpha channels are dropped on load; 16-bit files are reduced to 8 bits.
// Gray = 0.299 R + 0.587 G + 0.114 B (ITU-R 601, as OpenCV and SPEC 1.3).
//
// Errors: a missing, unreadable, empty, truncated or unsupported file is a kpt::io_error whose
// message names the file and says what is wrong. Truncation is detected for every format
// (stb_image alone accepts some truncated JPEG, PNG and PNM files): PNG must reach its IEND chunk,
// JPEG its end-of-image marker after the last scan, PNM must hold width * height * channels samples.
#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "kpt/core/error.hpp"
#include "kpt/core/tensor.hpp"
#include "kpt/io/atomic_file.hpp"
#include "kpt/data/detail/stb.hpp"

namespace kpt::data {

// Channel layout asked of a loader or a conversion.
//  keep: 1 channel for gray files, 3 (RGB) for colour files
//  gray: 1 channel;  rgb: 3 channels, R first;  bgr: 3 channels, B first (OpenCV order)
enum class color { keep, gray, rgb, bgr };

namespace image_detail {

inline std::string quoted(const std::filesystem::path& p) { return "'" + p.string() + "'"; }

[[noreturn]] inline void fail(const char* op, const std::filesystem::path& file, const std::string& why) {
  throw io_error(std::string(op) + ": " + quoted(file) + " cannot be read: " + why);
}

inline std::vector<unsigned char> read_file(const std::filesystem::path& file, const char* op) {
  std::error_code ec;
  if (std::filesystem::is_directory(file, ec)) fail(op, file, "it is a folder, not an image file");
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::fopen(file.c_str(), "rb"), &std::fclose);
  if (!f) fail(op, file, std::strerror(errno));
  std::vector<unsigned char> bytes;
  unsigned char buf[1 << 16];
  for (;;) {
    const std::size_t n = std::fread(buf, 1, sizeof buf, f.get());
    bytes.insert(bytes.end(), buf, buf + n);
    if (n < sizeof buf) break;
  }
  if (std::ferror(f.get())) fail(op, file, std::string("reading failed (") + std::strerror(errno) + ")");
  if (bytes.empty()) fail(op, file, "the file is empty");
  return bytes;
}

enum class format { png, jpeg, pnm, unknown };

inline format sniff(const std::vector<unsigned char>& b) {
  static const unsigned char png_magic[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  if (b.size() >= 8 && std::memcmp(b.data(), png_magic, 8) == 0) return format::png;
  if (b.size() >= 3 && b[0] == 0xff && b[1] == 0xd8 && b[2] == 0xff) return format::jpeg;
  if (b.size() >= 2 && b[0] == 'P' && b[1] >= '1' && b[1] <= '7') return format::pnm;
  return format::unknown;
}

// Last index of the two-byte sequence (a, b), or -1.
inline std::ptrdiff_t rfind2(const std::vector<unsigned char>& v, unsigned char a, unsigned char b) {
  for (std::ptrdiff_t i = std::ptrdiff_t(v.size()) - 2; i >= 0; --i)
    if (v[std::size_t(i)] == a && v[std::size_t(i) + 1] == b) return i;
  return -1;
}

inline void check_complete(const std::vector<unsigned char>& b, format f, const std::filesystem::path& file,
                           const char* op) {
  if (f == format::png) {
    // The IEND chunk type must be present (stb stops decoding without needing it).
    static const char iend[4] = {'I', 'E', 'N', 'D'};
    bool found = false;
    for (std::size_t i = b.size() >= 12 ? b.size() - 12 : 0; !found && i + 4 <= b.size(); ++i)
      found = std::memcmp(b.data() + i, iend, 4) == 0;
    if (!found) {
      // Tolerate trailing bytes after IEND: search the whole file before calling it truncated.
      for (std::size_t i = 0; !found && i + 4 <= b.size(); ++i) found = std::memcmp(b.data() + i, iend, 4) == 0;
    }
    if (!found) fail(op, file, "the PNG file is truncated (no IEND chunk)");
  } else if (f == format::jpeg) {
    // Inside entropy-coded data 0xFF is always followed by 0x00 or a restart marker, so an
    // end-of-image marker (FF D9) after the last start-of-scan (FF DA) means the scans are complete.
    const auto eoi = rfind2(b, 0xff, 0xd9), sos = rfind2(b, 0xff, 0xda);
    if (sos < 0) fail(op, file, "the JPEG file has no image data (no start-of-scan marker)");
    if (eoi < sos) fail(op, file, "the JPEG file is truncated (no end-of-image marker after the image data)");
  } else if (f == format::pnm) {
    const char kind = char(b[1]);
    if (kind != '5' && kind != '6')
      fail(op, file, std::string("PNM type P") + kind + " is not supported (kpt reads binary PGM P5 and PPM P6)");
    std::size_t i = 2;
    auto skip = [&] {
      for (;;) {
        while (i < b.size() && std::isspace(b[i])) ++i;
        if (i < b.size() && b[i] == '#') {
          while (i < b.size() && b[i] != '\n' && b[i] != '\r') ++i;
        } else {
          break;
        }
      }
    };
    auto number = [&](const char* what) -> std::uint64_t {
      skip();
      if (i >= b.size() || !std::isdigit(b[i])) fail(op, file, std::string("the PNM header lacks the ") + what);
      std::uint64_t v = 0;
      while (i < b.size() && std::isdigit(b[i]) && v < (1ull << 40)) v = v * 10 + (b[i++] - '0');
      return v;
    };
    const std::uint64_t w = number("width"), h = number("height"), maxval = number("maximum value");
    if (w == 0 || h == 0) fail(op, file, "the PNM header gives an empty image");
    if (maxval == 0 || maxval > 65535) fail(op, file, "the PNM maximum value " + std::to_string(maxval) + " is invalid");
    if (i >= b.size() || !std::isspace(b[i])) fail(op, file, "the PNM file is truncated (header without pixel data)");
    ++i;  // exactly one whitespace byte before the samples
    const std::uint64_t need = w * h * (kind == '6' ? 3 : 1) * (maxval > 255 ? 2 : 1);
    const std::uint64_t have = b.size() - i;
    if (have < need)
      fail(op, file, "the PNM file is truncated (" + std::to_string(have) + " bytes of pixel data, " + std::to_string(w) +
                         "x" + std::to_string(h) + " needs " + std::to_string(need) + ")");
  }
}

}  // namespace image_detail

// ---- conversions ---------------------------------------------------------------------------------

template <class T>
concept ImagePixel = Real<T> || std::same_as<T, std::uint8_t>;

namespace image_detail {
inline void check_chw(const kpt::shape& s, const char* op, index_t channels = 0) {
  require<shape_error>(s.rank() == 3 && s[1] > 0 && s[2] > 0 && (channels == 0 || s[0] == channels), op,
                       ": expects an image [", channels ? std::to_string(channels) : std::string("C"),
                       ", H, W], got ", s.str());
}
template <class T>
T round_to(double v) {
  if constexpr (std::is_same_v<T, std::uint8_t>) return T(std::clamp(std::floor(v + 0.5), 0.0, 255.0));
  else return T(v);
}
}  // namespace image_detail

// RGB [3, H, W] -> gray [1, H, W]. For BGR input use rgb_to_gray(swap_rb(img)).
template <ImagePixel T, HostBackend B>
tensor<T, B> rgb_to_gray(const tensor<T, B>& img) {
  image_detail::check_chw(img.shape(), "data::rgb_to_gray", 3);
  const index_t n = img.size(1) * img.size(2);
  auto out = tensor<T, B>::empty({1, img.size(1), img.size(2)});
  const T* p = img.data();
  for (index_t i = 0; i < n; ++i)
    out.data()[i] = image_detail::round_to<T>(0.299 * double(p[i]) + 0.587 * double(p[n + i]) + 0.114 * double(p[2 * n + i]));
  return out;
}

// Gray [1, H, W] -> [3, H, W] with three equal channels.
template <ImagePixel T, HostBackend B>
tensor<T, B> gray_to_rgb(const tensor<T, B>& img) {
  image_detail::check_chw(img.shape(), "data::gray_to_rgb", 1);
  const index_t n = img.size(1) * img.size(2);
  auto out = tensor<T, B>::empty({3, img.size(1), img.size(2)});
  for (int c = 0; c < 3; ++c) std::copy_n(img.data(), n, out.data() + c * n);
  return out;
}

// RGB <-> BGR: the first and last channels swapped.
template <ImagePixel T, HostBackend B>
tensor<T, B> swap_rb(const tensor<T, B>& img) {
  image_detail::check_chw(img.shape(), "data::swap_rb", 3);
  const index_t n = img.size(1) * img.size(2);
  auto out = tensor<T, B>::empty(img.shape());
  std::copy_n(img.data() + 2 * n, n, out.data());
  std::copy_n(img.data() + n, n, out.data() + n);
  std::copy_n(img.data(), n, out.data() + 2 * n);
  return out;
}

// An image with 1 or 3 channels (taken as RGB) in the layout `to` (keep: unchanged).
template <ImagePixel T, HostBackend B>
tensor<T, B> convert_color(const tensor<T, B>& img, color to) {
  image_detail::check_chw(img.shape(), "data::convert_color");
  const index_t c = img.size(0);
  require<shape_error>(c == 1 || c == 3, "data::convert_color: expects 1 or 3 channels, got ", img.shape().str());
  switch (to) {
    case color::keep: return img;
    case color::gray: return c == 1 ? img : rgb_to_gray(img);
    case color::rgb: return c == 3 ? img : gray_to_rgb(img);
    case color::bgr: return c == 3 ? swap_rb(img) : gray_to_rgb(img);
  }
  return img;
}

// uint8 0..255 -> T in [0, 1].
template <Real T = float, HostBackend B>
tensor<T, B> to_float(const tensor<std::uint8_t, B>& img) {
  auto out = tensor<T, B>::empty(img.shape());
  for (index_t i = 0; i < img.numel(); ++i) out.data()[i] = T(img.data()[i]) / T(255);
  return out;
}
// [0, 1] -> uint8, rounded and clamped.
template <Real T, HostBackend B>
tensor<std::uint8_t, B> to_uint8(const tensor<T, B>& img) {
  auto out = tensor<std::uint8_t, B>::empty(img.shape());
  for (index_t i = 0; i < img.numel(); ++i) {
    const double v = double(img.data()[i]) * 255.0;
    out.data()[i] = std::uint8_t(std::isnan(v) ? 0.0 : std::clamp(std::floor(v + 0.5), 0.0, 255.0));
  }
  return out;
}

// ---- loading -------------------------------------------------------------------------------------

inline tensor<std::uint8_t, cpu_ref> load_image_u8(const std::filesystem::path& file, color mode = color::keep) {
  constexpr const char* op = "load_image";
  const auto bytes = image_detail::read_file(file, op);
  const auto fmt = image_detail::sniff(bytes);
  if (fmt == image_detail::format::unknown)
    image_detail::fail(op, file, "unsupported format (kpt reads PNG, JPEG, binary PPM P6 and PGM P5)");
  image_detail::check_complete(bytes, fmt, file, op);
  const int len = int(std::min<std::size_t>(bytes.size(), std::size_t(INT32_MAX)));
  int w = 0, h = 0, n = 0;
  if (!stbi_info_from_memory(bytes.data(), len, &w, &h, &n))
    image_detail::fail(op, file, std::string("the header is invalid (") + stbi_failure_reason() + ")");
  const int want = n <= 2 ? 1 : 3;  // alpha dropped
  std::unique_ptr<stbi_uc, void (*)(void*)> px(stbi_load_from_memory(bytes.data(), len, &w, &h, &n, want),
                                               &stbi_image_free);
  if (!px) image_detail::fail(op, file, std::string("decoding failed (") + stbi_failure_reason() + ")");
  auto img = tensor<std::uint8_t, cpu_ref>::empty({want, h, w});
  const index_t plane = index_t(h) * w;
  for (index_t i = 0; i < plane; ++i)
    for (int c = 0; c < want; ++c) img.data()[c * plane + i] = px.get()[i * want + c];
  return convert_color(img, mode);
}

// The image as T in [0, 1] on backend B.
template <Real T = float, HostBackend B = cpu_ref>
tensor<T, B> load_image(const std::filesystem::path& file, color mode = color::keep) {
  auto u = load_image_u8(file, mode);
  auto f = to_float<T>(u);
  if constexpr (std::is_same_v<B, cpu_ref>) return f;
  else return f.template to<B>();
}

// ---- saving --------------------------------------------------------------------------------------

namespace image_detail {

inline void write_atomic(const std::filesystem::path& file, const std::vector<unsigned char>& bytes, const char* op) {
  io::write_file_atomic(file, std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()), op);
}

}  // namespace image_detail

// Writes a uint8 image [H, W] or [C, H, W] (C = 1 gray, 2 gray + alpha, 3 RGB, 4 RGBA) as PNG.
template <HostBackend B>
void save_png(const std::filesystem::path& file, const tensor<std::uint8_t, B>& img) {
  require<shape_error>(img.defined() && (img.rank() == 2 || img.rank() == 3), "save_png: ", image_detail::quoted(file),
                       ": expects an image [H, W] or [C, H, W], got ",
                       img.defined() ? img.shape().str() : std::string("undefined"));
  const index_t c = img.rank() == 3 ? img.size(0) : 1, h = img.size(-2), w = img.size(-1);
  require<shape_error>(c >= 1 && c <= 4 && h > 0 && w > 0 && h < (1 << 30) / std::max<index_t>(w * c, 1),
                       "save_png: ", image_detail::quoted(file), ": cannot write an image of shape ", img.shape().str(),
                       " (1 to 4 channels, non-empty)");
  std::vector<unsigned char> hwc(std::size_t(c * h * w));
  const index_t plane = h * w;
  for (index_t i = 0; i < plane; ++i)
    for (index_t k = 0; k < c; ++k) hwc[std::size_t(i * c + k)] = img.data()[k * plane + i];
  std::vector<unsigned char> png;
  auto sink = [](void* ctx, void* data, int size) {
    auto* out = static_cast<std::vector<unsigned char>*>(ctx);
    out->insert(out->end(), static_cast<unsigned char*>(data), static_cast<unsigned char*>(data) + size);
  };
  if (!stbi_write_png_to_func(sink, &png, int(w), int(h), int(c), hwc.data(), int(w * c)))
    throw io_error("save_png: encoding " + image_detail::quoted(file) + " failed");
  image_detail::write_atomic(file, png, "save_png");
}

// Writes a float image in [0, 1] (rounded, clamped) as PNG.
template <Real T, HostBackend B>
void save_png(const std::filesystem::path& file, const tensor<T, B>& img) {
  require<shape_error>(img.defined(), "save_png: ", image_detail::quoted(file), ": the image is undefined");
  save_png(file, to_uint8(img));
}

}  // namespace kpt::data
