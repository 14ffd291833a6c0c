#include "support.hpp"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "kpt/io/safetensors.hpp"

using namespace kpt;
namespace fs = std::filesystem;

namespace {

const fs::path fixtures = fs::path(KPT_TEST_DATA_DIR) / "safetensors";

struct temp_dir {
  fs::path path;
  temp_dir() {
    static int counter = 0;
    path = fs::temp_directory_path() / ("kpt_st_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
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

// A file with the given JSON header text and `data` as its buffer.
std::string st_bytes(const std::string& header, const std::string& data) {
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[std::size_t(i)] = char((std::uint64_t(header.size()) >> (8 * i)) & 0xff);
  return out + header + data;
}

// Runs f, which must throw io_error whose message contains every part.
template <class F>
void expect_io_error(F&& f, std::initializer_list<std::string> parts) {
  try {
    f();
    BOOST_ERROR("no io_error thrown (expected one mentioning '" << *parts.begin() << "')");
  } catch (const io_error& e) {
    const std::string m = e.what();
    for (const auto& part : parts) BOOST_TEST(m.find(part) != std::string::npos, "message lacks '" << part << "': " << m);
  }
}
void expect_bad_file(const std::string& bytes, std::initializer_list<std::string> parts) {
  temp_dir d;
  const auto p = d / "bad.safetensors";
  write_bytes(p, bytes);
  expect_io_error([&] { io::safetensors_file f(p); }, parts);
  expect_io_error([&] { (void)io::read_safetensors_header(p); }, parts);
}

template <class T>
bool same_bits(T a, T b) {
  return std::memcmp(&a, &b, sizeof(T)) == 0;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(safetensors)

BOOST_AUTO_TEST_CASE(half_conversions_are_exact_inverses) {
  for (std::uint32_t h = 0; h < 65536; ++h) {
    const double f16 = io::from_f16_bits(std::uint16_t(h)), bf16 = io::from_bf16_bits(std::uint16_t(h));
    if (std::isnan(f16)) BOOST_TEST(std::isnan(io::from_f16_bits(io::to_f16_bits(f16))));
    else BOOST_TEST(io::to_f16_bits(f16) == h);
    if (std::isnan(bf16)) BOOST_TEST(std::isnan(io::from_bf16_bits(io::to_bf16_bits(bf16))));
    else BOOST_TEST(io::to_bf16_bits(bf16) == h);
  }
  BOOST_TEST(io::from_f16_bits(0x3c00) == 1.0);
  BOOST_TEST(io::from_f16_bits(0x7bff) == 65504.0);
  BOOST_TEST(io::from_f16_bits(0x0001) == std::ldexp(1.0, -24));
  BOOST_TEST(io::to_f16_bits(65520.0) == 0x7c00);       // rounds up to inf
  BOOST_TEST(io::to_f16_bits(65519.99) == 0x7bff);      // still the largest finite
  BOOST_TEST(io::to_f16_bits(1.0 + std::ldexp(1.0, -11)) == 0x3c00);  // tie to even (down)
  BOOST_TEST(io::to_f16_bits(std::ldexp(1.0, -25)) == 0x0000);          // tie to even (zero)
  BOOST_TEST(io::to_f16_bits(-0.0) == 0x8000);
  BOOST_TEST(io::to_bf16_bits(1.0) == 0x3f80);
  BOOST_TEST(io::to_bf16_bits(1.0 + std::ldexp(1.0, -8)) == 0x3f80);    // tie to even (down)
  BOOST_TEST(io::to_bf16_bits(1.0 + 3 * std::ldexp(1.0, -8)) == 0x3f82);  // tie to even (up)
}

BOOST_AUTO_TEST_CASE(reads_every_dtype_written_by_python) {
  io::safetensors_file f(fixtures / "py_all_dtypes.safetensors");
  BOOST_TEST(f.tensors().size() == 9u);
  BOOST_TEST(f.metadata().at("format") == "pt");
  BOOST_TEST(f.metadata().at("creator") == "make_safetensors_fixtures.py");

  auto f32 = f.get<float>("f32");
  BOOST_TEST(f32.shape() == (shape{2, 3, 4}));
  for (int i = 0; i < 24; ++i) BOOST_TEST(f32.values()[std::size_t(i)] == float((i - 12) * 0.375));
  BOOST_TEST((f.info("f32").dtype == io::dtype::f32));

  auto f64 = f.get<double>("f64");
  const std::vector<double> want64{1.0 / 3.0, -2.5, 1e300, -0.0, 5e-324};
  for (std::size_t i = 0; i < want64.size(); ++i) BOOST_TEST(same_bits(f64.values()[i], want64[i]));

  const std::vector<double> want16{0.5, -1.25, 65504.0, std::ldexp(1.0, -24)};
  auto f16 = f.get<double>("f16");
  BOOST_TEST(f16.shape() == (shape{2, 2}));
  for (std::size_t i = 0; i < 4; ++i) BOOST_TEST(f16.values()[i] == want16[i]);
  auto f16f = f.get<float, cpu>("f16");  // the fast backend reads the same way
  for (std::size_t i = 0; i < 4; ++i) BOOST_TEST(f16f.values()[i] == float(want16[i]));

  auto bf16 = f.get<float>("bf16");
  BOOST_TEST(bf16.values()[0] == 1.0f);
  BOOST_TEST(bf16.values()[1] == -3.140625f);
  BOOST_TEST(bf16.values()[2] == std::ldexp(1.0f, 100));

  auto i64 = f.get<std::int64_t>("i64");
  BOOST_TEST(i64.values()[0] == -(std::int64_t(1) << 62));
  BOOST_TEST(i64.values()[3] == 123456789012);
  auto i32 = f.get<std::int32_t>("i32");
  BOOST_TEST(i32.values()[0] == INT32_MIN);
  BOOST_TEST(i32.values()[2] == INT32_MAX);
  auto u8 = f.get<std::uint8_t>("u8");
  BOOST_TEST(u8.values()[3] == 255);

  auto s = f.get<float>("scalar");
  BOOST_TEST(s.rank() == 0);
  BOOST_TEST(s.item() == 2.5f);
  auto e = f.get<float>("empty");
  BOOST_TEST(e.shape() == (shape{0, 3}));
  BOOST_TEST(e.numel() == 0);

  // No silent int <-> float conversion; a clear error on a missing name.
  expect_io_error([&] { (void)f.get<float>("i64"); }, {"'i64'", "I64", "cannot be read as F32", "py_all_dtypes"});
  expect_io_error([&] { (void)f.get<std::int64_t>("f32"); }, {"'f32'", "F32", "I64"});
  expect_io_error([&] { (void)f.get<float>("nope"); }, {"no tensor 'nope'", "9 tensors"});
}

BOOST_AUTO_TEST_CASE(f16_and_bf16_rounding_match_numpy_and_torch) {
  io::safetensors_file f(fixtures / "rounding.safetensors");
  auto src = f.get<float>("src");
  io::safetensors_writer w;
  w.add("f16", src, io::dtype::f16).add("bf16", src, io::dtype::bf16);
  temp_dir d;
  w.write(d / "r.safetensors");
  io::safetensors_file back(d / "r.safetensors");
  for (const char* name : {"f16", "bf16"}) {
    const auto mine = back.bytes(name), theirs = f.bytes(name);
    BOOST_REQUIRE(mine.size() == theirs.size());
    std::size_t mismatches = 0;
    for (std::size_t i = 0; i < mine.size(); i += 2) {
      std::uint16_t a, b;
      std::memcpy(&a, mine.data() + i, 2);
      std::memcpy(&b, theirs.data() + i, 2);
      const bool nan = std::isnan(src.values()[i / 2]);
      if (nan ? (a & 0x7fff) <= (std::string(name) == "f16" ? 0x7c00 : 0x7f80) : a != b) ++mismatches;
    }
    BOOST_TEST(mismatches == 0u, name << ": " << mismatches << " values rounded differently");
  }
  // Reading converts exactly as torch's .float() does.
  for (const char* name : {"f16", "bf16"}) {
    const auto mine = f.get<float>(name);
    const auto theirs = f.get<float>(std::string(name) + "_as_f32");
    for (index_t i = 0; i < mine.numel(); ++i) {
      const float a = mine.values()[std::size_t(i)], b = theirs.values()[std::size_t(i)];
      BOOST_TEST((std::isnan(a) ? std::isnan(b) : same_bits(a, b)), name << "[" << i << "]: " << a << " vs " << b);
    }
  }
}

BOOST_AUTO_TEST_CASE(loads_a_converted_pytorch_state_dict_by_name) {
  // The names, shapes and dtypes a tiny torch module (conv, batch norm, linear) expects.
  std::vector<std::pair<std::string, tensor<float, cpu_ref>>> params = {
      {"stem.conv.weight", tensor<float, cpu_ref>::zeros({3, 2, 3, 3})}, {"stem.conv.bias", tensor<float, cpu_ref>::zeros({3})},
      {"stem.bn.weight", tensor<float, cpu_ref>::zeros({3})},          {"stem.bn.bias", tensor<float, cpu_ref>::zeros({3})},
      {"stem.bn.running_mean", tensor<float, cpu_ref>::zeros({3})},    {"stem.bn.running_var", tensor<float, cpu_ref>::zeros({3})},
      {"head.weight", tensor<float, cpu_ref>::zeros({2, 3})},          {"head.bias", tensor<float, cpu_ref>::zeros({2})}};
  auto tracked = tensor<std::int64_t, cpu_ref>::zeros({});
  io::state_loader l;
  l.bind_all(params).bind("stem.bn.num_batches_tracked", tracked);
  const auto report = l.load(fixtures / "tiny_net.safetensors");
  BOOST_TEST(report.loaded.size() == 9u);
  BOOST_TEST(tracked.item() == 5);
  for (const auto& [name, t] : params) {  // every value is linspace(-1, 1, numel)
    const index_t n = t.numel();
    for (index_t i = 0; i < n; ++i)
      BOOST_TEST(std::abs(t.values()[std::size_t(i)] - (n == 1 ? -1.0 : -1.0 + 2.0 * double(i) / double(n - 1))) < 1e-6,
                 name << "[" << i << "]");
  }
  // Loading into a sub-network: the file's "stem." prefix maps to the bare names.
  auto w = tensor<double, cpu_ref>::zeros({3, 2, 3, 3});
  auto b = tensor<double, cpu_ref>::zeros({3});
  io::state_loader sub;
  sub.bind("conv.weight", w).bind("conv.bias", b);
  const auto r2 = sub.load(fixtures / "tiny_net.safetensors",
                           {.rename_prefix = {{"stem.", ""}}, .allow_unexpected = true});
  BOOST_TEST(r2.loaded.size() == 2u);
  BOOST_TEST(r2.unexpected.size() == 7u);
  BOOST_TEST(w.values().back() == 1.0);
  BOOST_TEST(b.values()[0] == -1.0);
}

BOOST_AUTO_TEST_CASE(round_trips_every_dtype) {
  temp_dir d;
  const auto x = test::random_tensor<float, cpu_ref>({3, 4, 5}, 1, -100, 100);
  const auto xd = test::random_tensor<double, cpu_ref>({2, 7}, 2);
  auto i64 = tensor<std::int64_t, cpu_ref>::from({4}, {INT64_MIN, -1, 0, INT64_MAX});
  auto i32 = tensor<std::int32_t, cpu_ref>::from({2}, {-5, 7});
  auto u8 = tensor<std::uint8_t, cpu_ref>::from({3}, {0, 9, 255});
  io::safetensors_writer w;
  w.add("x.f32", x).add("x.f64", x, io::dtype::f64).add("x.f16", x, io::dtype::f16).add("x.bf16", x, io::dtype::bf16);
  w.add("xd.f64", xd).add("xd.f32", xd, io::dtype::f32);
  w.add("i64", i64).add("i32", i32).add("u8", u8);
  w.add("scalar", tensor<float, cpu_ref>::scalar(-7.5f)).add("empty", tensor<double, cpu_ref>::zeros({4, 0}));
  w.add("cpu", x.to<cpu>());
  w.set_metadata("note", "caf\xc3\xa9 \"quoted\"\n").set_metadata("step", "12");
  w.write(d / "all.safetensors");
  io::safetensors_file f(d / "all.safetensors");
  BOOST_TEST(f.metadata().at("note") == "caf\xc3\xa9 \"quoted\"\n");
  BOOST_TEST(f.metadata().at("step") == "12");
  BOOST_TEST(f.get<float>("x.f32").to_vector() == x.to_vector());
  BOOST_TEST(f.get<float>("x.f64").to_vector() == x.to_vector());  // float -> double -> float is exact
  BOOST_TEST(f.get<float>("cpu").to_vector() == x.to_vector());
  BOOST_TEST(f.get<double>("xd.f64").to_vector() == xd.to_vector());
  const auto xd32 = f.get<double>("xd.f32").to_vector();
  for (std::size_t i = 0; i < xd32.size(); ++i) BOOST_TEST(xd32[i] == double(float(xd.values()[i])));
  const auto h = f.get<float>("x.f16").to_vector(), bh = f.get<float>("x.bf16").to_vector();
  for (std::size_t i = 0; i < h.size(); ++i) {
    const double v = x.values()[i];
    BOOST_TEST(std::abs(h[i] - v) <= std::abs(v) * std::ldexp(1.0, -11) + 1e-7);
    BOOST_TEST(std::abs(bh[i] - v) <= std::abs(v) * std::ldexp(1.0, -8));
    BOOST_TEST(h[i] == float(io::from_f16_bits(io::to_f16_bits(v))));
  }
  BOOST_TEST(f.get<std::int64_t>("i64").to_vector() == i64.to_vector());
  BOOST_TEST(f.get<std::int32_t>("i32").to_vector() == i32.to_vector());
  BOOST_TEST(f.get<std::uint8_t>("u8").to_vector() == u8.to_vector());
  BOOST_TEST(f.get<float>("scalar").item() == -7.5f);
  BOOST_TEST(f.get<double>("empty").shape() == (shape{4, 0}));
  // The buffer is 8-byte aligned after the header.
  BOOST_TEST(io::read_safetensors_header(d / "all.safetensors").header_bytes % 8 == 0u);

  // save_safetensors / load_safetensors / load_all over named ranges.
  std::map<std::string, tensor<float, cpu_ref>> m{{"a", x}, {"b", tensor<float, cpu_ref>::scalar(1.f)}};
  io::save_safetensors(d / "m.safetensors", m, {{"k", "v"}}, io::dtype::bf16);
  BOOST_TEST((io::read_safetensors_header(d / "m.safetensors").find("a")->dtype == io::dtype::bf16));
  std::map<std::string, tensor<float, cpu_ref>> into{{"a", tensor<float, cpu_ref>::zeros({3, 4, 5})}, {"b", tensor<float, cpu_ref>::zeros({})}};
  io::load_safetensors(d / "m.safetensors", into);
  BOOST_TEST(into.at("a").to_vector() == f.get<float>("x.bf16").to_vector());
  BOOST_TEST(io::load_all<double>(d / "m.safetensors").size() == 2u);
}

BOOST_AUTO_TEST_CASE(cpp_written_file_matches_the_fixture_python_checks) {
  // Keep in sync with kpt_fixture_expected() in tools/pth_to_safetensors.py.
  io::safetensors_writer w;
  std::vector<float> a(6), src(6);
  std::vector<double> b(4);
  for (int i = 0; i < 6; ++i) a[std::size_t(i)] = float(i * 0.5 - 1.0);
  for (int i = 0; i < 4; ++i) b[std::size_t(i)] = 1.0 / (i + 1);
  for (int i = 0; i < 6; ++i) src[std::size_t(i)] = float(i * 0.1 - 0.3);
  w.add("a", tensor<float, cpu_ref>::from({2, 3}, a));
  w.add("b", tensor<double, cpu_ref>::from({4}, b));
  w.add("c.half", tensor<float, cpu_ref>::from({3, 2}, src), io::dtype::f16);
  w.add("d.bf16", tensor<float, cpu_ref>::from({3, 2}, src), io::dtype::bf16);
  w.add("e", tensor<std::int64_t, cpu_ref>::from({3}, {-1, 0, std::int64_t(1) << 40}));
  w.add("s", tensor<float, cpu_ref>::scalar(3.25f));
  w.add("z", tensor<float, cpu_ref>::zeros({0, 3}));
  w.set_metadata("writer", "kpt").set_metadata("note", "caf\xc3\xa9 \"quoted\"");
  const fs::path fixture = fixtures / "cpp_written.safetensors";
  if (const char* regen = std::getenv("KPT_REGENERATE_FIXTURES"); regen && std::string(regen) == "1") {
    w.write(fixture);
    BOOST_TEST_MESSAGE("wrote " << fixture << "; check it with tools/pth_to_safetensors.py --verify-kpt-fixture");
  }
  BOOST_REQUIRE_MESSAGE(fs::exists(fixture), "missing " << fixture << " (KPT_REGENERATE_FIXTURES=1 writes it)");
  BOOST_TEST((w.bytes() == read_bytes(fixture)), "kpt now writes other bytes than the committed fixture");
}

BOOST_AUTO_TEST_CASE(writes_are_atomic_and_errors_name_the_file) {
  temp_dir d;
  const auto p = d / "w.safetensors";
  io::safetensors_writer w1, w2;
  w1.add("a", tensor<float, cpu_ref>::ones({2}));
  w2.add("a", tensor<float, cpu_ref>::zeros({3}));
  w1.write(p);
  w2.write(p);  // replaces the old file
  BOOST_TEST(io::safetensors_file(p).get<float>("a").numel() == 3);
  std::size_t files = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(d.path)) ++files;
  BOOST_TEST(files == 1u);  // no temporary left behind
  expect_io_error([&] { w1.write(d / "no" / "such" / "dir.safetensors"); }, {"dir.safetensors", "folder"});
  BOOST_TEST(!fs::exists(d / "no"));
  expect_io_error([&] { w1.write(d.path); }, {"is not a folder"});

  io::safetensors_writer w;
  expect_io_error([&] { w.add("", tensor<float, cpu_ref>::ones({1})); }, {"empty"});
  expect_io_error([&] { w.add("__metadata__", tensor<float, cpu_ref>::ones({1})); }, {"reserved"});
  expect_io_error([&] { w.add("x", tensor<float, cpu_ref>{}); }, {"'x'", "undefined"});
  expect_io_error([&] { w.add("i", tensor<std::int64_t, cpu_ref>::ones({1}), io::dtype::f32); }, {"'i'", "I64", "F32"});
  w.add("x", tensor<float, cpu_ref>::ones({1}));
  expect_io_error([&] { w.add("x", tensor<float, cpu_ref>::ones({1})); }, {"'x'", "twice"});
  expect_io_error([&] { io::safetensors_file f(d / "missing.safetensors"); }, {"cannot open", "missing.safetensors"});
}

BOOST_AUTO_TEST_CASE(every_corruption_is_an_io_error_naming_the_problem) {
  const std::string data16(16, '\0');
  const std::string good = R"({"w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]}})";
  {  // the well-formed baseline reads
    temp_dir d;
    write_bytes(d / "ok.safetensors", st_bytes(good, data16));
    BOOST_TEST(io::safetensors_file(d / "ok.safetensors").get<float>("w").numel() == 4);
  }
  const std::string file = st_bytes(good, data16);
  expect_bad_file(file.substr(0, 5), {"bad.safetensors", "too short", "8-byte header length"});
  expect_bad_file(file.substr(0, file.size() - 1), {"'w'", "data_offsets [0, 16]", "beyond", "15 bytes", "truncated"});
  expect_bad_file(file.substr(0, 30), {"announces a JSON header", "truncated"});
  {
    std::string big = file;
    big[5] = '\x01';  // a header length of 2^40 + ...
    expect_bad_file(big, {"announces a JSON header", "bytes"});
  }
  expect_bad_file(st_bytes(R"({"w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]})", data16),
                  {"not well-formed JSON"});
  expect_bad_file(st_bytes(R"({"w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},})", data16),
                  {"not well-formed JSON", "re-export"});
  expect_bad_file(st_bytes(R"(["w"])", ""), {"does not start with '{'"});
  expect_bad_file(st_bytes("", ""), {"does not start with '{'"});
  expect_bad_file(st_bytes(R"({"w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,32]}})", data16),
                  {"'w'", "[0, 32]", "beyond its data buffer of 16 bytes"});
  expect_bad_file(st_bytes(R"({"w":{"dtype":"F32","shape":[2,2],"data_offsets":[8,0]}})", data16),
                  {"'w'", "end before they begin"});
  expect_bad_file(st_bytes(R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,12]},)"
                           R"("b":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}})",
                           data16),
                  {"overlapping", "'a'", "'b'"});
  expect_bad_file(st_bytes(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                           R"("b":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}})",
                           data16),
                  {"hole", "before tensor 'b'", "[4, 8)"});
  expect_bad_file(st_bytes(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", data16),
                  {"8 bytes at the end", "belong to no tensor"});
  expect_bad_file(st_bytes(R"({"w":{"dtype":"F32","shape":[2,3],"data_offsets":[0,16]}})", data16),
                  {"'w'", "shape [2, 3] of F32 (24 bytes)", "span 16 bytes"});
  expect_bad_file(st_bytes(R"({"w":{"dtype":"F64","shape":[2,2],"data_offsets":[0,16]}})", data16),
                  {"'w'", "F64 (32 bytes)"});
  expect_bad_file(st_bytes(R"({"w":{"dtype":"F8_E4M3","shape":[16],"data_offsets":[0,16]}})", data16),
                  {"'w'", "F8_E4M3", "supported: F16, BF16, F32, F64"});
  expect_bad_file(st_bytes(R"({"w":{"dtype":"F32","shape":[-2,-2],"data_offsets":[0,16]}})", data16),
                  {"'w'", "not a non-negative integer"});
  expect_bad_file(st_bytes(R"({"w":{"dtype":"F32","shape":[1,1,1,1,2,2],"data_offsets":[0,16]}})", data16),
                  {"'w'", "rank 6"});
  expect_bad_file(st_bytes(R"({"w":{"dtype":"F32","shape":[4],"data_offsets":[0]}})", data16),
                  {"'w'", "data_offsets"});
  expect_bad_file(st_bytes(R"({"w":{"dtype":"F32","shape":[4]}})", data16), {"'w'", "data_offsets"});
  expect_bad_file(st_bytes(R"({"w":{"shape":[4],"data_offsets":[0,16]}})", data16), {"'w'", "dtype"});
  expect_bad_file(st_bytes(R"({"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16],"extra":1}})", data16),
                  {"'w'", "unknown field 'extra'"});
  expect_bad_file(st_bytes(R"({"w":[1,2]})", data16), {"'w'", "not an object"});
  expect_bad_file(st_bytes(R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                           R"("w":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}})",
                           data16),
                  {"duplicate", "'w'"});
  expect_bad_file(st_bytes(R"({"__metadata__":{"k":1},"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})", data16),
                  {"'__metadata__'", "'k'", "not a string"});
}

BOOST_AUTO_TEST_CASE(loader_lists_missing_unexpected_and_misshaped_keys_by_name) {
  temp_dir d;
  io::safetensors_writer w;
  w.add("enc.conv1.weight", tensor<float, cpu_ref>::ones({4, 1, 3, 3}))
      .add("enc.conv1.bias", tensor<float, cpu_ref>::ones({4}))
      .add("enc.conv2.weight", tensor<float, cpu_ref>::ones({8, 4, 3, 3}))
      .add("old.head.weight", tensor<float, cpu_ref>::ones({2}))
      .add("bn.num_batches_tracked", tensor<float, cpu_ref>::ones({}));
  w.write(d / "w.safetensors");

  auto c1w = tensor<float, cpu_ref>::zeros({4, 1, 3, 3});
  auto c1b = tensor<float, cpu_ref>::full({4}, 7.f);
  auto c2w = tensor<float, cpu_ref>::zeros({8, 4, 5, 5});  // mis-shaped
  auto head = tensor<float, cpu_ref>::zeros({2});           // missing
  auto nbt = tensor<std::int64_t, cpu_ref>::zeros({});      // F32 in the file: incompatible dtype
  io::state_loader l;
  l.bind("enc.conv1.weight", c1w).bind("enc.conv1.bias", c1b).bind("enc.conv2.weight", c2w);
  l.bind("head.weight", head).bind("bn.num_batches_tracked", nbt);
  expect_io_error([&] { l.load(d / "w.safetensors"); },
                  {"w.safetensors", "1 missing", "'head.weight'", "1 unexpected", "'old.head.weight'", "1 mis-shaped",
                   "'enc.conv2.weight': file [8, 4, 3, 3], expected [8, 4, 5, 5]", "incompatible dtype",
                   "'bn.num_batches_tracked': file F32, expected I64", "rename_prefix"});
  BOOST_TEST(c1b.values()[0] == 7.f);  // nothing was written

  // With the prefix mapped, only the real problems remain.
  try {
    l.load(d / "w.safetensors", {.rename_prefix = {{"old.", ""}}});
    BOOST_ERROR("no io_error thrown");
  } catch (const io_error& e) {
    const std::string m = e.what();
    BOOST_TEST(m.find("'enc.conv2.weight'") != std::string::npos, m);
    BOOST_TEST(m.find("missing (bound") == std::string::npos, m);
    BOOST_TEST(m.find("unexpected (in") == std::string::npos, m);
  }
  // A renamed key is reported under both names.
  auto h3 = tensor<float, cpu_ref>::zeros({3});
  io::state_loader renamed;
  renamed.bind("head.weight", h3);
  expect_io_error([&] { renamed.load(d / "w.safetensors", {.rename_prefix = {{"old.", ""}}, .allow_unexpected = true}); },
                  {"'old.head.weight' (as 'head.weight'): file [2], expected [3]"});

  // Partial loads when asked for.
  io::state_loader part;
  auto other = tensor<float, cpu_ref>::zeros({3});
  part.bind("enc.conv1.bias", c1b).bind("not.there", other);
  const auto r = part.load(d / "w.safetensors", {.allow_missing = true, .allow_unexpected = true});
  BOOST_TEST(r.loaded == std::vector<std::string>{"enc.conv1.bias"});
  BOOST_TEST(r.missing == std::vector<std::string>{"not.there"});
  BOOST_TEST(r.unexpected.size() == 4u);
  BOOST_TEST(c1b.values()[0] == 1.f);

  // Two file keys that map to one name.
  io::state_loader col;
  col.bind("conv1.bias", c1b);
  expect_io_error([&] { col.load(d / "w.safetensors", {.rename_prefix = {{"enc.", ""}, {"old.head.", "conv1."}}, .allow_unexpected = true}); },
                  {"collision", "'old.head.weight' and 'enc.conv1.weight' both map to 'conv1.weight'"});
  expect_io_error([&] { l.bind("enc.conv1.bias", c1b); }, {"bound twice"});
  expect_io_error([&] { l.bind("u", tensor<float, cpu_ref>{}); }, {"'u'", "undefined"});

  // read_into checks the shape.
  io::safetensors_file f(d / "w.safetensors");
  expect_io_error([&] { f.read_into("enc.conv2.weight", c2w); }, {"'enc.conv2.weight'", "[8, 4, 3, 3]", "[8, 4, 5, 5]"});
  expect_io_error([&] { (void)f.info("conv2.weight"); }, {"no tensor 'conv2.weight'", "similar", "'enc.conv2.weight'"});
}

BOOST_AUTO_TEST_SUITE_END()
