#pragma once
// What the command-line tests share: running build/bin/kpt (found next to the test executable:
// both go to ${CMAKE_RUNTIME_OUTPUT_DIRECTORY}; tools/CMakeLists.txt makes the tests depend on it),
// reading its output and training logs, and scratch folders.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <sys/wait.h>
#include <unistd.h>

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
