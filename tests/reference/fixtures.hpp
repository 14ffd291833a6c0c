#pragma once
// PyTorch reference fixtures (tests/data/reference, written by tools/make_fixtures.py): loading
// and comparison. Inputs are stored in float32 (exactly widened to double here when a test runs
// in double); references are float64 computed by torch in float64; d<name> is the gradient of
// sum(y * R), i.e. what autograd::backward(y, R) must leave in <name>.grad().
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "kpt/backends/cpu.hpp"
#include "kpt/backends/cpu_ref.hpp"
#include "kpt/core/tensor.hpp"
#include "kpt/io/npy.hpp"

namespace kpt::reference {

namespace fs = std::filesystem;

inline fs::path root() { return fs::path(KPT_TEST_DATA_DIR) / "reference"; }

// Relative tolerance of a comparison with torch's float64 result: float32 arithmetic gives
// ~1e-6 relative (measured worst: 2.4e-5, grid_sample dx, from float grid coordinates), so 1e-4
// leaves room for other summation orders; double agrees with torch to ~1e-14 (measured).
template <class T>
inline constexpr double rtol = std::is_same_v<T, float> ? 1e-4 : 1e-12;
// Values smaller than this fraction of the largest |reference| are judged absolutely (at
// rtol * floor): a float sum that cancels to nearly zero has no meaningful relative error.
inline constexpr double floor_fraction = 1e-2;

// The case folders of a family, sorted (to check that a test covers every case on disk).
inline std::set<std::string> cases_on_disk(const std::string& family) {
  std::set<std::string> out;
  for (const auto& e : fs::directory_iterator(root() / family))
    if (e.is_directory()) out.insert(e.path().filename().string());
  return out;
}

// got vs a float64 reference: max |got - want| / max(|want|, floor) <= tol, reported as a test
// error naming `what`, the backend and the worst element. Returns the max relative error found
// (infinity when the result is undefined or mis-shaped).
template <class T, class B>
double check_close(const tensor<T, B>& got, const tensor<double, cpu_ref>& want, const std::string& name,
                   double tol = rtol<T>) {
  const std::string what = name + " on " + std::string(B::name) + (std::is_same_v<T, float> ? " float" : " double");
  if (!got.defined()) {
    BOOST_ERROR(what << ": the result (or gradient) is undefined");
    return std::numeric_limits<double>::infinity();
  }
  if (!(got.shape() == want.shape())) {
    BOOST_ERROR(what << ": shape " << got.shape().str() << ", torch has " << want.shape().str());
    return std::numeric_limits<double>::infinity();
  }
  const auto g = got.to_vector();
  const auto w = want.values();
  double scale = 0;
  for (double v : w) scale = std::max(scale, std::abs(v));
  const double floor = std::max(floor_fraction * scale, 1e-30);
  double worst = 0;
  std::size_t worst_i = 0;
  for (std::size_t i = 0; i < w.size(); ++i) {
    const double d = std::abs(double(g[i]) - w[i]) / std::max(std::abs(w[i]), floor);
    if (!(d <= worst)) worst = d, worst_i = i;  // NaN counts as the worst
    if (std::isnan(d)) break;
  }
  BOOST_TEST(worst <= tol, what << ": max relative error " << worst << " > " << tol << " at flat index " << worst_i
                                << " (kpt " << (w.empty() ? 0.0 : double(g[worst_i])) << ", torch "
                                << (w.empty() ? 0.0 : w[worst_i]) << ", max |torch| " << scale << ")");
  return worst;
}

class fixture {
 public:
  fixture(const std::string& family, const std::string& name) : fixture(root() / family / name) {}
  // A case folder elsewhere (tests/data/models/<case>, written by tools/make_model_fixtures.py).
  explicit fixture(fs::path dir) : dir_(std::move(dir)) {
    BOOST_REQUIRE_MESSAGE(fs::is_directory(dir_), "missing fixture folder " << dir_.string()
                                                                             << " (run the tools/make_*fixtures.py "
                                                                                "script that writes it)");
    std::ifstream f(dir_ / "params.json");
    std::ostringstream s;
    s << f.rdbuf();
    params_ = s.str();
  }
  const fs::path& dir() const { return dir_; }
  bool has(const std::string& name) const { return fs::exists(dir_ / (name + ".npy")); }

  // A stored float32/float64 array as tensor<T, B>, widened or narrowed explicitly here.
  template <class T, class B>
  tensor<T, B> input(const std::string& name) const {
    const auto p = dir_ / (name + ".npy");
    const auto h = io::read_npy_header(p);
    if (h.descr == io::npy_descr<T>()) return io::load_npy<T, B>(p);
    auto out = tensor<T, B>::empty(h.shape);
    if (h.descr == "<f4") {
      const auto v = io::load_npy<float>(p);
      std::transform(v.values().begin(), v.values().end(), out.values().begin(), [](float a) { return T(a); });
    } else {
      const auto v = io::load_npy<double>(p);
      std::transform(v.values().begin(), v.values().end(), out.values().begin(), [](double a) { return T(a); });
    }
    return out;
  }
  template <class B>
  tensor<std::int64_t, B> index(const std::string& name) const {
    return io::load_npy<std::int64_t, B>(dir_ / (name + ".npy"));
  }
  tensor<double, cpu_ref> reference(const std::string& name) const {
    return io::load_npy<double>(dir_ / (name + ".npy"));
  }

  // A number or boolean of params.json (flat, one key per line as json.dump writes it).
  double param(const std::string& key) const {
    const auto at = params_.find("\"" + key + "\":");
    BOOST_REQUIRE_MESSAGE(at != std::string::npos, "params.json of " << dir_.string() << " lacks '" << key << "'");
    std::istringstream s(params_.substr(at + key.size() + 3));
    std::string tok;
    s >> tok;
    if (!tok.empty() && tok.back() == ',') tok.pop_back();
    if (tok == "true") return 1;
    if (tok == "false") return 0;
    return std::stod(tok);
  }
  index_t integer(const std::string& key) const { return index_t(param(key)); }
  bool flag(const std::string& key) const { return param(key) != 0; }

  // got vs the stored float64 reference `name`: max |got - want| / max(|want|, floor) <= tol.
  // Returns the max relative error found.
  template <class T, class B>
  double check(const tensor<T, B>& got, const std::string& name, double tol = rtol<T>) const {
    const std::string what = (dir_.parent_path().filename() / dir_.filename() / name).string();
    return check_close(got, reference(name), what, tol);
  }

 private:
  fs::path dir_;
  std::string params_;
};

// Runs f.template operator()<T, B>() for float and double on cpu_ref and cpu.
template <class F>
void on_every_backend(F&& f) {
  f.template operator()<float, cpu_ref>();
  f.template operator()<float, cpu>();
  f.template operator()<double, cpu_ref>();
  f.template operator()<double, cpu>();
}

}  // namespace kpt::reference
