#pragma once
// NumPy .npy files <-> kpt::tensor (docs/formats.md, section ".npy").
//
//   auto x = kpt::io::load_npy<float>("x.npy");            // tensor<float, cpu_ref>
//   auto y = kpt::io::load_npy<float, kpt::cpu>("x.npy");  // any host backend
//   kpt::io::save_npy("y.npy", y);                          // atomic: never leaves a half file
//   auto h = kpt::io::read_npy_header("x.npy");             // dtype and shape without the data
//
// Supported: format versions 1.0 and 2.0 (read), 1.0 (written); C order; little-endian
// '<f4' '<f8' '<i8' '<i4' and '|u1' (float, double, int64, int32, uint8); rank 0 to 5.
// load_npy never converts: asking for float from a '<f8' file is an io_error. Every malformed
// file is an io_error that names the file, what is wrong and how to fix it.
#include <bit>
#include <cerrno>
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
#include "kpt/core/shape.hpp"
#include "kpt/core/tensor.hpp"
#include "kpt/io/atomic_file.hpp"

namespace kpt::io {

static_assert(std::endian::native == std::endian::little,
              "kpt::io::npy reads and writes little-endian data without byte swapping");

// The NumPy type string of a kpt element type.
template <Scalar T>
constexpr std::string_view npy_descr() {
  if constexpr (std::is_same_v<T, float>) return "<f4";
  else if constexpr (std::is_same_v<T, double>) return "<f8";
  else if constexpr (std::is_same_v<T, std::int64_t>) return "<i8";
  else if constexpr (std::is_same_v<T, std::int32_t>) return "<i4";
  else return "|u1";
}

// What a .npy header says. descr is normalised to one of the five supported strings.
struct npy_header {
  std::string descr;
  kpt::shape shape;
  int major = 1, minor = 0;      // format version
  std::uint64_t data_offset = 0;  // bytes before the first element
  std::uint64_t data_bytes = 0;   // bytes of element data (numel * item size)
};

namespace npy_detail {

inline constexpr char magic[] = "\x93NUMPY";  // 6 bytes, then major, minor, header length

struct file_closer {
  void operator()(std::FILE* f) const {
    if (f) std::fclose(f);
  }
};
using file_ptr = std::unique_ptr<std::FILE, file_closer>;

inline std::string errno_text() { return std::strerror(errno); }

inline std::string quoted(const std::filesystem::path& p) { return "'" + p.string() + "'"; }

inline std::string_view dtype_name(std::string_view descr) {
  if (descr == "<f4") return "float32";
  if (descr == "<f8") return "float64";
  if (descr == "<i8") return "int64";
  if (descr == "<i4") return "int32";
  if (descr == "|u1") return "uint8";
  return "unsupported";
}

inline std::size_t item_size(std::string_view descr) {
  return descr == "|u1" ? 1 : descr == "<i4" || descr == "<f4" ? 4 : 8;
}

// A tiny parser for the Python dict literal of a .npy header:
//   {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
class header_parser {
 public:
  header_parser(std::string_view text, const std::filesystem::path& file) : s_(text), file_(file) {}

  void parse(npy_header& h) {
    bool have_descr = false, have_order = false, have_shape = false, fortran = false;
    std::vector<index_t> dims;
    skip_ws();
    expect('{');
    for (;;) {
      skip_ws();
      if (peek() == '}') {
        ++i_;
        break;
      }
      const std::string key = parse_string("a key");
      skip_ws();
      expect(':');
      skip_ws();
      if (key == "descr") {
        if (peek() != '\'' && peek() != '"')
          fail("its dtype is structured or a sub-array (descr is not a plain type string); save a plain "
               "array of float32, float64, int64, int32 or uint8");
        h.descr = parse_string("the dtype");
        have_descr = true;
      } else if (key == "fortran_order") {
        fortran = parse_bool();
        have_order = true;
      } else if (key == "shape") {
        dims = parse_tuple();
        have_shape = true;
      } else {
        fail("its header has an unknown key '" + key + "'");
      }
      skip_ws();
      if (peek() == ',') ++i_;
    }
    skip_ws();
    if (i_ != s_.size()) fail("its header has text after the closing '}'");
    if (!have_descr || !have_order || !have_shape)
      fail("its header lacks one of 'descr', 'fortran_order', 'shape'");
    check_descr(h.descr);
    if (fortran)
      fail("it is stored in Fortran (column-major) order, which kpt does not read; save "
           "numpy.ascontiguousarray(a) instead");
    if (dims.size() > std::size_t(max_rank))
      fail("its rank " + std::to_string(dims.size()) + " exceeds kpt::max_rank (" + std::to_string(max_rank) +
           "); reshape the array to at most " + std::to_string(max_rank) + " dimensions before saving");
    h.shape = kpt::shape(std::span<const index_t>(dims.data(), dims.size()));
  }

  [[noreturn]] void fail(const std::string& why) const {
    throw io_error("load_npy: " + quoted(file_) + " cannot be read: " + why);
  }

 private:
  void check_descr(std::string& d) const {
    // One-byte types have no byte order: NumPy writes '|u1', but '<u1', '>u1' and '=u1' mean the same.
    if (d.size() == 3 && d.substr(1) == "u1" && (d[0] == '<' || d[0] == '>' || d[0] == '=')) d = "|u1";
    if (d == "<f4" || d == "<f8" || d == "<i8" || d == "<i4" || d == "|u1") return;
    if (!d.empty() && d[0] == '>')
      fail("its dtype '" + d + "' is big-endian; save a.astype(a.dtype.newbyteorder('<')) instead");
    fail("its dtype '" + d + "' is not supported (kpt reads '<f4', '<f8', '<i8', '<i4', '|u1'); convert "
         "with a.astype(numpy.float32) (or float64, int64, int32, uint8) before saving");
  }
  char peek() const { return i_ < s_.size() ? s_[i_] : '\0'; }
  void skip_ws() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r')) ++i_;
  }
  void expect(char c) {
    if (peek() != c) fail(std::string("its header is malformed (expected '") + c + "' at offset " +
                          std::to_string(i_) + "); re-save it with numpy.save");
    ++i_;
  }
  std::string parse_string(const char* what) {
    const char q = peek();
    if (q != '\'' && q != '"') fail(std::string("its header is malformed (expected ") + what + " in quotes); "
                                    "re-save it with numpy.save");
    const std::size_t end = s_.find(q, i_ + 1);
    if (end == std::string_view::npos) fail("its header has an unterminated string; re-save it with numpy.save");
    std::string out(s_.substr(i_ + 1, end - i_ - 1));
    i_ = end + 1;
    return out;
  }
  bool parse_bool() {
    if (s_.substr(i_, 4) == "True") return i_ += 4, true;
    if (s_.substr(i_, 5) == "False") return i_ += 5, false;
    fail("its 'fortran_order' is neither True nor False; re-save it with numpy.save");
  }
  std::vector<index_t> parse_tuple() {
    std::vector<index_t> dims;
    expect('(');
    for (;;) {
      skip_ws();
      if (peek() == ')') {
        ++i_;
        return dims;
      }
      if (peek() < '0' || peek() > '9') fail("its 'shape' is not a tuple of non-negative integers");
      index_t v = 0;
      while (peek() >= '0' && peek() <= '9') {
        const index_t digit = s_[i_++] - '0';
        if (v > (INT64_MAX - digit) / 10) fail("a dimension of its 'shape' overflows int64");
        v = v * 10 + digit;
      }
      if (peek() == 'L') ++i_;  // Python 2 long literal
      dims.push_back(v);
      if (dims.size() > 64) fail("its 'shape' has more than 64 dimensions");
      skip_ws();
      if (peek() == ',') ++i_;
      else if (peek() != ')') fail("its 'shape' is not a tuple of non-negative integers");
    }
  }

  std::string_view s_;
  const std::filesystem::path& file_;
  std::size_t i_ = 0;
};

// Opens `file` and reads and checks its header, leaving the stream at the first data byte.
inline file_ptr open_and_read_header(const std::filesystem::path& file, npy_header& h) {
  const auto where = quoted(file);
  file_ptr f(std::fopen(file.c_str(), "rb"));
  if (!f) {
    const std::string why = errno_text();
    std::error_code ec;
    const auto cwd = std::filesystem::current_path(ec);
    throw io_error("load_npy: cannot open " + where + " (" + why + "); check the path" +
                   (file.is_relative() && !ec ? " (relative to the working directory " + cwd.string() + ")" : ""));
  }
  unsigned char pre[8];
  const std::size_t got = std::fread(pre, 1, sizeof pre, f.get());
  if (got < 6 || std::memcmp(pre, magic, 6) != 0)
    throw io_error("load_npy: " + where + " is not a .npy file (it does not start with \"\\x93NUMPY\"); "
                   "write it with numpy.save or kpt::io::save_npy");
  if (got < 8) throw io_error("load_npy: " + where + " is truncated inside its header; re-save it");
  h.major = pre[6];
  h.minor = pre[7];
  if (!((h.major == 1 || h.major == 2) && h.minor == 0)) {
    throw io_error("load_npy: " + where + " has .npy format version " + std::to_string(h.major) + "." +
                   std::to_string(h.minor) + "; kpt reads 1.0 and 2.0 (numpy.save writes 1.0 for any plain "
                   "numeric array: re-save it with numpy.save)");
  }
  const std::size_t len_bytes = h.major == 1 ? 2 : 4;
  unsigned char lb[4] = {0, 0, 0, 0};
  if (std::fread(lb, 1, len_bytes, f.get()) != len_bytes)
    throw io_error("load_npy: " + where + " is truncated inside its header; re-save it");
  const std::uint32_t header_len =
      std::uint32_t(lb[0]) | std::uint32_t(lb[1]) << 8 | std::uint32_t(lb[2]) << 16 | std::uint32_t(lb[3]) << 24;
  if (header_len > (1u << 20))
    throw io_error("load_npy: " + where + " claims a header of " + std::to_string(header_len) +
                   " bytes, which no plain array needs; the file is corrupt, re-save it");
  std::string text(header_len, '\0');
  if (header_len && std::fread(text.data(), 1, header_len, f.get()) != header_len)
    throw io_error("load_npy: " + where + " is truncated inside its header (" + std::to_string(header_len) +
                   " bytes announced); re-save it");
  header_parser(text, file).parse(h);
  h.data_offset = 6 + 2 + len_bytes + header_len;

  // Data size, without overflow, against the file's size.
  std::error_code ec;
  const std::uintmax_t file_size = std::filesystem::file_size(file, ec);
  if (ec) throw io_error("load_npy: cannot get the size of " + where + " (" + ec.message() + ")");
  const std::uint64_t available = file_size >= h.data_offset ? file_size - h.data_offset : 0;
  std::uint64_t bytes = item_size(h.descr);
  bool overflow = false;
  for (index_t d : h.shape) {
    if (d != 0 && bytes > UINT64_MAX / std::uint64_t(d)) overflow = true;
    else bytes *= std::uint64_t(d);
  }
  for (index_t d : h.shape)
    if (d == 0) bytes = 0, overflow = false;  // an empty array needs no data, whatever the other dims
  if (overflow || bytes > available) {
    throw io_error("load_npy: " + where + " is truncated: shape " + h.shape.str() + " of " +
                   std::string(dtype_name(h.descr)) + " needs " + (overflow ? "more than 2^64" : std::to_string(bytes)) +
                   " bytes of data but the file holds " + std::to_string(available) +
                   " after its header; it was cut short, re-save it");
  }
  if (bytes < available) {
    throw io_error("load_npy: " + where + " has " + std::to_string(available - bytes) +
                   " unexpected bytes after the data of shape " + h.shape.str() + " (" +
                   std::string(dtype_name(h.descr)) + "); it is not a single .npy array (an .npz or a "
                   "concatenation?), re-save it with numpy.save");
  }
  h.data_bytes = bytes;
  return f;
}

}  // namespace npy_detail

// Reads and checks the header only: dtype (normalised descr), shape, version, data offset.
inline npy_header read_npy_header(const std::filesystem::path& file) {
  npy_header h;
  npy_detail::open_and_read_header(file, h);
  return h;
}

// Loads a .npy file whose dtype is exactly T's (no conversion) into a new tensor.
template <Scalar T, HostBackend B = cpu_ref>
tensor<T, B> load_npy(const std::filesystem::path& file) {
  npy_header h;
  auto f = npy_detail::open_and_read_header(file, h);
  constexpr std::string_view want = npy_descr<T>();
  if (h.descr != want) {
    throw io_error("load_npy: " + npy_detail::quoted(file) + " stores '" + h.descr + "' (" +
                   std::string(npy_detail::dtype_name(h.descr)) + ") but '" + std::string(want) + "' (" +
                   std::string(npy_detail::dtype_name(want)) +
                   ") was requested; kpt does not convert silently: load it with the stored type and "
                   "convert, or re-save it with a.astype(numpy." +
                   std::string(npy_detail::dtype_name(want)) + ")");
  }
  auto t = tensor<T, B>::empty(h.shape);
  const std::size_t n = std::size_t(t.numel());
  if (n && std::fread(t.data(), sizeof(T), n, f.get()) != n)
    throw io_error("load_npy: reading the data of " + npy_detail::quoted(file) + " failed (" +
                   npy_detail::errno_text() + ")");
  return t;
}

// Writes t as a format 1.0 .npy file (C order, little-endian), atomically (io/atomic_file.hpp).
template <Scalar T, Backend B>
void save_npy(const std::filesystem::path& file, const tensor<T, B>& t) {
  const auto where = npy_detail::quoted(file);
  require<io_error>(t.defined(), "save_npy: cannot save an undefined tensor to ", where);
  std::string dict = "{'descr': '" + std::string(npy_descr<T>()) + "', 'fortran_order': False, 'shape': (";
  for (int i = 0; i < t.rank(); ++i) dict += std::to_string(t.shape()[i]) + (t.rank() == 1 ? "," : i + 1 < t.rank() ? ", " : "");
  dict += "), }";
  // Pad with spaces so that the data starts on a 64-byte boundary; the header ends with '\n'.
  const std::size_t prefix = 6 + 2 + 2;
  dict.append(63 - (prefix + dict.size()) % 64, ' ');
  dict += '\n';
  std::string head(npy_detail::magic, 6);
  head += char(1);
  head += char(0);
  head += char(dict.size() & 0xff);
  head += char((dict.size() >> 8) & 0xff);
  head += dict;

  std::vector<T> host;
  const T* data = t.data();
  if constexpr (!B::is_host) {
    host = t.to_vector();
    data = host.data();
  }
  const std::size_t n = std::size_t(t.numel());

  write_file_atomic(file, {head, std::string_view(reinterpret_cast<const char*>(data), n * sizeof(T))}, "save_npy");
}

}  // namespace kpt::io
