#pragma once
// The instruction sets kpt::cpu compiles each kernel for, best first. Every *_impl.hpp kernel is
// explicitly instantiated once per arch in a translation unit compiled with that arch's flags
// (CMake generates them: see backends/cpu/CMakeLists.txt); the dispatch code below picks the
// best one the running CPU supports, once per call.
#include <xsimd/xsimd.hpp>

namespace kpt::cpu_detail {

using arch_list = xsimd::arch_list<xsimd::avx512bw, xsimd::fma3<xsimd::avx2>, xsimd::sse2>;

// Calls f(Arch{}) for the best arch in arch_list that this CPU supports.
template <class F>
decltype(auto) dispatch(F&& f) {
  return xsimd::dispatch<arch_list>(std::forward<F>(f))();
}

}  // namespace kpt::cpu_detail
