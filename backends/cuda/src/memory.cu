// Device memory for kpt::cuda: every runtime error becomes a kpt::error naming the call.
#include <cuda_runtime.h>

#include <string>

#include "kpt/backends/cuda.hpp"

namespace kpt::kernels::cuda_detail {

namespace {
void check(cudaError_t e, const char* what, std::size_t bytes = 0) {
  if (e != cudaSuccess)
    throw kpt::error(std::string("cuda: ") + what + (bytes ? " of " + std::to_string(bytes) + " bytes" : "") +
                     " failed: " + cudaGetErrorString(e) + " (is a CUDA GPU present and its driver loaded?)");
}
template <class T>
__global__ void fill_kernel(T* p, std::size_t n, T v) {
  for (std::size_t i = blockIdx.x * std::size_t(blockDim.x) + threadIdx.x; i < n; i += std::size_t(gridDim.x) * blockDim.x)
    p[i] = v;
}
template <class T>
void fill_impl(T* p, std::size_t n, T v) {
  if (n == 0) return;
  const unsigned blocks = unsigned(std::min<std::size_t>((n + 255) / 256, 65535));
  fill_kernel<<<blocks, 256>>>(p, n, v);
  check(cudaGetLastError(), "fill kernel launch");
}
}  // namespace

void* device_alloc(std::size_t bytes) {
  void* p = nullptr;
  check(cudaMalloc(&p, bytes), "cudaMalloc", bytes);
  return p;
}
void device_free(void* p) noexcept { cudaFree(p); }
void copy_device_to_host(void* host, const void* device, std::size_t bytes) {
  if (bytes) check(cudaMemcpy(host, device, bytes, cudaMemcpyDeviceToHost), "cudaMemcpy to host", bytes);
}
void copy_host_to_device(void* device, const void* host, std::size_t bytes) {
  if (bytes) check(cudaMemcpy(device, host, bytes, cudaMemcpyHostToDevice), "cudaMemcpy to device", bytes);
}
void fill(float* p, std::size_t n, float v) { fill_impl(p, n, v); }
void fill(double* p, std::size_t n, double v) { fill_impl(p, n, v); }

}  // namespace kpt::kernels::cuda_detail

namespace kpt {

namespace {
std::string& reason() {
  static std::string r = [] {
    int n = 0;
    const cudaError_t e = cudaGetDeviceCount(&n);
    if (e != cudaSuccess) return std::string("no usable CUDA runtime/driver: ") + cudaGetErrorString(e);
    if (n == 0) return std::string("no CUDA device present");
    return std::string();
  }();
  return r;
}
}  // namespace

bool cuda_available() { return reason().empty(); }
std::string_view cuda_unavailable_reason() { return reason(); }

}  // namespace kpt
