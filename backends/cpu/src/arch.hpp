#pragma once
// The instruction sets kpt::cpu compiles each kernel for, best first. Every *_simd.hpp kernel is
// explicitly instantiated once per arch in a translation unit compiled with that arch's flags
// (CMake generates them: see backends/cpu/CMakeLists.txt); the dispatch code below picks the
// best one the running CPU supports.
#include <xsimd/xsimd.hpp>

#include <cstdlib>
#include <iterator>
#include <string_view>

#include "kpt/core/error.hpp"

namespace kpt::cpu_detail {

// The names of (avx512bw, fma3<avx2>, sse2), as KPT_CPU_ARCH and kpt::cpu_arch() spell them.
inline constexpr std::string_view arch_names[] = {"avx512", "avx2", "sse2"};

// Position in arch_names of the arch the kernels run with: the best this CPU supports, or a lower
// one named by KPT_CPU_ARCH, read once. The override lets the tests run every compiled path on one
// machine and the benchmarks compare them.
inline int selected_arch() {
  static const int selected = [] {
    const unsigned best = xsimd::available_architectures().best;
    const int supported = best >= xsimd::avx512bw::version()           ? 0
                          : best >= xsimd::fma3<xsimd::avx2>::version() ? 1
                                                                        : 2;
    const char* env = std::getenv("KPT_CPU_ARCH");
    if (env == nullptr || *env == '\0') return supported;
    const std::string_view name(env);
    int wanted = -1;
    for (int i = 0; i < int(std::size(arch_names)); ++i)
      if (name == arch_names[i]) wanted = i;
    require<value_error>(wanted >= 0, "KPT_CPU_ARCH=", name,
                         ": expected avx512, avx2 or sse2 (or unset it for the best this CPU supports)");
    return wanted > supported ? wanted : supported;  // never above what the CPU runs
  }();
  return selected;
}

// Whether the AVX-512 kernels run and the CPU has AVX512-BF16 (vdpbf16ps), which the bf16
// Winograd GEMMs use (conv_winograd_bf16.hpp); KPT_CPU_ARCH=avx2 turns them off with the rest.
inline bool bf16_dot_selected() {
  static const bool has = selected_arch() == 0 && __builtin_cpu_supports("avx512bf16");
  return has;
}

// Calls f(Arch{}) for the selected arch.
template <class F>
decltype(auto) dispatch(F&& f) {
  switch (selected_arch()) {
    case 0: return f(xsimd::avx512bw{});
    case 1: return f(xsimd::fma3<xsimd::avx2>{});
    default: return f(xsimd::sse2{});
  }
}

}  // namespace kpt::cpu_detail
