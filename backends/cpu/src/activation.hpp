#pragma once
// ReLU and leaky ReLU on a vector, defined once for the element-wise kernels (pointwise_simd.hpp)
// and for the convolutions that apply them to finished sums before storing (gemm_simd.hpp's
// activate), so that conv2d_leaky_relu gives the bits of conv2d followed by relu / leaky_relu.
#include <xsimd/xsimd.hpp>

namespace kpt::cpu_detail {

// x < 0 ? 0 : x lets NaN through, as torch's relu.
template <class V>
[[gnu::always_inline]] inline V relu_batch(V v) {
  using T = typename V::value_type;
  return xsimd::select(v < V(T(0)), V(T(0)), v);
}
template <class V>
[[gnu::always_inline]] inline V leaky_relu_batch(V v, typename V::value_type slope) {
  using T = typename V::value_type;
  return xsimd::select(v > V(T(0)), v, v * V(slope));
}

}  // namespace kpt::cpu_detail
