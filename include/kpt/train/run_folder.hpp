#pragma once
// train::run_folder: the folder of one training run.
//
//   RUN/config.json                     the run's complete configuration (written once, atomically)
//   RUN/log.jsonl                       one JSON object per logged step: step, every loss term,
//                                       learning rate, images/s, seconds since the start
//   RUN/checkpoints/step-00001000.safetensors   weights + optimiser state + metadata (checkpoint.hpp)
//   RUN/weights.safetensors             the final weights alone (what `kpt detect --weights` loads)
//
// Checkpoints are written atomically and the oldest are deleted only after a newer one is
// complete, so a crash at any moment leaves at least one good checkpoint.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "kpt/core/error.hpp"
#include "kpt/core/shape.hpp"
#include "kpt/io/atomic_file.hpp"

namespace kpt::train {

class run_folder {
 public:
  explicit run_folder(std::filesystem::path dir) : dir_(std::move(dir)) {
    std::error_code ec;
    std::filesystem::create_directories(dir_ / "checkpoints", ec);
    require<io_error>(!ec && std::filesystem::is_directory(dir_ / "checkpoints"), "run folder: cannot create '",
                      (dir_ / "checkpoints").string(), "' (", ec.message(), "); choose a writable --out folder");
  }

  const std::filesystem::path& dir() const { return dir_; }
  std::filesystem::path config_path() const { return dir_ / "config.json"; }
  std::filesystem::path log_path() const { return dir_ / "log.jsonl"; }
  std::filesystem::path weights_path() const { return dir_ / "weights.safetensors"; }
  std::filesystem::path checkpoint_path(index_t step) const {
    char name[48];
    std::snprintf(name, sizeof name, "step-%08lld.safetensors", static_cast<long long>(step));
    return dir_ / "checkpoints" / name;
  }

  bool has_config() const { return std::filesystem::exists(config_path()); }
  void write_config(const nlohmann::json& config) const {
    io::write_file_atomic(config_path(), config.dump(2) + "\n", "run folder");
  }
  nlohmann::json read_config() const {
    std::ifstream in(config_path());
    require<io_error>(bool(in), "run folder: '", config_path().string(), "' is missing; is '", dir_.string(),
                      "' a kpt training run (made by kpt train --out)?");
    try {
      return nlohmann::json::parse(in);
    } catch (const nlohmann::json::exception& e) {
      throw io_error("run folder: '" + config_path().string() + "' is not valid JSON (" + e.what() + ")");
    }
  }

  // Checkpoints on disk, oldest first.
  std::vector<std::pair<index_t, std::filesystem::path>> checkpoints() const {
    std::vector<std::pair<index_t, std::filesystem::path>> out;
    for (const auto& e : std::filesystem::directory_iterator(dir_ / "checkpoints")) {
      const std::string n = e.path().filename().string();
      if (!n.starts_with("step-") || !n.ends_with(".safetensors")) continue;
      try {
        out.emplace_back(std::stoll(n.substr(5, n.size() - 5 - 12)), e.path());
      } catch (const std::exception&) {
      }
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  // Deletes all but the newest `keep` checkpoints (keep >= 1).
  void prune(int keep) const {
    auto all = checkpoints();
    for (std::size_t i = 0; i + std::size_t(std::max(keep, 1)) < all.size(); ++i) {
      std::error_code ec;
      std::filesystem::remove(all[i].second, ec);
    }
  }

  // Appends one line to log.jsonl and flushes it.
  void log(const nlohmann::json& line) const {
    std::ofstream out(log_path(), std::ios::app);
    out << line.dump() << "\n";
    out.flush();
    require<io_error>(bool(out), "run folder: cannot append to '", log_path().string(), "'; is the disk full?");
  }

  // Keeps only the log lines of steps <= step (a resumed run repeats the steps after its checkpoint).
  void truncate_log(index_t step) const {
    std::ifstream in(log_path());
    if (!in) return;
    std::ostringstream kept;
    std::string line;
    while (std::getline(in, line)) {
      if (line.empty()) continue;
      try {
        if (nlohmann::json::parse(line).value("step", index_t(0)) > step) continue;
      } catch (const nlohmann::json::exception&) {
        continue;  // a line cut by a crash
      }
      kept << line << "\n";
    }
    io::write_file_atomic(log_path(), kept.str(), "run folder");
  }

 private:
  std::filesystem::path dir_;
};

}  // namespace kpt::train
