#pragma once
// safetensors files <-> kpt tensors (docs/formats.md, section "safetensors").
//
//   io::safetensors_file f("w.safetensors");               // reads and checks the whole file
//   auto w = f.get<float>("encoder.conv1a.weight");          // converts F16/BF16/F64 to float
//
//   io::safetensors_writer out;                              // any element types in one file
//   out.add("conv.weight", w);                               // stored as F32 (float's own dtype)
//   out.add("conv.weight_h", w, io::dtype::f16);             // or converted (round to nearest even)
//   out.set_metadata("format", "pt");
//   out.write("w.safetensors");                              // atomic: temp file + rename
//
//   io::state_loader in;                                     // load into existing tensors by name
//   nn::visit_params(net, [&](const std::string& name, auto& t) { in.bind(name, t); });
//   in.load("w.safetensors", {.rename_prefix = {{"module.", ""}}});
//
// File layout: 8-byte little-endian header length N, N bytes of JSON
//   {"name": {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]}, ...,
//    "__metadata__": {"key": "value", ...}}
// then the byte buffer; offsets are relative to the buffer, which the tensors must cover exactly
// (no overlap, no hole). Element dtypes: F16 BF16 F32 F64 I64 I32 U8. Every malformed file and
// every mismatch is an io_error naming the file, the tensor and the fix.
#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>


#include <nlohmann/json.hpp>

#include "kpt/core/error.hpp"
#include "kpt/core/shape.hpp"
#include "kpt/core/tensor.hpp"
#include "kpt/io/atomic_file.hpp"
#include "kpt/io/half.hpp"

namespace kpt::io {

static_assert(std::endian::native == std::endian::little,
              "kpt::io::safetensors reads and writes little-endian data without byte swapping");

// Element types of a safetensors file that kpt reads and writes.
enum class dtype { f16, bf16, f32, f64, i64, i32, u8 };

constexpr std::string_view dtype_name(dtype d) {
  switch (d) {
    case dtype::f16: return "F16";
    case dtype::bf16: return "BF16";
    case dtype::f32: return "F32";
    case dtype::f64: return "F64";
    case dtype::i64: return "I64";
    case dtype::i32: return "I32";
    case dtype::u8: return "U8";
  }
  return "?";
}
constexpr std::size_t dtype_size(dtype d) {
  switch (d) {
    case dtype::f16:
    case dtype::bf16: return 2;
    case dtype::f32:
    case dtype::i32: return 4;
    case dtype::f64:
    case dtype::i64: return 8;
    case dtype::u8: return 1;
  }
  return 0;
}
constexpr bool is_floating(dtype d) { return d == dtype::f16 || d == dtype::bf16 || d == dtype::f32 || d == dtype::f64; }
inline std::optional<dtype> parse_dtype(std::string_view s) {
  for (dtype d : {dtype::f16, dtype::bf16, dtype::f32, dtype::f64, dtype::i64, dtype::i32, dtype::u8})
    if (dtype_name(d) == s) return d;
  return std::nullopt;
}
// The dtype a tensor<T> is stored as by default.
template <Scalar T>
constexpr dtype dtype_of() {
  if constexpr (std::is_same_v<T, float>) return dtype::f32;
  else if constexpr (std::is_same_v<T, double>) return dtype::f64;
  else if constexpr (std::is_same_v<T, std::int64_t>) return dtype::i64;
  else if constexpr (std::is_same_v<T, std::int32_t>) return dtype::i32;
  else return dtype::u8;
}
// Whether a tensor<T> can be read from / written as dtype d: floating types convert among
// themselves (F16, BF16, F32, F64 <-> float, double); integer types must match exactly.
template <Scalar T>
constexpr bool converts(dtype d) {
  if constexpr (Real<T>) return is_floating(d);
  else return d == dtype_of<T>();
}

// One entry of a safetensors header.
struct tensor_info {
  std::string name;
  io::dtype dtype = dtype::f32;
  kpt::shape shape;
  std::uint64_t begin = 0, end = 0;  // byte range in the data buffer
};

// A checked header: tensors sorted by name, metadata, sizes.
struct safetensors_header {
  std::vector<tensor_info> tensors;
  std::map<std::string, std::string> metadata;
  std::uint64_t header_bytes = 0;  // N, the JSON length
  std::uint64_t data_bytes = 0;    // size of the buffer after the JSON

  const tensor_info* find(std::string_view name) const {
    auto it = std::lower_bound(tensors.begin(), tensors.end(), name,
                               [](const tensor_info& t, std::string_view n) { return t.name < n; });
    return it != tensors.end() && it->name == name ? &*it : nullptr;
  }
};

namespace st_detail {

inline constexpr std::uint64_t max_header_bytes = 100u << 20;  // the format's own limit (100 MB)

struct file_closer {
  void operator()(std::FILE* f) const {
    if (f) std::fclose(f);
  }
};
using file_ptr = std::unique_ptr<std::FILE, file_closer>;

inline std::string quoted(const std::filesystem::path& p) { return "'" + p.string() + "'"; }
inline std::string errno_text() { return std::strerror(errno); }

inline std::string supported_list() { return "F16, BF16, F32, F64, I64, I32, U8"; }

// "a, b and c" for messages; at most `limit` names then "and N more".
inline std::string name_list(const std::vector<std::string>& names, std::size_t limit = 50) {
  std::string s;
  for (std::size_t i = 0; i < names.size() && i < limit; ++i) s += (i ? ", '" : "'") + names[i] + "'";
  if (names.size() > limit) s += " and " + std::to_string(names.size() - limit) + " more";
  return s;
}

inline std::string fix_hint() {
  return "re-export it (tools/pth_to_safetensors.py, safetensors.torch.save_file or kpt::io::safetensors_writer)";
}

// Element n of `src` (stored as d) as T.
template <Scalar T>
void decode(dtype d, const std::byte* src, T* dst, std::size_t n) {
  auto load = [&]<class S>(S* tag) {
    (void)tag;
    for (std::size_t i = 0; i < n; ++i) {
      S v;
      std::memcpy(&v, src + i * sizeof(S), sizeof(S));
      if constexpr (std::is_same_v<S, std::uint16_t>) {
        dst[i] = T(d == dtype::f16 ? from_f16_bits(v) : from_bf16_bits(v));
      } else {
        dst[i] = T(v);
      }
    }
  };
  if (d == dtype_of<T>()) {
    if (n) std::memcpy(dst, src, n * sizeof(T));
    return;
  }
  if constexpr (Real<T>) {
    switch (d) {
      case dtype::f16:
      case dtype::bf16: return load(static_cast<std::uint16_t*>(nullptr));
      case dtype::f32: return load(static_cast<float*>(nullptr));
      case dtype::f64: return load(static_cast<double*>(nullptr));
      default: break;
    }
  }
  throw io_error("safetensors: internal error, no conversion from " + std::string(dtype_name(d)));
}

// n values of T encoded as d, appended to out.
template <Scalar T>
void encode(dtype d, const T* src, std::size_t n, std::vector<std::byte>& out) {
  const std::size_t at = out.size();
  out.resize(at + n * dtype_size(d));
  std::byte* dst = out.data() + at;
  if (d == dtype_of<T>()) {
    if (n) std::memcpy(dst, src, n * sizeof(T));
    return;
  }
  if constexpr (Real<T>) {
    for (std::size_t i = 0; i < n; ++i) {
      if (d == dtype::f16 || d == dtype::bf16) {
        const std::uint16_t h = d == dtype::f16 ? to_f16_bits(double(src[i])) : to_bf16_bits(double(src[i]));
        std::memcpy(dst + 2 * i, &h, 2);
      } else if (d == dtype::f32) {
        const float v = float(src[i]);  // double -> float rounds to nearest even
        std::memcpy(dst + 4 * i, &v, 4);
      } else {
        const double v = double(src[i]);
        std::memcpy(dst + 8 * i, &v, 8);
      }
    }
    return;
  }
  throw io_error("safetensors: internal error, no conversion to " + std::string(dtype_name(d)));
}

// Parses and checks the JSON header `text` of `file` whose data buffer holds data_bytes bytes.
inline safetensors_header parse_header(const std::string& text, std::uint64_t data_bytes,
                                       const std::filesystem::path& file) {
  using json = nlohmann::json;
  const std::string where = "safetensors: " + quoted(file);
  auto fail = [&](const std::string& why) -> void { throw io_error(where + " " + why); };

  // Duplicate top-level keys are rejected (nlohmann keeps the last one silently).
  std::vector<std::string> duplicates;
  std::vector<std::string> seen_keys;
  json::parser_callback_t cb = [&](int depth, json::parse_event_t event, json& parsed) {
    if (event == json::parse_event_t::key && depth == 1) {
      const std::string k = parsed.get<std::string>();
      if (std::find(seen_keys.begin(), seen_keys.end(), k) != seen_keys.end()) duplicates.push_back(k);
      else seen_keys.push_back(k);
    }
    return true;
  };
  json j;
  try {
    j = json::parse(text, cb, /*allow_exceptions=*/true);
  } catch (const json::exception& e) {
    fail(std::string("has a header that is not well-formed JSON (") + e.what() + "); the file is corrupt or not a "
         "safetensors file, " + fix_hint());
  }
  if (!duplicates.empty()) fail("has duplicate tensor names in its header: " + name_list(duplicates) + "; " + fix_hint());
  if (!j.is_object()) fail("has a header that is not a JSON object; " + fix_hint());

  safetensors_header h;
  h.data_bytes = data_bytes;
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string& name = it.key();
    const json& v = it.value();
    if (name == "__metadata__") {
      if (!v.is_object()) fail("has a '__metadata__' that is not an object of strings; " + fix_hint());
      for (auto m = v.begin(); m != v.end(); ++m) {
        if (!m.value().is_string())
          fail("has a '__metadata__' entry '" + m.key() + "' that is not a string (safetensors metadata maps "
               "strings to strings); " + fix_hint());
        h.metadata[m.key()] = m.value().get<std::string>();
      }
      continue;
    }
    const std::string t = "tensor '" + name + "' ";
    if (!v.is_object()) fail("has a header entry for " + t + "that is not an object; " + fix_hint());
    for (auto f = v.begin(); f != v.end(); ++f)
      if (f.key() != "dtype" && f.key() != "shape" && f.key() != "data_offsets")
        fail("has an unknown field '" + f.key() + "' in the entry of " + t + "(expected dtype, shape, data_offsets); " +
             fix_hint());
    tensor_info info;
    info.name = name;
    if (!v.contains("dtype") || !v["dtype"].is_string()) fail("lacks a string 'dtype' for " + t + "; " + fix_hint());
    const std::string ds = v["dtype"].get<std::string>();
    const auto d = parse_dtype(ds);
    if (!d)
      fail("stores " + t + "as dtype '" + ds + "', which kpt does not read (supported: " + supported_list() +
           "); convert it in PyTorch first, e.g. t.float()");
    info.dtype = *d;
    if (!v.contains("shape") || !v["shape"].is_array())
      fail("lacks a 'shape' array for " + t + "; " + fix_hint());
    const json& sh = v["shape"];
    if (sh.size() > std::size_t(max_rank))
      fail("gives " + t + "rank " + std::to_string(sh.size()) + ", above kpt::max_rank (" + std::to_string(max_rank) +
           "); reshape it to at most " + std::to_string(max_rank) + " dimensions before saving");
    std::vector<index_t> dims;
    std::uint64_t numel = 1;
    bool overflow = false;
    for (const json& e : sh) {
      if (!e.is_number_unsigned() || e.get<std::uint64_t>() > std::uint64_t(INT64_MAX))
        fail("gives " + t + "a shape " + sh.dump() + " with an entry that is not a non-negative integer; " + fix_hint());
      const std::uint64_t x = e.get<std::uint64_t>();
      dims.push_back(index_t(x));
      if (x != 0 && numel > UINT64_MAX / x) overflow = true;
      else numel *= x;
    }
    if (std::find(dims.begin(), dims.end(), 0) != dims.end()) numel = 0, overflow = false;
    info.shape = kpt::shape(std::span<const index_t>(dims.data(), dims.size()));
    if (!v.contains("data_offsets") || !v["data_offsets"].is_array() || v["data_offsets"].size() != 2 ||
        !v["data_offsets"][0].is_number_unsigned() || !v["data_offsets"][1].is_number_unsigned())
      fail("lacks 'data_offsets' [begin, end] (two non-negative integers) for " + t + "; " + fix_hint());
    info.begin = v["data_offsets"][0].get<std::uint64_t>();
    info.end = v["data_offsets"][1].get<std::uint64_t>();
    if (info.begin > info.end)
      fail("gives " + t + "data_offsets [" + std::to_string(info.begin) + ", " + std::to_string(info.end) +
           "] that end before they begin; " + fix_hint());
    if (info.end > data_bytes)
      fail("gives " + t + "data_offsets [" + std::to_string(info.begin) + ", " + std::to_string(info.end) +
           "] beyond its data buffer of " + std::to_string(data_bytes) +
           " bytes; the file is truncated or its header is wrong, " + fix_hint());
    const std::uint64_t item = dtype_size(info.dtype);
    if (overflow || numel > UINT64_MAX / item || numel * item != info.end - info.begin)
      fail("gives " + t + "shape " + info.shape.str() + " of " + std::string(dtype_name(info.dtype)) + " (" +
           (overflow || numel > UINT64_MAX / item ? std::string("more than 2^64") : std::to_string(numel * item)) +
           " bytes) but data_offsets [" + std::to_string(info.begin) + ", " + std::to_string(info.end) + "] span " +
           std::to_string(info.end - info.begin) + " bytes; the dtype or shape in the header is wrong, " + fix_hint());
    h.tensors.push_back(std::move(info));
  }

  // The tensors must tile the buffer: sorted by offset, each begins where the previous ends.
  std::vector<const tensor_info*> by_offset;
  for (const auto& t : h.tensors) by_offset.push_back(&t);
  std::sort(by_offset.begin(), by_offset.end(), [](const tensor_info* a, const tensor_info* b) {
    return a->begin != b->begin ? a->begin < b->begin : a->end < b->end;
  });
  std::uint64_t expected = 0;
  const tensor_info* previous = nullptr;
  for (const tensor_info* t : by_offset) {
    if (t->begin < expected)
      fail("has overlapping tensors: '" + t->name + "' [" + std::to_string(t->begin) + ", " + std::to_string(t->end) +
           ") starts inside '" + previous->name + "' [" + std::to_string(previous->begin) + ", " +
           std::to_string(previous->end) + "); the header is corrupt, " + fix_hint());
    if (t->begin > expected)
      fail("has " + std::to_string(t->begin - expected) + " bytes [" + std::to_string(expected) + ", " +
           std::to_string(t->begin) + ") before tensor '" + t->name +
           "' that belong to no tensor (a hole); the header is corrupt, " + fix_hint());
    expected = t->end;
    previous = t;
  }
  if (expected != data_bytes)
    fail("has " + std::to_string(data_bytes - expected) + " bytes at the end of its data buffer (from offset " +
         std::to_string(expected) + " of " + std::to_string(data_bytes) +
         ") that belong to no tensor; the file has trailing garbage or its header is wrong, " + fix_hint());

  std::sort(h.tensors.begin(), h.tensors.end(), [](const tensor_info& a, const tensor_info& b) { return a.name < b.name; });
  return h;
}

// Opens `file`, reads and checks the header, leaves the stream at the first data byte.
inline file_ptr open_and_read_header(const std::filesystem::path& file, safetensors_header& h) {
  const std::string where = "safetensors: " + quoted(file);
  file_ptr f(std::fopen(file.c_str(), "rb"));
  if (!f)
    throw io_error("safetensors: cannot open " + quoted(file) + " (" + errno_text() +
                   "); check the path (relative paths start from the working directory, " +
                   std::filesystem::current_path().string() + ")");
  std::error_code ec;
  const std::uintmax_t size = std::filesystem::file_size(file, ec);
  if (ec) throw io_error(where + ": cannot get its size (" + ec.message() + ")");
  unsigned char lb[8];
  if (size < 8 || std::fread(lb, 1, 8, f.get()) != 8)
    throw io_error(where + " is " + std::to_string(size) +
                   " bytes long, too short for the 8-byte header length of a safetensors file; it is truncated "
                   "or not a safetensors file, " + fix_hint());
  std::uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = n << 8 | lb[i];
  if (n > size - 8)
    throw io_error(where + " announces a JSON header of " + std::to_string(n) + " bytes but only " +
                   std::to_string(size - 8) + " bytes follow the length; the file is truncated or not a safetensors "
                   "file, " + fix_hint());
  if (n > max_header_bytes)
    throw io_error(where + " announces a JSON header of " + std::to_string(n) +
                   " bytes, above the format's 100 MB limit; the file is corrupt, " + fix_hint());
  std::string text(std::size_t(n), '\0');
  if (n && std::fread(text.data(), 1, std::size_t(n), f.get()) != n)
    throw io_error(where + ": reading its header failed (" + errno_text() + ")");
  if (text.empty() || text[0] != '{')
    throw io_error(where + " has a header that does not start with '{'; it is not a safetensors file, " + fix_hint());
  h = parse_header(text, size - 8 - n, file);
  h.header_bytes = n;
  return f;
}

}  // namespace st_detail

// Reads and checks the header only (names, dtypes, shapes, offsets, metadata).
inline safetensors_header read_safetensors_header(const std::filesystem::path& file) {
  safetensors_header h;
  st_detail::open_and_read_header(file, h);
  return h;
}

// A whole safetensors file in memory, checked on construction.
class safetensors_file {
 public:
  explicit safetensors_file(const std::filesystem::path& file) : path_(file) {
    auto f = st_detail::open_and_read_header(file, header_);
    data_.resize(std::size_t(header_.data_bytes));
    if (!data_.empty() && std::fread(data_.data(), 1, data_.size(), f.get()) != data_.size())
      throw io_error("safetensors: reading the data of " + st_detail::quoted(file) + " failed (" +
                     st_detail::errno_text() + ")");
  }

  const std::filesystem::path& path() const { return path_; }
  const safetensors_header& header() const { return header_; }
  const std::map<std::string, std::string>& metadata() const { return header_.metadata; }
  // Tensors sorted by name.
  const std::vector<tensor_info>& tensors() const { return header_.tensors; }
  bool contains(std::string_view name) const { return header_.find(name) != nullptr; }

  const tensor_info& info(std::string_view name) const {
    const tensor_info* t = header_.find(name);
    if (!t) {
      std::vector<std::string> near;  // names sharing the last component, to hint at a prefix mismatch
      const std::string_view last = name.substr(name.rfind('.') == std::string_view::npos ? 0 : name.rfind('.'));
      for (const auto& e : header_.tensors)
        if (std::string_view(e.name).ends_with(last)) near.push_back(e.name);
      throw io_error("safetensors: " + st_detail::quoted(path_) + " has no tensor '" + std::string(name) + "' (it holds " +
                     std::to_string(header_.tensors.size()) + " tensors" +
                     (near.empty() ? std::string() : "; similar: " + st_detail::name_list(near, 5)) +
                     "); check the name, or map a key prefix with load_options::rename_prefix");
    }
    return *t;
  }
  // The raw bytes of a tensor.
  std::span<const std::byte> bytes(std::string_view name) const {
    const tensor_info& t = info(name);
    return {data_.data() + t.begin, std::size_t(t.end - t.begin)};
  }

  // A new tensor holding `name` converted to T (floating dtypes convert among themselves; integer
  // dtypes must match T exactly).
  template <Scalar T, Backend B = cpu_ref>
  tensor<T, B> get(std::string_view name) const {
    const tensor_info& t = info(name);
    auto out = tensor<T, B>::empty(t.shape);
    copy_to(t, out);
    return out;
  }
  // Writes `name` into the buffer of an existing tensor of the same shape.
  template <Scalar T, Backend B>
  void read_into(std::string_view name, tensor<T, B>& dst) const {
    const tensor_info& t = info(name);
    require<io_error>(dst.defined(), "safetensors: cannot read '", t.name, "' of ", st_detail::quoted(path_),
                      " into an undefined tensor; allocate it first");
    require<io_error>(dst.shape() == t.shape, "safetensors: tensor '", t.name, "' of ", st_detail::quoted(path_),
                      " has shape ", t.shape.str(), " but the destination has shape ", dst.shape().str(),
                      "; the file was written for another model or variant");
    copy_to(t, dst);
  }

 private:
  template <Scalar T, Backend B>
  void copy_to(const tensor_info& t, tensor<T, B>& out) const {
    if (!converts<T>(t.dtype))
      throw io_error("safetensors: tensor '" + t.name + "' of " + st_detail::quoted(path_) + " is stored as " +
                     std::string(dtype_name(t.dtype)) + ", which cannot be read as " +
                     std::string(dtype_name(dtype_of<T>())) +
                     " (floating dtypes convert among themselves, integer dtypes must match); read it with the "
                     "stored type");
    const std::byte* src = data_.data() + t.begin;
    const std::size_t n = std::size_t(t.shape.numel());
    if constexpr (B::is_host) {
      st_detail::decode<T>(t.dtype, src, out.data(), n);
    } else {
      std::vector<T> host(n);
      st_detail::decode<T>(t.dtype, src, host.data(), n);
      B::copy_from_host(out.data(), host.data(), n);
    }
  }

  std::filesystem::path path_;
  safetensors_header header_;
  std::vector<std::byte> data_;
};

// Collects tensors of any element type and writes them as one safetensors file.
class safetensors_writer {
 public:
  // Adds t stored as its own dtype (float F32, double F64, int64 I64, ...).
  template <Scalar T, Backend B>
  safetensors_writer& add(std::string name, const tensor<T, B>& t) {
    return add(std::move(name), t, dtype_of<T>());
  }
  // Adds t converted to `as` (float and double to F16, BF16, F32 or F64; integers as themselves).
  template <Scalar T, Backend B>
  safetensors_writer& add(std::string name, const tensor<T, B>& t, dtype as) {
    require<io_error>(!name.empty(), "safetensors_writer::add: a tensor name cannot be empty");
    require<io_error>(name != "__metadata__", "safetensors_writer::add: '__metadata__' is reserved for the metadata; "
                                              "rename the tensor");
    require<io_error>(t.defined(), "safetensors_writer::add: tensor '", name, "' is undefined");
    require<io_error>(converts<T>(as), "safetensors_writer::add: tensor '", name, "' of ", dtype_name(dtype_of<T>()),
                      " cannot be stored as ", dtype_name(as),
                      " (floating types convert among F16, BF16, F32, F64; integers are stored as themselves)");
    require<io_error>(std::none_of(entries_.begin(), entries_.end(), [&](const entry& e) { return e.name == name; }),
                      "safetensors_writer::add: tensor '", name, "' was added twice; names must be unique");
    entry e{std::move(name), as, t.shape(), {}};
    const std::size_t n = std::size_t(t.numel());
    e.bytes.reserve(n * dtype_size(as));
    if constexpr (B::is_host) {
      st_detail::encode<T>(as, t.data(), n, e.bytes);
    } else {
      const std::vector<T> host = t.to_vector();
      st_detail::encode<T>(as, host.data(), n, e.bytes);
    }
    entries_.push_back(std::move(e));
    return *this;
  }
  safetensors_writer& set_metadata(std::string key, std::string value) {
    metadata_[std::move(key)] = std::move(value);
    return *this;
  }
  std::size_t size() const { return entries_.size(); }
  bool contains(std::string_view name) const {
    return std::any_of(entries_.begin(), entries_.end(), [&](const entry& e) { return e.name == name; });
  }

  // The complete file as bytes (tensors laid out in name order; header padded with spaces to a
  // multiple of 8 so that the buffer starts 8-byte aligned).
  std::string bytes() const {
    std::vector<const entry*> order;
    for (const auto& e : entries_) order.push_back(&e);
    std::sort(order.begin(), order.end(), [](const entry* a, const entry* b) { return a->name < b->name; });
    nlohmann::json j = nlohmann::json::object();
    std::uint64_t offset = 0;
    for (const entry* e : order) {
      std::vector<index_t> dims(e->shape.begin(), e->shape.end());
      j[e->name] = {{"dtype", std::string(dtype_name(e->dt))},
                    {"shape", dims},
                    {"data_offsets", {offset, offset + e->bytes.size()}}};
      offset += e->bytes.size();
    }
    if (!metadata_.empty()) j["__metadata__"] = metadata_;
    std::string head = j.dump();
    head.append((8 - head.size() % 8) % 8, ' ');
    std::string out(8, '\0');
    for (int i = 0; i < 8; ++i) out[std::size_t(i)] = char((std::uint64_t(head.size()) >> (8 * i)) & 0xff);
    out.reserve(8 + head.size() + offset);
    out += head;
    for (const entry* e : order) out.append(reinterpret_cast<const char*>(e->bytes.data()), e->bytes.size());
    return out;
  }

  // Writes the file atomically (io/atomic_file.hpp).
  void write(const std::filesystem::path& file) const { write_file_atomic(file, bytes(), "safetensors_writer"); }

 private:
  struct entry {
    std::string name;
    dtype dt;
    kpt::shape shape;
    std::vector<std::byte> bytes;
  };
  std::vector<entry> entries_;
  std::map<std::string, std::string> metadata_;
};

// How state_loader matches file keys to bound names.
struct load_options {
  // {file prefix, name prefix} pairs: a file key starting with the first is read as if it started
  // with the second (first matching pair wins), e.g. {"module.", ""} for DataParallel checkpoints
  // or {"", "stem."} to load a bare sub-network's weights into "stem.*".
  std::vector<std::pair<std::string, std::string>> rename_prefix;
  bool allow_missing = false;     // bound names absent from the file keep their values
  bool allow_unexpected = false;  // file keys bound to nothing are ignored
};

// What a load did.
struct load_report {
  std::vector<std::string> loaded;      // bound names filled from the file
  std::vector<std::string> missing;     // bound names absent from the file (only with allow_missing)
  std::vector<std::string> unexpected;  // file keys bound to nothing (only with allow_unexpected)
};

// Loads a file into existing tensors by name. Bind every tensor, then load(): all names, shapes
// and dtypes are checked first and every problem is reported by name in one io_error; nothing is
// written unless all checks pass. Values go into the bound tensors' buffers, so handles held
// elsewhere (a network's parameters, an optimiser's state) see them.
class state_loader {
 public:
  template <Scalar T, Backend B>
  state_loader& bind(std::string name, tensor<T, B> target) {
    require<io_error>(target.defined(), "state_loader::bind: tensor '", name,
                      "' is undefined; allocate it before loading into it");
    require<io_error>(std::none_of(bound_.begin(), bound_.end(), [&](const binding& b) { return b.name == name; }),
                      "state_loader::bind: name '", name, "' is bound twice");
    binding b;
    b.name = std::move(name);
    b.shape = target.shape();
    b.type = dtype_name(dtype_of<T>());
    b.accepts = [](dtype d) { return converts<T>(d); };
    b.read = [target](const safetensors_file& f, const std::string& key) mutable { f.read_into(key, target); };
    bound_.push_back(std::move(b));
    return *this;
  }
  // Binds every element of a range whose elements destructure as [name, tensor]
  // (std::pair, std::map entries, a two-member struct).
  template <class Range>
  state_loader& bind_all(Range&& named) {
    for (auto&& [name, t] : named) bind(std::string(name), t);
    return *this;
  }
  std::size_t size() const { return bound_.size(); }

  load_report load(const std::filesystem::path& file, const load_options& options = {}) const {
    return load(safetensors_file(file), options);
  }
  load_report load(const safetensors_file& f, const load_options& options = {}) const {
    // file key -> the name it stands for
    std::map<std::string, std::string> key_of_name;
    std::vector<std::string> unexpected, missing, bad_shape, bad_type, collisions;
    for (const auto& t : f.tensors()) {
      std::string name = t.name;
      for (const auto& [from, to] : options.rename_prefix)
        if (name.starts_with(from)) {
          name = to + name.substr(from.size());
          break;
        }
      if (!key_of_name.emplace(name, t.name).second)
        collisions.push_back("'" + t.name + "' and '" + key_of_name[name] + "' both map to '" + name + "'");
    }
    std::map<std::string, const binding*> by_name;
    for (const auto& b : bound_) by_name[b.name] = &b;
    std::vector<std::string> unexpected_keys;
    for (const auto& [name, key] : key_of_name)
      if (!by_name.count(name)) {
        unexpected_keys.push_back(key);
        unexpected.push_back(key == name ? "'" + key + "'" : "'" + key + "' (as '" + name + "')");
      }
    load_report report;
    for (const auto& b : bound_) {
      auto it = key_of_name.find(b.name);
      if (it == key_of_name.end()) {
        missing.push_back(b.name);
        continue;
      }
      const tensor_info& t = f.info(it->second);
      const std::string label = it->second == b.name ? "'" + b.name + "'" : "'" + it->second + "' (as '" + b.name + "')";
      if (!(t.shape == b.shape)) bad_shape.push_back(label + ": file " + t.shape.str() + ", expected " + b.shape.str());
      else if (!b.accepts(t.dtype))
        bad_type.push_back(label + ": file " + std::string(dtype_name(t.dtype)) + ", expected " + std::string(b.type));
    }
    std::string problems;
    auto add = [&](const std::string& what, const std::vector<std::string>& items) {
      if (items.empty()) return;
      problems += "\n  " + std::to_string(items.size()) + " " + what + ": ";
      for (std::size_t i = 0; i < items.size() && i < 50; ++i) problems += (i ? ", " : "") + items[i];
      if (items.size() > 50) problems += " and " + std::to_string(items.size() - 50) + " more";
    };
    std::vector<std::string> missing_quoted;
    for (const auto& m : missing) missing_quoted.push_back("'" + m + "'");
    add("key collision(s) after renaming", collisions);
    if (!options.allow_missing) add("missing (bound but not in the file)", missing_quoted);
    if (!options.allow_unexpected) add("unexpected (in the file but bound to nothing)", unexpected);
    add("mis-shaped", bad_shape);
    add("of an incompatible dtype", bad_type);
    if (!problems.empty()) {
      throw io_error("safetensors: " + st_detail::quoted(f.path()) + " does not match the " +
                     std::to_string(bound_.size()) + " expected tensors:" + problems +
                     "\n  fix: load weights written for this model and variant; map key prefixes with "
                     "load_options::rename_prefix (e.g. {\"module.\", \"\"}); or allow partial loads with "
                     "allow_missing / allow_unexpected");
    }
    for (const auto& b : bound_) {
      auto it = key_of_name.find(b.name);
      if (it == key_of_name.end()) continue;
      b.read(f, it->second);
      report.loaded.push_back(b.name);
    }
    report.missing = std::move(missing);
    report.unexpected = std::move(unexpected_keys);
    return report;
  }

 private:
  struct binding {
    std::string name;
    kpt::shape shape;
    std::string_view type;
    std::function<bool(dtype)> accepts;
    std::function<void(const safetensors_file&, const std::string&)> read;
  };
  std::vector<binding> bound_;
};

// Writes every [name, tensor] element of a range to `file` (each tensor as its own dtype, or
// floating tensors as `float_as` when given), with optional metadata. Atomic.
template <class Range>
void save_safetensors(const std::filesystem::path& file, Range&& named,
                      const std::map<std::string, std::string>& metadata = {},
                      std::optional<dtype> float_as = std::nullopt) {
  safetensors_writer w;
  for (auto&& [name, t] : named) {
    using T = typename std::remove_cvref_t<decltype(t)>::value_type;
    if constexpr (Real<T>) w.add(std::string(name), t, float_as.value_or(dtype_of<T>()));
    else w.add(std::string(name), t);
  }
  for (const auto& [k, v] : metadata) w.set_metadata(k, v);
  w.write(file);
}

// Loads `file` into every [name, tensor] element of a range (see state_loader).
template <class Range>
load_report load_safetensors(const std::filesystem::path& file, Range&& named, const load_options& options = {}) {
  state_loader l;
  l.bind_all(std::forward<Range>(named));
  return l.load(file, options);
}

// Every tensor of `file` converted to T (for fixtures and tools; integer tensors need T to match).
template <Scalar T, Backend B = cpu_ref>
std::map<std::string, tensor<T, B>> load_all(const std::filesystem::path& file) {
  safetensors_file f(file);
  std::map<std::string, tensor<T, B>> out;
  for (const auto& t : f.tensors()) out.emplace(t.name, f.get<T, B>(t.name));
  return out;
}

}  // namespace kpt::io
