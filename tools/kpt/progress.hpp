#pragma once
// cli::progress: the progress display of long commands (kpt train, kpt eval, kpt adapt).
// On a terminal: one line redrawn in place, "[#####.....] 120/1000 12%  3.1 img/s  ETA 4m10s  loss 0.53".
// Otherwise (a log file, CI): a plain line at most every `quiet_every` seconds and at the end, so
// logs stay short.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

namespace kpt::cli {

class progress {
 public:
  // unit: what is counted ("steps", "pairs").
  // start: what was done before this process began (a resumed run), left out of the ETA.
  // rate_unit: what update's rate counts ("img/s").
  explicit progress(std::string unit, std::string rate_unit = "/s", std::int64_t start = 0, double quiet_every = 30.0)
      : unit_(std::move(unit)), rate_unit_(std::move(rate_unit)), quiet_every_(quiet_every), tty_(::isatty(::fileno(stderr)) != 0),
        t0_(clock::now()), last_(t0_), start_(start) {}

  // done of total; `rate` (in rate_unit; < 0 for none) and `note` are appended.
  void update(std::int64_t done, std::int64_t total, double rate = -1, const std::string& note = {}) {
    const auto now = clock::now();
    const bool end = done >= total;
    if (!tty_ && !end && std::chrono::duration<double>(now - last_).count() < quiet_every_) return;
    last_ = now;
    const double secs = std::chrono::duration<double>(now - t0_).count();
    std::string eta;
    if (done > start_ && !end) eta = "  ETA " + duration(secs / double(done - start_) * double(total - done));
    char head[160];
    std::snprintf(head, sizeof head, "%lld/%lld %s %3d%%", static_cast<long long>(done), static_cast<long long>(total),
                  unit_.c_str(), total > 0 ? int(100 * done / total) : 100);
    std::string line = std::string(head);
    if (rate >= 0) {
      char r[48];
      std::snprintf(r, sizeof r, "  %.1f %s", rate, rate_unit_.c_str());
      line += r;
    }
    line += eta + "  " + duration(secs) + " elapsed" + (note.empty() ? "" : "  " + note);
    if (tty_) {
      constexpr int width = 30;
      const int fill = total > 0 ? int(width * std::min(done, total) / total) : width;
      std::fprintf(stderr, "\r\033[K[%s%s] %s", std::string(std::size_t(fill), '#').c_str(),
                   std::string(std::size_t(width - fill), '.').c_str(), line.c_str());
      if (end) std::fputc('\n', stderr);
    } else {
      std::fprintf(stderr, "%s\n", line.c_str());
    }
    std::fflush(stderr);
  }

  // Ends a redrawn line early (an interruption or an error), so what follows starts on its own line.
  void finish_line() {
    if (tty_) std::fputc('\n', stderr);
  }

  static std::string duration(double s) {
    char b[32];
    if (s < 60) std::snprintf(b, sizeof b, "%.0fs", s);
    else if (s < 3600) std::snprintf(b, sizeof b, "%dm%02ds", int(s) / 60, int(s) % 60);
    else std::snprintf(b, sizeof b, "%dh%02dm", int(s) / 3600, int(s) % 3600 / 60);
    return b;
  }

 private:
  using clock = std::chrono::steady_clock;
  std::string unit_, rate_unit_;
  double quiet_every_;
  bool tty_;
  clock::time_point t0_, last_;
  std::int64_t start_ = 0;
};

}  // namespace kpt::cli
