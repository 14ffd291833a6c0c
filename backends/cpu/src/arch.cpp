#include "kpt/backends/cpu/arch.hpp"

#include "arch.hpp"

namespace kpt {

const char* cpu_arch() { return cpu_detail::arch_names[cpu_detail::selected_arch()].data(); }

bool cpu_bf16_dot() { return cpu_detail::bf16_dot_selected(); }

}  // namespace kpt
