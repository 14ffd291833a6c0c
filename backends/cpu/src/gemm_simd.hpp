#pragma once
// The register-blocked GEMM every conv and matmul kernel of kpt::cpu runs on, templated on the
// xsimd arch (definitions only in the per-arch translation units, KPT_CPU_ARCH set).
//
// C (M x N, row-major) = A (M x K) * B (K x N), Goto-style:
//  - A is packed once per call into panels of MR rows ([panel][K][MR]); for conv it is the weights.
//  - B is packed per task, KC rows x NR columns at a time ([micro-column][KC][NR]) by a caller-given
//    packer, so a conv never materialises its im2col matrix: the packer gathers from the image.
//  - The micro-kernel keeps an MR x NR tile of C in registers (8 x 48 floats = 24 zmm with
//    AVX-512): per k it loads NR/lanes vectors of B and broadcasts MR values of A.
//  - Tasks (oneTBB) are tiles of C (batch x row blocks x column blocks), plus a split of K with
//    private partial sums when the output is too small to keep every thread busy.
// This header has no kernels of its own to instantiate; conv_simd.hpp and matmul_simd.hpp use it.
#include "kpt/core/shape.hpp"
#include "kpt/kernels/conv.hpp"

#ifdef KPT_CPU_ARCH
#include <tbb/task_arena.h>
#include <xsimd/xsimd.hpp>

#include <algorithm>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <type_traits>
#include <vector>

#include "kpt/backends/cpu/threads.hpp"
#include "kpt/core/backend.hpp"
#include "activation.hpp"
#include "lanes.hpp"
#include "parallel.hpp"

namespace kpt::cpu_detail {

template <class Arch, class T>
struct gemm_blocking {
  using V = xsimd::batch<T, Arch>;
  static constexpr int lanes = int(V::size);
  // AVX-512 has 32 vector registers: 8 x 3 accumulators + 3 B vectors + 1 broadcast. Narrower
  // sets have 16: 4 x 3 + 3 + 1.
  static constexpr bool wide = std::is_base_of_v<xsimd::avx512f, Arch>;
  static constexpr int MR = wide ? 8 : 4;
  static constexpr int NV = 3;
  static constexpr int NR = NV * lanes;
  // An A micro-panel (KC x MR) stays in L1 while the B micro-panels (KC x NR) stream from L2.
  static constexpr index_t KC = 384;
  // Columns of B packed at once per task (the KC x NC panel stays in L2).
  static constexpr index_t NC = NR * 10;
  // Rows of C per task block: the A block (MC x KC) stays in L2.
  static constexpr index_t MC = 256;
};

// Work below this many multiply-adds per task is not worth a thread hand-off.
inline constexpr double gemm_task_macs = double(1 << 20);

template <class T>
std::shared_ptr<T[]> gemm_buffer(index_t n) {
  return kernels::host_memory::allocate<T>(std::size_t(std::max<index_t>(n, 1)));
}

// Threads a parallel loop started here can use: kpt::set_num_threads' limit within the current
// task arena.
inline int active_threads() {
  return std::max(1, std::min(kpt::num_threads(), tbb::this_task_arena::max_concurrency()));
}

// A per-thread packing buffer, kept between calls so that packing does not page-fault on fresh
// memory every call. Slot tells apart buffers that are alive at the same time. A buffer that is
// busy (a thread waiting in a parallel loop may run a task of another kernel) or too big to keep
// gives way to a fresh allocation.
template <class T, int Slot>
class scratch {
  struct cache {
    std::shared_ptr<T[]> buf;
    index_t cap = 0;
    bool busy = false;
  };
  static cache& local() {
    thread_local cache c;
    return c;
  }
  static constexpr index_t max_kept = index_t(1) << 23;  // elements (32 MiB of float)

 public:
  explicit scratch(index_t n) {
    cache& c = local();
    if (!c.busy && n <= max_kept) {
      if (n > c.cap) {
        c.buf = gemm_buffer<T>(n);
        c.cap = n;
      }
      c.busy = true;
      held_ = &c;
      ptr_ = c.buf.get();
    } else {
      own_ = gemm_buffer<T>(n);
      ptr_ = own_.get();
    }
  }
  ~scratch() {
    if (held_) held_->busy = false;
  }
  scratch(const scratch&) = delete;
  scratch& operator=(const scratch&) = delete;
  T* get() const { return ptr_; }

 private:
  std::shared_ptr<T[]> own_;
  cache* held_ = nullptr;
  T* ptr_ = nullptr;
};
enum scratch_slot {
  slot_a = 0,
  slot_b = 1,
  slot_partial = 2,
  slot_pack = 3,
  slot_pad = 4,
  slot_weights = 5,
  slot_wino_v = 6,
  slot_wino_m = 7
};

// Size of A packed in MR-row panels.
template <class Arch, class T>
index_t packed_a_size(index_t M, index_t K) {
  constexpr int MR = gemm_blocking<Arch, T>::MR;
  return (M + MR - 1) / MR * MR * K;
}

// Packs A(i, k) = src[i*rs + k*cs] (i < M, k < K) into panels of MR rows, zero-padding the last:
// dst[p][Ktot][MR] starting at column kstart (so several sources can fill one long K).
template <class Arch, class T>
void pack_a(index_t M, index_t K, const T* src, index_t rs, index_t cs, T* dst, index_t Ktot, index_t kstart) {
  constexpr int MR = gemm_blocking<Arch, T>::MR;
  const index_t panels = (M + MR - 1) / MR;
  const index_t grain = std::max<index_t>(1, elementwise_grain / std::max<index_t>(K * MR, 1));
  parallel_for(0, panels, grain, [&](index_t lo, index_t hi) {
    for (index_t p = lo; p < hi; ++p) {
      T* d = dst + (p * Ktot + kstart) * MR;
      const index_t r0 = p * MR, mr = std::min<index_t>(MR, M - r0);
      if (cs == 1) {
        // Rows are contiguous: read row pieces, write them with stride MR, a block of k at a
        // time so the destination stays in L1.
        for (index_t kb = 0; kb < K; kb += 256) {
          const index_t ke = std::min(K, kb + 256);
          for (index_t r = 0; r < mr; ++r) {
            const T* s = src + (r0 + r) * rs;
            for (index_t k = kb; k < ke; ++k) d[k * MR + r] = s[k];
          }
        }
      } else {
        for (index_t k = 0; k < K; ++k)
          for (index_t r = 0; r < mr; ++r) d[k * MR + r] = src[(r0 + r) * rs + k * cs];
      }
      for (index_t r = mr; r < MR; ++r)
        for (index_t k = 0; k < K; ++k) d[k * MR + r] = T(0);
    }
  });
}

// Bits a..b-1 of an L-lane mask (clamped to [0, L)).
template <int L>
inline unsigned lane_range(index_t a, index_t b) {
  a = std::clamp<index_t>(a, 0, L);
  b = std::clamp<index_t>(b, 0, L);
  return b > a ? ((1u << (b - a)) - 1u) << a : 0u;
}

// Whether T has AVX-512's mask registers: masked moves as cheap as plain ones, which the im2col
// packers use for every row piece (AVX2's masked moves, lanes.hpp, are kept for ragged edges).
template <class Arch, class T>
inline constexpr bool has_mask_registers =
    is_avx512<Arch> && (std::is_same_v<T, float> || std::is_same_v<T, double>);

// One masked row move: dst[t] = (ld >> t) & 1 ? src[t] : 0 for the lanes set in st. Lanes off in
// ld are never read (they may lie outside the source buffer).
template <class Arch, class T>
inline void masked_move(T* dst, const T* src, unsigned ld, unsigned st) {
  using LO = lane_ops<Arch, T>;
  LO::store(dst, st, LO::load(src, ld));
}

// dst[t] = src[t] for t in [lo, hi), 0 for the other t < len; src is read only in [lo, hi).
// Short rows of an image into a packed panel: masked AVX-512 moves, no calls.
template <class Arch, class T>
inline void copy_window(T* dst, const T* src, index_t len, index_t lo, index_t hi) {
  if constexpr (has_mask_registers<Arch, T>) {
    constexpr index_t L = lane_ops<Arch, T>::L;
    for (index_t t = 0; t < len; t += L)
      masked_move<Arch>(dst + t, src + t, lane_range<L>(lo - t, hi - t), lane_range<L>(0, len - t));
  } else {
    lo = std::clamp<index_t>(lo, 0, len);
    hi = std::clamp<index_t>(hi, lo, len);
    std::fill(dst, dst + lo, T(0));
    std::copy(src + lo, src + hi, dst + lo);
    std::fill(dst + hi, dst + len, T(0));
  }
}

// In-register transpose of a 16 x 16 float block (AVX-512): r[i][j] becomes r[j][i].
inline void transpose16(__m512 r[16]) {
  __m512 t[16];
  for (int i = 0; i < 8; ++i) {
    t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
  }
  // u[4i + c], 128-bit lane L = rows 4i..4i+3 of column 4L + c.
  for (int i = 0; i < 4; ++i) {
    r[4 * i] = _mm512_shuffle_ps(t[4 * i], t[4 * i + 2], _MM_SHUFFLE(1, 0, 1, 0));
    r[4 * i + 1] = _mm512_shuffle_ps(t[4 * i], t[4 * i + 2], _MM_SHUFFLE(3, 2, 3, 2));
    r[4 * i + 2] = _mm512_shuffle_ps(t[4 * i + 1], t[4 * i + 3], _MM_SHUFFLE(1, 0, 1, 0));
    r[4 * i + 3] = _mm512_shuffle_ps(t[4 * i + 1], t[4 * i + 3], _MM_SHUFFLE(3, 2, 3, 2));
  }
  // A 4 x 4 transpose of 128-bit lanes among u[c], u[4+c], u[8+c], u[12+c].
  for (int c = 0; c < 4; ++c) {
    const __m512 p = _mm512_shuffle_f32x4(r[c], r[4 + c], 0x88), q = _mm512_shuffle_f32x4(r[c], r[4 + c], 0xdd);
    const __m512 u = _mm512_shuffle_f32x4(r[8 + c], r[12 + c], 0x88), v = _mm512_shuffle_f32x4(r[8 + c], r[12 + c], 0xdd);
    t[c] = _mm512_shuffle_f32x4(p, u, 0x88);
    t[8 + c] = _mm512_shuffle_f32x4(p, u, 0xdd);
    t[4 + c] = _mm512_shuffle_f32x4(q, v, 0x88);
    t[12 + c] = _mm512_shuffle_f32x4(q, v, 0xdd);
  }
  for (int i = 0; i < 16; ++i) r[i] = t[i];
}

// In-register transpose of an 8 x 8 float block (AVX2): r[i][j] becomes r[j][i].
inline void transpose8(__m256 r[8]) {
  __m256 t[8], s[8];
  for (int i = 0; i < 4; ++i) {
    t[2 * i] = _mm256_unpacklo_ps(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm256_unpackhi_ps(r[2 * i], r[2 * i + 1]);
  }
  // s[c] (c < 4), 128-bit half h: rows 0..3 of column c + 4h; s[4 + c]: rows 4..7.
  for (int i = 0; i < 2; ++i) {
    s[4 * i] = _mm256_shuffle_ps(t[4 * i], t[4 * i + 2], 0x44);
    s[4 * i + 1] = _mm256_shuffle_ps(t[4 * i], t[4 * i + 2], 0xee);
    s[4 * i + 2] = _mm256_shuffle_ps(t[4 * i + 1], t[4 * i + 3], 0x44);
    s[4 * i + 3] = _mm256_shuffle_ps(t[4 * i + 1], t[4 * i + 3], 0xee);
  }
  for (int c = 0; c < 4; ++c) {
    r[c] = _mm256_permute2f128_ps(s[c], s[4 + c], 0x20);
    r[4 + c] = _mm256_permute2f128_ps(s[c], s[4 + c], 0x31);
  }
}
inline void transpose_square(__m512 (&r)[16]) { transpose16(r); }
inline void transpose_square(__m256 (&r)[8]) { transpose8(r); }

// How a tile starts: from zero, from the row bias, or adding to what C holds. Adding happens
// after the kc-long sum is formed in registers from zero, so a long K is summed in blocks of KC
// (rounding error grows with KC + K/KC, not K).
enum class tile_init { zero, load, bias };

// A forward convolution's fused activation (kernels::conv_activation, `on`) on a vector, applied
// to finished sums in registers before they are stored: the relu and leaky_relu kernels' own maps.
template <class V>
[[gnu::always_inline]] inline V activate(const kernels::conv_activation& act, V v) {
  using T = typename V::value_type;
  return act.slope == 0 ? relu_batch(v) : leaky_relu_batch(v, T(act.slope));
}
// The same on one value (none when off).
template <class Arch, class T>
T activate_one(const kernels::conv_activation& act, T v) {
  return act.on ? activate(act, xsimd::batch<T, Arch>(v)).get(0) : v;
}

// One k step of a micro-kernel: the MR x NR register tile += A column (MR values at a) times
// B row (NR values at b, loaded in Mode).
template <class Arch, class T, class Mode>
[[gnu::always_inline]] inline void rank1_update(
    typename gemm_blocking<Arch, T>::V (&acc)[gemm_blocking<Arch, T>::MR][gemm_blocking<Arch, T>::NV], const T* a,
    const T* b, Mode mode) {
  using BL = gemm_blocking<Arch, T>;
  using V = typename BL::V;
  constexpr int MR = BL::MR, NV = BL::NV, L = BL::lanes;
  V bv[NV];
#pragma GCC unroll 4
  for (int v = 0; v < NV; ++v) bv[v] = V::load(b + v * L, mode);
#pragma GCC unroll 16
  for (int r = 0; r < MR; ++r) {
    const V av(a[r]);
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) acc[r][v] = xsimd::fma(av, bv[v], acc[r][v]);
  }
}

// C tile (MR x NR at c, row stride ldc) (+)= A panel (kc x MR) * B micro-panel (kc x NR), then
// act (nullable: none) when this is the tile's last block of K.
template <class Arch, class T>
inline void micro_kernel(index_t kc, const T* __restrict a, const T* __restrict b, T* c, index_t ldc, tile_init init,
                         const T* bias, const kernels::conv_activation* act) {
  using BL = gemm_blocking<Arch, T>;
  using V = typename BL::V;
  constexpr int MR = BL::MR, NV = BL::NV, L = BL::lanes, NR = BL::NR;
  V acc[MR][NV];
  if (init == tile_init::bias) {
#pragma GCC unroll 16
    for (int r = 0; r < MR; ++r)
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) acc[r][v] = V(bias[r]);
  } else {
#pragma GCC unroll 16
    for (int r = 0; r < MR; ++r)
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) acc[r][v] = V(T(0));
  }
  for (index_t k = 0; k < kc; ++k) {
    rank1_update<Arch, T>(acc, a, b, xsimd::aligned_mode{});
    a += MR;
    b += NR;
  }
  if (init == tile_init::load) {
#pragma GCC unroll 16
    for (int r = 0; r < MR; ++r)
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) acc[r][v] += V::load_unaligned(c + r * ldc + v * L);
  }
  if (act) {
#pragma GCC unroll 16
    for (int r = 0; r < MR; ++r)
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) acc[r][v] = activate(*act, acc[r][v]);
  }
#pragma GCC unroll 16
  for (int r = 0; r < MR; ++r)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) acc[r][v].store_unaligned(c + r * ldc + v * L);
}

// A tile of mr <= MR rows and nr <= NR columns: edge tiles go through a full-size scratch tile.
template <class Arch, class T>
inline void gemm_tile(index_t kc, const T* a, const T* b, T* c, index_t ldc, index_t mr, index_t nr, tile_init init,
                      const T* bias, const kernels::conv_activation* act) {
  using BL = gemm_blocking<Arch, T>;
  constexpr int MR = BL::MR, NR = BL::NR;
  if (mr == MR && nr == NR) {
    micro_kernel<Arch, T>(kc, a, b, c, ldc, init, bias, act);
    return;
  }
  alignas(64) T tmp[MR * NR] = {};
  T bias_tmp[MR] = {};
  if (init == tile_init::load)
    for (index_t r = 0; r < mr; ++r) std::copy_n(c + r * ldc, nr, tmp + r * NR);
  if (init == tile_init::bias) std::copy_n(bias, mr, bias_tmp);
  micro_kernel<Arch, T>(kc, a, b, tmp, NR, init, bias_tmp, act);
  for (index_t r = 0; r < mr; ++r) std::copy_n(tmp + r * NR, nr, c + r * ldc);
}

// One GEMM call. apack: A packed by pack_a (apack_batch elements apart per batch, 0 = shared).
// C_b at c + b*c_batch, row stride ldc; c_batch == 0 with batch > 1 sums every batch into C.
// bias (per row of C, nullable) is added unless accumulate; act (a forward convolution's fused
// activation) is applied to the finished C unless accumulate or summed.
template <class T>
struct gemm_job {
  index_t batch = 1, M = 0, N = 0, K = 0;
  const T* apack = nullptr;
  index_t apack_batch = 0;
  T* c = nullptr;
  index_t ldc = 0, c_batch = 0;
  const T* bias = nullptr;
  bool accumulate = false;
  kernels::conv_activation act;
};

// Runs a job. packb(b, k0, kc, j0, nc, dst) must write B_b rows [k0, k0+kc) x columns
// [j0, j0+nc) as ceil(nc / NR) micro-panels of kc x NR (dst 64-byte aligned), zero-padding
// the columns past nc.
template <class Arch, class T, class PackB>
void gemm_run(const gemm_job<T>& job, const PackB& packb) {
  using BL = gemm_blocking<Arch, T>;
  constexpr index_t MR = BL::MR, NR = BL::NR, KC = BL::KC, NC = BL::NC, MC = BL::MC;
  const index_t M = job.M, N = job.N, K = job.K;
  if (M == 0 || N == 0 || job.batch == 0) return;
  const bool summed = job.c_batch == 0 && job.batch > 1;  // every batch adds into one C
  if (job.act.on && (summed || job.accumulate))
    throw std::logic_error("gemm_run: an activation applies to a finished product only (not accumulate or summed)");

  if (K == 0) {  // an empty sum: C = act(bias or 0) (or unchanged)
    if (job.accumulate) return;
    for (index_t b = 0; b < (summed ? 1 : job.batch); ++b)
      for (index_t i = 0; i < M; ++i)
        std::fill_n(job.c + b * job.c_batch + i * job.ldc, N, activate_one<Arch>(job.act, job.bias ? job.bias[i] : T(0)));
    return;
  }

  const index_t mpanels = (M + MR - 1) / MR, npanels = (N + NR - 1) / NR;
  const int threads = active_threads();
  const double macs = double(job.batch) * double(M) * double(N) * double(K);
  const index_t max_tasks =
      threads == 1 ? 1 : std::clamp<index_t>(index_t(macs / gemm_task_macs), 1, index_t(4) * threads);

  // Row blocks keep the A block in L2; column blocks and the K split make enough tasks.
  const index_t mchunks = (mpanels * MR + MC - 1) / MC;
  const index_t images = summed ? 1 : job.batch;  // batches run as separate tasks
  const index_t nchunks = std::clamp<index_t>((max_tasks + images * mchunks - 1) / (images * mchunks), 1, npanels);
  index_t ksplit = 1;
  if (images * mchunks * nchunks < max_tasks)
    ksplit = std::clamp<index_t>((max_tasks + images * mchunks * nchunks - 1) / (images * mchunks * nchunks), 1,
                                 std::max<index_t>(1, K / (4 * KC)));
  // Partial sums of the K split (split s > 0 writes its own M x N buffer).
  scratch<T, slot_partial> partial(ksplit > 1 ? (ksplit - 1) * images * M * N : 0);

  auto run_task = [&](index_t b, index_t mi, index_t ni, index_t ks, index_t bsum) {
    const index_t pm0 = mi * mpanels / mchunks, pm1 = (mi + 1) * mpanels / mchunks;
    const index_t pn0 = ni * npanels / nchunks, pn1 = (ni + 1) * npanels / nchunks;
    const index_t k0 = ks * K / ksplit, k1 = (ks + 1) * K / ksplit;
    if (pm0 == pm1 || pn0 == pn1 || k0 == k1) return;
    T* c;
    index_t ldc;
    tile_init first;
    const T* bias = nullptr;
    if (ks == 0) {
      c = job.c + b * job.c_batch;
      ldc = job.ldc;
      const bool acc = job.accumulate || bsum > 0;
      first = acc ? tile_init::load : job.bias ? tile_init::bias : tile_init::zero;
      if (first == tile_init::bias) bias = job.bias;
    } else {
      c = partial.get() + ((ks - 1) * images + b) * M * N;
      ldc = N;
      first = tile_init::zero;
    }
    // The activation goes with the last block of K unless the K split's reduction finishes C.
    const kernels::conv_activation* act = job.act.on && ksplit == 1 ? &job.act : nullptr;
    const T* apack = job.apack + (summed ? bsum : b) * job.apack_batch;
    const index_t bsrc = summed ? bsum : b;
    const index_t ncp = std::min<index_t>(NC / NR, pn1 - pn0);
    scratch<T, slot_b> bbuf(std::min(KC, k1 - k0) * ncp * NR);
    for (index_t jc = pn0; jc < pn1; jc += ncp) {
      const index_t jce = std::min(pn1, jc + ncp);
      const index_t j0 = jc * NR, nc = std::min(N, jce * NR) - j0;
      for (index_t kk = k0; kk < k1; kk += KC) {
        const index_t kc = std::min(KC, k1 - kk);
        packb(bsrc, kk, kc, j0, nc, bbuf.get());
        const tile_init init = kk == k0 ? first : tile_init::load;
        const kernels::conv_activation* last = kk + kc == k1 ? act : nullptr;
        for (index_t p = pm0; p < pm1; ++p) {
          const index_t mr = std::min(MR, M - p * MR);
          const T* ap = apack + (p * K + kk) * MR;
          for (index_t q = jc; q < jce; ++q)
            gemm_tile<Arch, T>(kc, ap, bbuf.get() + (q - jc) * kc * NR, c + p * MR * ldc + q * NR, ldc, mr,
                               std::min(NR, N - q * NR), init, bias ? bias + p * MR : nullptr, last);
        }
      }
    }
  };

  const index_t tasks = images * mchunks * nchunks * ksplit;
  for (index_t bsum = 0; bsum < (summed ? job.batch : 1); ++bsum) {
    parallel_for(0, tasks, 1, [&](index_t lo, index_t hi) {
      for (index_t t = lo; t < hi; ++t) {
        index_t r = t;
        const index_t ks = r % ksplit;
        r /= ksplit;
        const index_t ni = r % nchunks;
        r /= nchunks;
        const index_t mi = r % mchunks;
        run_task(r / mchunks, mi, ni, ks, bsum);
      }
    });
    if (ksplit > 1) {
      // C += the partial sums of splits 1..ksplit-1, row by row, then the activation.
      parallel_for(0, images * M, std::max<index_t>(1, elementwise_grain / (N * ksplit)), [&](index_t lo, index_t hi) {
        using V = typename BL::V;
        constexpr index_t L = BL::lanes;
        for (index_t row = lo; row < hi; ++row) {
          const index_t b = row / M, i = row % M;
          T* cr = job.c + b * job.c_batch + i * job.ldc;
          for (index_t s = 1; s < ksplit; ++s) {
            const T* pr = partial.get() + ((s - 1) * images + b) * M * N + i * N;
            index_t j = 0;
            for (; j + L <= N; j += L) (V::load_unaligned(cr + j) + V::load_unaligned(pr + j)).store_unaligned(cr + j);
            for (; j < N; ++j) cr[j] += pr[j];
          }
          if (job.act.on) {
            index_t j = 0;
            for (; j + L <= N; j += L) activate(job.act, V::load_unaligned(cr + j)).store_unaligned(cr + j);
            for (; j < N; ++j) cr[j] = activate_one<Arch>(job.act, cr[j]);
          }
        }
      });
    }
  }
}

// B(k, j) = src[b*batch_stride + k*rs + j*cs]: a plain (possibly transposed) matrix.
template <class Arch, class T>
struct pack_b_strided {
  const T* src;
  index_t batch_stride, rs, cs;

  void operator()(index_t b, index_t k0, index_t kc, index_t j0, index_t nc, T* dst) const {
    using BL = gemm_blocking<Arch, T>;
    using V = typename BL::V;
    constexpr index_t NR = BL::NR, L = BL::lanes;
    const T* base = src + b * batch_stride + k0 * rs;
    if constexpr (has_lane_ops<Arch, T> && std::is_same_v<T, float>) {
      if (rs == 1) {
        // Column-major B (a transposed matrix): square blocks of one vector per row (16 x 16 with
        // AVX-512, 8 x 8 with AVX2) transposed in registers.
        using LO = lane_ops<Arch, float>;
        constexpr index_t S = LO::L;
        static_assert(NR % S == 0);
        for (index_t q = 0; q * NR < nc; ++q) {
          T* d = dst + q * kc * NR;
          const index_t jq = j0 + q * NR, w = std::min(NR, nc - q * NR);
          for (index_t kb = 0; kb < kc; kb += S) {
            const index_t kn = std::min<index_t>(S, kc - kb);
            const unsigned km = lane_range<S>(0, kn);
            for (index_t jb = 0; jb < NR; jb += S) {
              typename LO::V v[S];
              for (index_t r = 0; r < S; ++r) {
                const T* p = base + (jq + jb + r) * cs + kb;
                v[r] = jb + r >= w ? V(T(0)) : kn == S ? V::load_unaligned(p) : V(LO::load(p, km));
              }
              transpose_square(v);
              for (index_t r = 0; r < kn; ++r) V(v[r]).store_aligned(d + (kb + r) * NR + jb);
            }
          }
        }
        return;
      }
    }
    if (cs == 1) {
      // Row-major B: walk each row across all micro-panels (long contiguous reads).
      const index_t full = nc / NR;
      for (index_t k = 0; k < kc; ++k) {
        const T* s = base + k * rs + j0;
        for (index_t q = 0; q < full; ++q) {
          T* d = dst + (q * kc + k) * NR;
#pragma GCC unroll 4
          for (index_t v = 0; v < NR; v += L) V::load_unaligned(s + q * NR + v).store_aligned(d + v);
        }
        if (full * NR < nc) {
          T* d = dst + (full * kc + k) * NR;
          const index_t w = nc - full * NR;
          std::copy_n(s + full * NR, w, d);
          std::fill(d + w, d + NR, T(0));
        }
      }
      return;
    }
    for (index_t q = 0; q * NR < nc; ++q) {
      T* d = dst + q * kc * NR;
      const index_t jq = j0 + q * NR, w = std::min(NR, nc - q * NR);
      for (index_t jj = 0; jj < w; ++jj) {
        const T* s = base + (jq + jj) * cs;
        for (index_t k = 0; k < kc; ++k) d[k * NR + jj] = s[k * rs];
      }
      for (index_t k = 0; k < kc; ++k) std::fill(d + k * NR + w, d + (k + 1) * NR, T(0));
    }
  }
};

}  // namespace kpt::cpu_detail
#endif
