#pragma once
// The optional CUDA backend: tensor<T, kpt::cuda> owns device memory. Link kpt::cuda (built only
// when a CUDA compiler is found). This header needs no CUDA headers: the runtime calls live in
// the compiled library. Kernels so far: element-wise maps with broadcasting and axis sums;
// ops without a cuda kernel do not compile for kpt::cuda (there is no silent host fallback).
#include <cstddef>
#include <memory>
#include <string_view>

#include "kpt/core/backend.hpp"
#include "kpt/kernels/elementwise.hpp"

namespace kpt::kernels {

namespace cuda_detail {
void* device_alloc(std::size_t bytes);
void device_free(void* p) noexcept;
void copy_device_to_host(void* host, const void* device, std::size_t bytes);
void copy_host_to_device(void* device, const void* host, std::size_t bytes);
void fill(float* p, std::size_t n, float v);
void fill(double* p, std::size_t n, double v);
}  // namespace cuda_detail

struct cuda {
  static constexpr std::string_view name = "cuda";
  static constexpr bool is_host = false;

  template <class T>
  static std::shared_ptr<T[]> allocate(std::size_t n) {
    if (n == 0) return {};
    return std::shared_ptr<T[]>(static_cast<T*>(cuda_detail::device_alloc(n * sizeof(T))),
                                [](T* p) { cuda_detail::device_free(p); });
  }
  template <class T>
  static void copy_to_host(T* host_dst, const T* src, std::size_t n) {
    cuda_detail::copy_device_to_host(host_dst, src, n * sizeof(T));
  }
  template <class T>
  static void copy_from_host(T* dst, const T* host_src, std::size_t n) {
    cuda_detail::copy_host_to_device(dst, host_src, n * sizeof(T));
  }
  template <class T>
  static void fill(T* dst, std::size_t n, T value) {
    cuda_detail::fill(dst, n, value);
  }
};

void binary(cuda, binary_fn f, const broadcast_geom& g, const float* a, const float* b, float* y);
void binary(cuda, binary_fn f, const broadcast_geom& g, const double* a, const double* b, double* y);
void reduce_sum(cuda, const reduce_geom& g, const float* x, float* y);
void reduce_sum(cuda, const reduce_geom& g, const double* x, double* y);

}  // namespace kpt::kernels

namespace kpt {
using kernels::cuda;
// True when the CUDA runtime works and at least one device is present. Tests that need a GPU
// skip when this is false.
bool cuda_available();
// Why cuda_available() is false ("" when it is true), for skip messages.
std::string_view cuda_unavailable_reason();
}  // namespace kpt
