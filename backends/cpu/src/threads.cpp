#include "kpt/backends/cpu/threads.hpp"

#include <tbb/global_control.h>
#include <tbb/info.h>

#include <memory>
#include <mutex>

#include "kpt/core/error.hpp"

namespace kpt {
namespace {
std::mutex& control_mutex() {
  static std::mutex m;
  return m;
}
std::unique_ptr<tbb::global_control>& control() {
  static std::unique_ptr<tbb::global_control> c;
  return c;
}
}  // namespace

void set_num_threads(int n) {
  require<value_error>(n >= 1, "set_num_threads: n must be at least 1, got ", n);
  std::lock_guard lock(control_mutex());
  control().reset();  // one global_control at a time, so the new limit is the one in force
  control() = std::make_unique<tbb::global_control>(tbb::global_control::max_allowed_parallelism,
                                                    std::size_t(n));
}

int num_threads() {
  return int(tbb::global_control::active_value(tbb::global_control::max_allowed_parallelism));
}

}  // namespace kpt
