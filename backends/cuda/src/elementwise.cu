// kpt::cuda element-wise kernels: one thread per output element (grid-stride loops).
#include <cuda_runtime.h>

#include <string>

#include "kpt/backends/cuda.hpp"

namespace kpt::kernels {

namespace {
void check_launch(const char* what) {
  const cudaError_t e = cudaGetLastError();
  if (e != cudaSuccess) throw kpt::error(std::string("cuda: ") + what + " failed: " + cudaGetErrorString(e));
}
unsigned blocks_for(index_t n) { return unsigned(std::min<index_t>((n + 255) / 256, 65535)); }

template <class T>
__global__ void binary_kernel(binary_fn f, broadcast_geom g, const T* a, const T* b, T* y) {
  for (index_t o = blockIdx.x * index_t(blockDim.x) + threadIdx.x; o < g.numel; o += index_t(gridDim.x) * blockDim.x) {
    index_t rest = o, ia = 0, ib = 0;
    for (int ax = max_rank - 1; ax >= 0; --ax) {
      const index_t c = rest % g.out_dims[ax];
      rest /= g.out_dims[ax];
      ia += c * g.a_stride[ax];
      ib += c * g.b_stride[ax];
    }
    const T x = a[ia], z = b[ib];
    y[o] = f == binary_fn::add ? x + z : f == binary_fn::sub ? x - z : f == binary_fn::mul ? x * z : x / z;
  }
}

// One thread per output: walks the reduced coordinates (inputs are small enough for this to be
// a correct first kernel; a tree reduction is the obvious next step).
template <class T>
__global__ void reduce_sum_kernel(reduce_geom g, const T* x, T* y) {
  const auto& s = g.in;
  for (index_t o = blockIdx.x * index_t(blockDim.x) + threadIdx.x; o < g.out_numel; o += index_t(gridDim.x) * blockDim.x) {
    index_t coord[max_rank] = {};
    index_t rest = o;
    for (int ax = s.rank() - 1; ax >= 0; --ax)
      if (!(g.axes_mask >> ax & 1u)) {
        coord[ax] = rest % s[ax];
        rest /= s[ax];
      }
    double acc = 0;
    for (index_t r = 0; r < g.reduced; ++r) {
      index_t rr = r, flat = 0;
      for (int ax = s.rank() - 1; ax >= 0; --ax)
        if (g.axes_mask >> ax & 1u) {
          coord[ax] = rr % s[ax];
          rr /= s[ax];
        }
      for (int ax = 0; ax < s.rank(); ++ax) flat = flat * s[ax] + coord[ax];
      acc += x[flat];
    }
    y[o] = T(acc);
  }
}
}  // namespace

#define KPT_CUDA_ELEMENTWISE(T)                                                          \
  void binary(cuda, binary_fn f, const broadcast_geom& g, const T* a, const T* b, T* y) { \
    if (g.numel == 0) return;                                                            \
    binary_kernel<<<blocks_for(g.numel), 256>>>(f, g, a, b, y);                          \
    check_launch("binary kernel launch");                                                \
  }                                                                                      \
  void reduce_sum(cuda, const reduce_geom& g, const T* x, T* y) {                        \
    if (g.out_numel == 0) return;                                                        \
    reduce_sum_kernel<<<blocks_for(g.out_numel), 256>>>(g, x, y);                        \
    check_launch("reduce_sum kernel launch");                                            \
  }
KPT_CUDA_ELEMENTWISE(float)
KPT_CUDA_ELEMENTWISE(double)
#undef KPT_CUDA_ELEMENTWISE

}  // namespace kpt::kernels
