#pragma once
// What the command-line tests share: running build/bin/kpt (found next to the test executable:
// both go to ${CMAKE_RUNTIME_OUTPUT_DIRECTORY}; tools/CMakeLists.txt makes the tests depend on it),
// reading its output and training logs, and scratch folders.
#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <boost/test/unit_test.hpp>
#include <nlohmann/json.hpp>
#include <sys/wait.h>
#include <unistd.h>

#include "kpt/io/safetensors.hpp"

namespace kpt::cli_test {

namespace fs = std::filesystem;

// A training run's log.jsonl, one object per line.
inline std::vector<nlohmann::json> read_log(const fs::path& run) {
  std::vector<nlohmann::json> out;
  std::ifstream in(run / "log.jsonl");
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) out.push_back(nlohmann::json::parse(line));
  return out;
}

inline fs::path kpt_program() { return fs::read_symlink("/proc/self/exe").parent_path() / "kpt"; }

// Exit code of `kpt args`, stdout and stderr to `log`; a prefix such as "timeout -s INT 5" wraps it.
inline int run_kpt(const std::string& args, const fs::path& log, const std::string& prefix = {}) {
  const std::string cmd = prefix + (prefix.empty() ? "" : " ") + "'" + kpt_program().string() + "' " + args + " > '" +
                          log.string() + "' 2>&1";
  const int status = std::system(cmd.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

inline std::string read_text(const fs::path& p) {
  std::ifstream in(p);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// A path in single quotes, for a run_kpt command line.
inline std::string quote(const fs::path& p) { return "'" + p.string() + "'"; }

// Whether the output in `log` contains s; when not, the test log shows the whole output.
inline bool log_has(const fs::path& log, const std::string& s) {
  const bool ok = read_text(log).find(s) != std::string::npos;
  if (!ok) BOOST_TEST_MESSAGE("log lacks '" << s << "':\n" << read_text(log));
  return ok;
}

// The resume check every trainer has: `train` (a kpt train command line without --steps and --out)
// run for `steps` steps in one go into dir/whole, and for steps / 2 then `--resume dir/split --steps
// steps` into dir/split, with a checkpoint every steps / 2. The caller compares the two.
struct resumed_runs {
  fs::path whole, split;
  std::vector<nlohmann::json> whole_log, split_log;
};
inline resumed_runs run_whole_and_resumed(const std::string& train, int steps, const fs::path& dir) {
  resumed_runs r{dir / "whole", dir / "split", {}, {}};
  const std::string half = std::to_string(steps / 2), all = std::to_string(steps);
  BOOST_TEST_REQUIRE(run_kpt(train + " --steps " + all + " --checkpoint-every " + half + " --out " + quote(r.whole),
                             dir / "whole.txt") == 0,
                     read_text(dir / "whole.txt"));
  BOOST_TEST_REQUIRE(run_kpt(train + " --steps " + half + " --checkpoint-every " + half + " --out " + quote(r.split),
                             dir / "split.txt") == 0,
                     read_text(dir / "split.txt"));
  BOOST_TEST_REQUIRE(run_kpt("train --resume " + quote(r.split) + " --steps " + all, dir / "resume.txt") == 0,
                     read_text(dir / "resume.txt"));
  r.whole_log = read_log(r.whole);
  r.split_log = read_log(r.split);
  BOOST_TEST_REQUIRE(r.whole_log.size() == std::size_t(steps));
  BOOST_TEST_REQUIRE(r.split_log.size() == std::size_t(steps));
  for (int i = 0; i < steps; ++i) BOOST_TEST(r.split_log[std::size_t(i)]["step"].get<int>() == i + 1);
  return r;
}

// Two safetensors files hold the same tensors, bit for bit (each differing tensor is named).
inline void check_same_tensors(const fs::path& a, const fs::path& b) {
  const kpt::io::safetensors_file fa(a), fb(b);
  BOOST_TEST_REQUIRE(fa.tensors().size() == fb.tensors().size(), a << " vs " << b);
  for (const auto& t : fa.tensors()) {
    const auto x = fa.bytes(t.name), y = fb.bytes(t.name);
    BOOST_TEST(std::equal(x.begin(), x.end(), y.begin(), y.end()), a.filename() << ": " << t.name);
  }
}

// A fresh folder under the system temp dir, removed at the end of the test.
struct temp_dir {
  fs::path path;
  explicit temp_dir(const std::string& tag)
      : path(fs::temp_directory_path() / ("kpt_" + tag + "_" + std::to_string(::getpid()))) {
    std::error_code ec;
    fs::remove_all(path, ec);
    fs::create_directories(path);
  }
  ~temp_dir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

}  // namespace kpt::cli_test
