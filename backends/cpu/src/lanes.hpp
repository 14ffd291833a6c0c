#pragma once
// Masked and indexed vector moves for the kernels that walk images lane by lane (direct
// convolutions, their weight gradients, Winograd's transforms), per arch:
//  - AVX-512 has them all as instructions (mask registers, gathers, scatters);
//  - AVX2 has masked loads and stores (vmaskmov) and gathers; scatters are emulated. AMD's
//    vmaskmov stores are slow (microcoded), so callers store full vectors plainly and keep the
//    masked store for the ragged pieces.
// A mask is an unsigned with one bit per lane. Lanes that a mask leaves off are never read or
// written, so they may point outside their buffer.
#include <xsimd/xsimd.hpp>

#include <type_traits>

namespace kpt::cpu_detail {

template <class Arch>
inline constexpr bool is_avx512 = std::is_base_of_v<xsimd::avx512f, Arch>;
template <class Arch>
inline constexpr bool is_avx2 = std::is_base_of_v<xsimd::avx2, Arch> && !is_avx512<Arch>;

// Whether lane_ops<Arch, T> exists: float and double on AVX-512 and AVX2.
template <class Arch, class T>
inline constexpr bool has_lane_ops =
    (is_avx512<Arch> || is_avx2<Arch>) && (std::is_same_v<T, float> || std::is_same_v<T, double>);

template <class Arch, class T, class = void>
struct lane_ops;

template <class Arch>
struct lane_ops<Arch, float, std::enable_if_t<is_avx512<Arch>>> {
  static constexpr int L = 16;
  static constexpr unsigned all = 0xffffu;
  using V = __m512;
  using I = __m512i;  // 32-bit lane indices
  static V load(const float* p, unsigned m) { return _mm512_maskz_loadu_ps(__mmask16(m), p); }
  static void store(float* p, unsigned m, V v) { _mm512_mask_storeu_ps(p, __mmask16(m), v); }
  static I index(const int* p) { return _mm512_load_si512(p); }  // 64-byte aligned
  static I shift(I i, int d) { return _mm512_add_epi32(i, _mm512_set1_epi32(d)); }
  // v[l] = base[i[l]] for the lanes of m, 0 elsewhere.
  static V gather(const float* base, I i, unsigned m) {
    return _mm512_mask_i32gather_ps(_mm512_setzero_ps(), __mmask16(m), i, base, 4);
  }
  // base[i[l]] = v[l] for the lanes of m.
  static void scatter(float* base, I i, unsigned m, V v) { _mm512_mask_i32scatter_ps(base, __mmask16(m), i, v, 4); }
};

template <class Arch>
struct lane_ops<Arch, double, std::enable_if_t<is_avx512<Arch>>> {
  static constexpr int L = 8;
  static constexpr unsigned all = 0xffu;
  using V = __m512d;
  static V load(const double* p, unsigned m) { return _mm512_maskz_loadu_pd(__mmask8(m), p); }
  static void store(double* p, unsigned m, V v) { _mm512_mask_storeu_pd(p, __mmask8(m), v); }
};

template <class Arch>
struct lane_ops<Arch, float, std::enable_if_t<is_avx2<Arch>>> {
  static constexpr int L = 8;
  static constexpr unsigned all = 0xffu;
  using V = __m256;
  using I = __m256i;
  // The vector mask of a lane mask: all ones in the lanes of m.
  static __m256i mask(unsigned m) {
    const __m256i bits = _mm256_setr_epi32(1, 2, 4, 8, 16, 32, 64, 128);
    return _mm256_cmpeq_epi32(_mm256_and_si256(_mm256_set1_epi32(int(m)), bits), bits);
  }
  static V load(const float* p, unsigned m) { return _mm256_maskload_ps(p, mask(m)); }
  static void store(float* p, unsigned m, V v) { _mm256_maskstore_ps(p, mask(m), v); }
  static I index(const int* p) { return _mm256_load_si256(reinterpret_cast<const __m256i*>(p)); }
  static I shift(I i, int d) { return _mm256_add_epi32(i, _mm256_set1_epi32(d)); }
  static V gather(const float* base, I i, unsigned m) {
    return _mm256_mask_i32gather_ps(_mm256_setzero_ps(), base, i, _mm256_castsi256_ps(mask(m)), 4);
  }
  static void scatter(float* base, I i, unsigned m, V v) {
    alignas(32) float val[L];
    alignas(32) int idx[L];
    _mm256_store_ps(val, v);
    _mm256_store_si256(reinterpret_cast<__m256i*>(idx), i);
    for (int l = 0; l < L; ++l)
      if (m >> l & 1u) base[idx[l]] = val[l];
  }
};

template <class Arch>
struct lane_ops<Arch, double, std::enable_if_t<is_avx2<Arch>>> {
  static constexpr int L = 4;
  static constexpr unsigned all = 0xfu;
  using V = __m256d;
  static __m256i mask(unsigned m) {
    const __m256i bits = _mm256_setr_epi64x(1, 2, 4, 8);
    return _mm256_cmpeq_epi64(_mm256_and_si256(_mm256_set1_epi64x(m), bits), bits);
  }
  static V load(const double* p, unsigned m) { return _mm256_maskload_pd(p, mask(m)); }
  static void store(double* p, unsigned m, V v) { _mm256_maskstore_pd(p, mask(m), v); }
};

}  // namespace kpt::cpu_detail
