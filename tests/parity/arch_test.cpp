#include <boost/test/unit_test.hpp>

#include <cstdlib>
#include <string>

#include "kpt/backends/cpu/arch.hpp"

namespace {
// Higher is a wider instruction set.
int rank(const std::string& arch) { return arch == "avx512" ? 2 : arch == "avx2" ? 1 : arch == "sse2" ? 0 : -1; }
}  // namespace

// ctest runs this suite once per instruction set (KPT_CPU_ARCH): the kernels must never run above
// the one asked for, or a run meant for the AVX2 path would test AVX-512's again.
BOOST_AUTO_TEST_CASE(kernels_run_at_or_below_the_requested_arch) {
  const std::string arch = kpt::cpu_arch();
  BOOST_TEST_MESSAGE("kpt::cpu kernels run with " << arch);
  BOOST_TEST(rank(arch) >= 0);
  if (const char* env = std::getenv("KPT_CPU_ARCH"); env != nullptr && *env != '\0') {
    BOOST_TEST(rank(arch) <= rank(env));
    if (std::string(env) == "sse2") BOOST_TEST(arch == "sse2");  // every x86-64 CPU has SSE2
  }
}
