#pragma once
// Backend tag types and the Backend concept. A backend is an empty tag that knows how to
// allocate and copy its memory; its kernels are free functions overloaded on the tag in
// namespace kpt::kernels (found by argument-dependent lookup), so adding a backend touches
// backends/ only. Tags are defined here, in core, because tensor<T, B> needs their memory rules.
#include <algorithm>
#include <concepts>
#include <cstddef>
#include <cstring>
#include <memory>
#include <new>
#include <string_view>

#include "kpt/core/host_blocks.hpp"

namespace kpt::kernels {

// Host memory, 64-byte aligned so that every SIMD width can load from the start of a buffer.
struct host_memory {
  static constexpr bool is_host = true;
  static constexpr std::size_t alignment = 64;

  // Blocks of 1 MiB and more are page-aligned and reused by size (core/host_blocks.hpp).
  template <class T>
  static std::shared_ptr<T[]> allocate(std::size_t n) {
    if (n == 0) return {};
    const std::size_t bytes = n * sizeof(T);
    if (bytes >= detail::host_blocks::min_bytes) {
      auto* p = static_cast<T*>(detail::host_blocks::instance().take(bytes));
      return std::shared_ptr<T[]>(p, [bytes](T* q) { detail::host_blocks::instance().give_back(q, bytes); });
    }
    auto* p = static_cast<T*>(::operator new[](bytes, std::align_val_t{alignment}));
    return std::shared_ptr<T[]>(p, [](T* q) { ::operator delete[](q, std::align_val_t{alignment}); });
  }
  template <class T>
  static void copy_to_host(T* host_dst, const T* src, std::size_t n) {
    if (n) std::memcpy(host_dst, src, n * sizeof(T));
  }
  template <class T>
  static void copy_from_host(T* dst, const T* host_src, std::size_t n) {
    if (n) std::memcpy(dst, host_src, n * sizeof(T));
  }
  template <class T>
  static void fill(T* dst, std::size_t n, T value) {
    std::fill_n(dst, n, value);
  }
};

// Plain scalar loops, one thread: obviously correct, the oracle the other backends are tested against.
struct cpu_ref : host_memory {
  static constexpr std::string_view name = "cpu_ref";
};

// xsimd kernels (arch picked at run time) and oneTBB loops. Link kpt::cpu.
struct cpu : host_memory {
  static constexpr std::string_view name = "cpu";
};

}  // namespace kpt::kernels

namespace kpt {

using kernels::cpu;
using kernels::cpu_ref;

template <class B>
concept Backend = std::is_empty_v<B> && requires(float* p, const float* q, std::size_t n) {
  { B::name } -> std::convertible_to<std::string_view>;
  { B::is_host } -> std::convertible_to<bool>;
  { B::template allocate<float>(n) } -> std::same_as<std::shared_ptr<float[]>>;
  B::template copy_to_host<float>(p, q, n);
  B::template copy_from_host<float>(p, q, n);
  B::template fill<float>(p, n, 0.0f);
};

template <class B>
concept HostBackend = Backend<B> && B::is_host;

}  // namespace kpt
