#include "support.hpp"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "kpt/io/npy.hpp"

using namespace kpt;
namespace fs = std::filesystem;

namespace {

// A fresh folder per test case, removed afterwards.
struct temp_dir {
  fs::path path;
  temp_dir() {
    static int counter = 0;
    path = fs::temp_directory_path() /
           ("kpt_npy_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~temp_dir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  fs::path operator/(const std::string& name) const { return path / name; }
};

void write_bytes(const fs::path& p, const std::string& bytes) {
  std::ofstream f(p, std::ios::binary);
  f.write(bytes.data(), std::streamsize(bytes.size()));
}
std::string read_bytes(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

// A .npy file with the given header dict and `data_bytes` bytes of payload (zeros).
std::string npy_bytes(const std::string& dict, std::size_t data_bytes, int major = 1, int minor = 0) {
  std::string h = dict;
  const std::size_t len_bytes = major == 1 ? 2 : 4;
  while ((6 + 2 + len_bytes + h.size() + 1) % 64) h += ' ';
  h += '\n';
  std::string out("\x93NUMPY", 6);
  out += char(major);
  out += char(minor);
  for (std::size_t i = 0; i < len_bytes; ++i) out += char((h.size() >> (8 * i)) & 0xff);
  return out + h + std::string(data_bytes, '\0');
}

// Checks that loading `p` as float throws io_error whose message contains every one of `parts`.
void expect_io_error(const fs::path& p, std::initializer_list<std::string> parts) {
  try {
    (void)io::load_npy<float>(p);
    BOOST_ERROR("load_npy(" << p << ") did not throw");
  } catch (const io_error& e) {
    const std::string m = e.what();
    for (const auto& part : parts) BOOST_TEST(m.find(part) != std::string::npos, "message lacks '" << part << "': " << m);
  }
}

template <class T>
std::vector<T> parse_txt(const fs::path& p) {
  std::ifstream f(p);
  std::vector<T> v;
  if constexpr (std::is_floating_point_v<T>) {
    std::string s;
    while (f >> s) v.push_back(T(std::stod(s)));
  } else {
    long long x;
    while (f >> x) v.push_back(T(x));
  }
  return v;
}

const fs::path numpy_dir = fs::path(KPT_TEST_DATA_DIR) / "reference" / "npy";

}  // namespace

BOOST_AUTO_TEST_SUITE(npy)

template <class T, class B>
void round_trip(const temp_dir& d, const shape& s, std::uint64_t seed) {
  auto t = tensor<T, B>::empty(s);
  rng g(seed);
  for (auto& v : t.values()) v = T(g.uniform(-100, 100));
  const auto p = d / ("rt_" + std::to_string(seed) + ".npy");
  io::save_npy(p, t);
  const auto u = io::load_npy<T, B>(p);
  BOOST_TEST(u.shape() == s);
  BOOST_TEST(u.to_vector() == t.to_vector());
  // Header: version 1.0, data on a 64-byte boundary, the exact dict NumPy would write.
  const auto h = io::read_npy_header(p);
  BOOST_TEST(h.major == 1);
  BOOST_TEST(h.minor == 0);
  BOOST_TEST(h.data_offset % 64 == 0u);
  BOOST_TEST(h.descr == std::string(io::npy_descr<T>()));
  BOOST_TEST(fs::file_size(p) == h.data_offset + sizeof(T) * std::size_t(s.numel()));
}

BOOST_AUTO_TEST_CASE(round_trip_every_dtype_rank_and_host_backend) {
  temp_dir d;
  const std::vector<shape> shapes = {{}, {0}, {7}, {2, 3}, {1, 4, 5}, {2, 0, 3}, {2, 1, 3, 4}, {1, 2, 3, 2, 5}};
  std::uint64_t seed = 1;
  for (const auto& s : shapes) {
    BOOST_TEST_CONTEXT("shape " << s.str()) {
      round_trip<float, cpu_ref>(d, s, seed++);
      round_trip<double, cpu>(d, s, seed++);
      round_trip<std::int64_t, cpu_ref>(d, s, seed++);
      round_trip<std::int32_t, cpu>(d, s, seed++);
      round_trip<std::uint8_t, cpu_ref>(d, s, seed++);
    }
  }
}

BOOST_AUTO_TEST_CASE(header_text_matches_numpy) {
  temp_dir d;
  io::save_npy(d / "a.npy", tensor<float, cpu_ref>::zeros({2, 3}));
  io::save_npy(d / "b.npy", tensor<std::uint8_t, cpu_ref>::zeros({4}));
  io::save_npy(d / "c.npy", tensor<double, cpu_ref>::scalar(1.0));
  const auto a = read_bytes(d / "a.npy"), b = read_bytes(d / "b.npy"), c = read_bytes(d / "c.npy");
  BOOST_TEST(a.substr(0, 8) == std::string("\x93NUMPY\x01\x00", 8));
  BOOST_TEST(a.substr(10, 60).starts_with("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }"));
  BOOST_TEST(b.substr(10).starts_with("{'descr': '|u1', 'fortran_order': False, 'shape': (4,), }"));
  BOOST_TEST(c.substr(10).starts_with("{'descr': '<f8', 'fortran_order': False, 'shape': (), }"));
  BOOST_TEST(a[127] == '\n');  // 10 + 60 characters round up to 128, as numpy
  BOOST_TEST(a.size() == 128u + 6 * 4);
}

BOOST_AUTO_TEST_CASE(reads_files_written_by_numpy) {
  auto check = [](const std::string& name, auto tag, const shape& s) {
    using T = decltype(tag);
    BOOST_TEST_CONTEXT(name) {
      const auto t = io::load_npy<T>(numpy_dir / (name + ".npy"));
      BOOST_TEST(t.shape() == s);
      BOOST_TEST(t.to_vector() == parse_txt<T>(numpy_dir / (name + ".txt")), boost::test_tools::per_element());
      // Saved again by kpt, the file is byte for byte the one numpy wrote (same header padding).
      if (io::read_npy_header(numpy_dir / (name + ".npy")).major == 1) {
        temp_dir d;
        io::save_npy(d / "again.npy", t);
        BOOST_TEST((read_bytes(d / "again.npy") == read_bytes(numpy_dir / (name + ".npy"))));
      }
    }
  };
  check("f4_2x3", float{}, {2, 3});
  check("f8_4", double{}, {4});
  check("i8_3x1x2", std::int64_t{}, {3, 1, 2});
  check("i4_5", std::int32_t{}, {5});
  check("u1_2x2x3", std::uint8_t{}, {2, 2, 3});
  check("f4_scalar", float{}, {});
  check("f4_0x3", float{}, {0, 3});
  check("f8_1x2x1x2x3", double{}, {1, 2, 1, 2, 3});
  check("f4_3x4_v2", float{}, {3, 4});  // format version 2.0
  BOOST_TEST(io::read_npy_header(numpy_dir / "f4_3x4_v2.npy").major == 2);
  expect_io_error(numpy_dir / "f8_fortran.npy", {"f8_fortran.npy", "Fortran", "ascontiguousarray"});
  expect_io_error(numpy_dir / "f4_bigendian.npy", {"f4_bigendian.npy", "big-endian", "'>f4'"});
}

BOOST_AUTO_TEST_CASE(missing_file) {
  temp_dir d;
  expect_io_error(d / "nope.npy", {"nope.npy", "cannot open", "check the path"});
}

BOOST_AUTO_TEST_CASE(bad_magic_and_truncated_header) {
  temp_dir d;
  write_bytes(d / "png.npy", "\x89PNG\r\n\x1a\n and more");
  expect_io_error(d / "png.npy", {"png.npy", "not a .npy file", "numpy.save"});
  write_bytes(d / "empty.npy", "");
  expect_io_error(d / "empty.npy", {"empty.npy", "not a .npy file"});
  const std::string good = npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", 24);
  write_bytes(d / "cut8.npy", good.substr(0, 7));
  expect_io_error(d / "cut8.npy", {"cut8.npy", "truncated"});
  write_bytes(d / "cut_len.npy", good.substr(0, 9));
  expect_io_error(d / "cut_len.npy", {"cut_len.npy", "truncated inside its header"});
  write_bytes(d / "cut_dict.npy", good.substr(0, 40));
  expect_io_error(d / "cut_dict.npy", {"cut_dict.npy", "truncated inside its header", "re-save"});
}

BOOST_AUTO_TEST_CASE(truncated_or_overlong_data) {
  temp_dir d;
  const std::string good = npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", 24);
  write_bytes(d / "good.npy", good);
  BOOST_TEST(io::load_npy<float>(d / "good.npy").numel() == 6);
  write_bytes(d / "short.npy", good.substr(0, good.size() - 1));
  expect_io_error(d / "short.npy", {"short.npy", "truncated", "needs 24 bytes", "holds 23", "re-save"});
  write_bytes(d / "long.npy", good + "xyz");
  expect_io_error(d / "long.npy", {"long.npy", "3 unexpected bytes"});
  // A shape whose byte count overflows 64 bits is truncated too, not a crash.
  write_bytes(d / "huge.npy", npy_bytes("{'descr': '<f8', 'fortran_order': False, 'shape': (4294967296, 4294967296), }", 8));
  expect_io_error(d / "huge.npy", {"huge.npy", "truncated"});
}

BOOST_AUTO_TEST_CASE(unsupported_dtype_version_order_and_rank) {
  temp_dir d;
  write_bytes(d / "f2.npy", npy_bytes("{'descr': '<f2', 'fortran_order': False, 'shape': (3,), }", 6));
  expect_io_error(d / "f2.npy", {"f2.npy", "'<f2' is not supported", "astype"});
  write_bytes(d / "rec.npy", npy_bytes("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (3,), }", 12));
  expect_io_error(d / "rec.npy", {"rec.npy", "structured"});
  write_bytes(d / "be.npy", npy_bytes("{'descr': '>f8', 'fortran_order': False, 'shape': (3,), }", 24));
  expect_io_error(d / "be.npy", {"be.npy", "big-endian"});
  write_bytes(d / "fo.npy", npy_bytes("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }", 24));
  expect_io_error(d / "fo.npy", {"fo.npy", "Fortran", "numpy.ascontiguousarray"});
  write_bytes(d / "r6.npy", npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1, 1, 1, 1, 2), }", 8));
  expect_io_error(d / "r6.npy", {"r6.npy", "rank 6", "at most 5"});
  write_bytes(d / "v3.npy", npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", 8, 3, 0));
  expect_io_error(d / "v3.npy", {"v3.npy", "version 3.0", "1.0 and 2.0"});
  // Version 2.0 with a 4-byte header length is fine.
  write_bytes(d / "v2.npy", npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", 8, 2, 0));
  BOOST_TEST(io::load_npy<float>(d / "v2.npy").numel() == 2);
  // Keys in another order and double quotes are still a valid Python dict.
  write_bytes(d / "order.npy", npy_bytes("{\"shape\": (2,), \"fortran_order\": False, \"descr\": \"<f4\"}", 8));
  BOOST_TEST(io::load_npy<float>(d / "order.npy").numel() == 2);
}

BOOST_AUTO_TEST_CASE(malformed_header_dict) {
  temp_dir d;
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"nobrace", "'descr': '<f4', 'fortran_order': False, 'shape': (2,), }"},
      {"nokey", "{'descr': '<f4', 'shape': (2,), }"},
      {"unknown", "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'extra': 1, }"},
      {"negshape", "{'descr': '<f4', 'fortran_order': False, 'shape': (-2,), }"},
      {"badbool", "{'descr': '<f4', 'fortran_order': maybe, 'shape': (2,), }"},
      {"unterminated", "{'descr': '<f4, 'fortran_order': False, 'shape': (2,), }"},
      {"trailing", "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), } junk"},
  };
  for (const auto& [name, dict] : bad) {
    BOOST_TEST_CONTEXT(name) {
      write_bytes(d / (name + ".npy"), npy_bytes(dict, 8));
      expect_io_error(d / (name + ".npy"), {name + ".npy", "cannot be read"});
    }
  }
}

BOOST_AUTO_TEST_CASE(dtype_mismatch_names_file_stored_and_requested_types) {
  temp_dir d;
  io::save_npy(d / "x64.npy", tensor<double, cpu_ref>::zeros({3}));
  expect_io_error(d / "x64.npy", {"x64.npy", "'<f8' (float64)", "'<f4' (float32) was requested", "astype"});
  io::save_npy(d / "i.npy", tensor<std::int64_t, cpu_ref>::zeros({3}));
  BOOST_CHECK_EXCEPTION(io::load_npy<std::int32_t>(d / "i.npy"), io_error, [](const io_error& e) {
    const std::string m = e.what();
    return m.find("'<i8' (int64)") != std::string::npos && m.find("'<i4' (int32)") != std::string::npos;
  });
}

BOOST_AUTO_TEST_CASE(writes_are_atomic) {
  temp_dir d;
  const auto p = d / "w.npy";
  io::save_npy(p, tensor<float, cpu_ref>::full({4}, 1.f));
  io::save_npy(p, tensor<float, cpu_ref>::full({2, 2}, 2.f));  // replaces the old file
  const auto t = io::load_npy<float>(p);
  BOOST_TEST(t.shape() == (shape{2, 2}));
  BOOST_TEST(t.to_vector() == std::vector<float>(4, 2.f));
  // No temporary is left behind.
  int files = 0;
  for (const auto& e : fs::directory_iterator(d.path)) {
    ++files;
    BOOST_TEST(e.path().filename() == "w.npy");
  }
  BOOST_TEST(files == 1);

  // A folder that does not exist: io_error naming the file, nothing created.
  BOOST_CHECK_EXCEPTION(io::save_npy(d / "no" / "such" / "x.npy", t), io_error, [](const io_error& e) {
    const std::string m = e.what();
    return m.find("x.npy") != std::string::npos && m.find("folder exists") != std::string::npos;
  });
  BOOST_TEST(!fs::exists(d / "no"));

  // The target is a folder: the rename fails, the temporary is removed, the folder survives.
  fs::create_directory(d / "dir.npy");
  BOOST_CHECK_THROW(io::save_npy(d / "dir.npy", t), io_error);
  BOOST_TEST(fs::is_directory(d / "dir.npy"));
  files = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(d.path)) ++files;
  BOOST_TEST(files == 2);  // w.npy and dir.npy

  // An undefined tensor is refused before anything is written.
  BOOST_CHECK_THROW(io::save_npy(d / "u.npy", tensor<float, cpu_ref>{}), io_error);
  BOOST_TEST(!fs::exists(d / "u.npy"));
}

BOOST_AUTO_TEST_SUITE_END()
