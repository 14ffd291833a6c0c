// gemm_simd.hpp is the GEMM driver shared by conv_simd.hpp and matmul_simd.hpp: it has no kernels
// of its own to dispatch (the build compiles every src/<family>_simd.hpp with a <family>.cpp).
