#include "kpt/backends/cpu/arch.hpp"

#include "arch.hpp"

namespace kpt {

const char* cpu_arch() {
  static constexpr const char* names[] = {"avx512", "avx2", "sse2"};
  return names[cpu_detail::selected_arch()];
}

}  // namespace kpt
