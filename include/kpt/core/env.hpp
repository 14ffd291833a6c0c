#pragma once
// Switches read from the environment (KPT_EXACT_CONV, KPT_NO_BLOCK_CACHE): on when the variable is
// set to anything but "0".
#include <cstdlib>
#include <cstring>

namespace kpt::detail {

inline bool env_flag(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr && std::strcmp(v, "0") != 0;
}

}  // namespace kpt::detail
