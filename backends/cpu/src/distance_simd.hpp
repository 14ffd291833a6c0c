#pragma once
// SIMD l2_normalize (along one axis of [outer, n, inner]) and pairwise Euclidean distances,
// forward and backward. Compiled only in the per-arch translation units.
#include "kpt/kernels/distance.hpp"

namespace kpt::cpu_detail {

template <class Arch, class T>
void l2_normalize_forward_simd(Arch, const kernels::axis_geom& g, double eps, const T* x, T* y, T* norm);
template <class Arch, class T>
void l2_normalize_backward_simd(Arch, const kernels::axis_geom& g, double eps, const T* y, const T* norm,
                                const T* gy, T* dx);
template <class Arch, class T>
void pairwise_distance_forward_simd(Arch, const kernels::cdist_geom& g, const T* a, const T* b, T* dist);
template <class Arch, class T>
void pairwise_distance_backward_simd(Arch, const kernels::cdist_geom& g, const T* a, const T* b, const T* dist,
                                     const T* gy, T* da, T* db);

}  // namespace kpt::cpu_detail

#ifdef KPT_CPU_ARCH
#include <xsimd/xsimd.hpp>

#include <algorithm>
#include <cmath>
#include <vector>

#include "parallel.hpp"

namespace kpt::cpu_detail {

// ---- l2_normalize ------------------------------------------------------------------------

// Strided case (inner > 1): columns per task; sums of squares run in T over blocks of rows and
// in double across blocks.
inline constexpr index_t l2n_chunk = 256;
inline constexpr index_t l2n_block = 256;

inline index_t l2n_grain(index_t per_task) {
  return std::max<index_t>(1, elementwise_grain / std::max<index_t>(per_task, 1));
}

// sum_i p[i] * q[i] over a contiguous run, in T within blocks of batches and in double across.
template <class Arch, class T>
double dot_row(index_t n, const T* p, const T* q) {
  using V = xsimd::batch<T, Arch>;
  constexpr index_t w = V::size;
  double s = 0;
  index_t r = 0;
  for (index_t r0 = 0; r0 < n; r0 += l2n_block * w) {
    const index_t r1 = std::min(n, r0 + l2n_block * w);
    V acc(T(0));
    for (r = r0; r + w <= r1; r += w) acc = xsimd::fma(V::load_unaligned(p + r), V::load_unaligned(q + r), acc);
    T tail = 0;
    for (; r < r1; ++r) tail += p[r] * q[r];
    s += double(xsimd::hadd(acc)) + double(tail);
  }
  return s;
}

// part[0, C) (+)= p_row * q_row for the rows [r0, r1) of a column chunk, then total += part.
template <class Arch, class T>
void dot_cols(index_t N, index_t I, index_t C, const T* p, const T* q, T* part, double* total) {
  using V = xsimd::batch<T, Arch>;
  constexpr index_t w = V::size;
  const index_t cw = C - C % w;
  std::fill_n(total, C, 0.0);
  for (index_t r0 = 0; r0 < N; r0 += l2n_block) {
    std::fill_n(part, C, T(0));
    for (index_t r = r0; r < std::min(N, r0 + l2n_block); ++r) {
      const T* pr = p + r * I;
      const T* qr = q + r * I;
      for (index_t i = 0; i < cw; i += w)
        xsimd::fma(V::load_unaligned(pr + i), V::load_unaligned(qr + i), V::load_aligned(part + i)).store_aligned(part + i);
      for (index_t i = cw; i < C; ++i) part[i] += pr[i] * qr[i];
    }
    for (index_t i = 0; i < C; ++i) total[i] += double(part[i]);
  }
}

template <class Arch, class T>
void l2_normalize_forward_simd(Arch, const kernels::axis_geom& g, double eps, const T* x, T* y, T* norm) {
  using V = xsimd::batch<T, Arch>;
  constexpr index_t w = V::size;
  const index_t N = g.n, I = g.inner;
  if (g.outer * I == 0) return;
  if (I == 1) {
    parallel_for(0, g.outer, l2n_grain(N), [&](index_t lo, index_t hi) {
      for (index_t o = lo; o < hi; ++o) {
        const T* src = x + o * N;
        T* dst = y + o * N;
        const double nrm = std::sqrt(dot_row<Arch>(N, src, src));
        const T denom = T(std::max(nrm, eps));
        norm[o] = T(nrm);
        index_t r = 0;
        for (; r + w <= N; r += w) (V::load_unaligned(src + r) / V(denom)).store_unaligned(dst + r);
        for (; r < N; ++r) dst[r] = src[r] / denom;
      }
    });
    return;
  }
  const index_t chunks = (I + l2n_chunk - 1) / l2n_chunk;
  parallel_for(0, g.outer * chunks, l2n_grain(N * std::min(I, l2n_chunk)), [&](index_t lo, index_t hi) {
    alignas(64) T part[l2n_chunk];
    double total[l2n_chunk];
    for (index_t t = lo; t < hi; ++t) {
      const index_t o = t / chunks, i0 = (t % chunks) * l2n_chunk, C = std::min(I, i0 + l2n_chunk) - i0;
      const index_t cw = C - C % w;
      const T* src = x + o * N * I + i0;
      T* dst = y + o * N * I + i0;
      dot_cols<Arch>(N, I, C, src, src, part, total);
      for (index_t i = 0; i < C; ++i) {
        const double nrm = std::sqrt(total[i]);
        norm[o * I + i0 + i] = T(nrm);
        part[i] = T(std::max(nrm, eps));  // the denominator
      }
      for (index_t r = 0; r < N; ++r) {
        const T* row = src + r * I;
        T* out = dst + r * I;
        for (index_t i = 0; i < cw; i += w)
          (V::load_unaligned(row + i) / V::load_aligned(part + i)).store_unaligned(out + i);
        for (index_t i = cw; i < C; ++i) out[i] = row[i] / part[i];
      }
    }
  });
}

// dx = (gy - y * dot) / denom with dot = sum gy*y and denom = norm, or dot = 0 and denom = eps
// where the clamp max(norm, eps) was active.
template <class Arch, class T>
void l2_normalize_backward_simd(Arch, const kernels::axis_geom& g, double eps, const T* y, const T* norm,
                                const T* gy, T* dx) {
  using V = xsimd::batch<T, Arch>;
  constexpr index_t w = V::size;
  const index_t N = g.n, I = g.inner;
  if (g.outer * I == 0) return;
  if (I == 1) {
    parallel_for(0, g.outer, l2n_grain(N), [&](index_t lo, index_t hi) {
      for (index_t o = lo; o < hi; ++o) {
        const T* yr = y + o * N;
        const T* gr = gy + o * N;
        T* out = dx + o * N;
        const bool clamped = double(norm[o]) < eps;
        const T dot = clamped ? T(0) : T(dot_row<Arch>(N, gr, yr));
        const T denom = clamped ? T(eps) : norm[o];
        index_t r = 0;
        for (; r + w <= N; r += w)
          (xsimd::fnma(V::load_unaligned(yr + r), V(dot), V::load_unaligned(gr + r)) / V(denom)).store_unaligned(out + r);
        for (; r < N; ++r) out[r] = (gr[r] - yr[r] * dot) / denom;
      }
    });
    return;
  }
  const index_t chunks = (I + l2n_chunk - 1) / l2n_chunk;
  parallel_for(0, g.outer * chunks, l2n_grain(N * std::min(I, l2n_chunk)), [&](index_t lo, index_t hi) {
    alignas(64) T part[l2n_chunk], denom[l2n_chunk];
    double total[l2n_chunk];
    for (index_t t = lo; t < hi; ++t) {
      const index_t o = t / chunks, i0 = (t % chunks) * l2n_chunk, C = std::min(I, i0 + l2n_chunk) - i0;
      const index_t cw = C - C % w;
      const index_t base = o * N * I + i0;
      dot_cols<Arch>(N, I, C, gy + base, y + base, part, total);
      for (index_t i = 0; i < C; ++i) {
        const T nrm = norm[o * I + i0 + i];
        const bool clamped = double(nrm) < eps;
        part[i] = clamped ? T(0) : T(total[i]);  // now the dot product
        denom[i] = clamped ? T(eps) : nrm;
      }
      for (index_t r = 0; r < N; ++r) {
        const T* yr = y + base + r * I;
        const T* gr = gy + base + r * I;
        T* out = dx + base + r * I;
        for (index_t i = 0; i < cw; i += w)
          (xsimd::fnma(V::load_unaligned(yr + i), V::load_aligned(part + i), V::load_unaligned(gr + i)) /
           V::load_aligned(denom + i))
              .store_unaligned(out + i);
        for (index_t i = cw; i < C; ++i) out[i] = (gr[i] - yr[i] * part[i]) / denom[i];
      }
    }
  });
}

// ---- pairwise_distance ---------------------------------------------------------------------
// Squared differences are summed directly (|a|^2 + |b|^2 - 2ab would cancel for close points).
// Forward: b is transposed to [d, m] so that a register tile of R rows of a times 2 batches of
// columns accumulates with broadcasts of a and vector loads of b, for any d (even d = 2).

// The first `count` (< width) values of p in a batch, zeros in the other lanes.
template <class V, class T>
V load_partial_zero(const T* p, index_t count) {
  alignas(64) T buf[V::size] = {};
  std::copy(p, p + count, buf);
  return V::load_aligned(buf);
}

inline constexpr int cdist_tile_rows = 4;
// Columns of b^T (or rows of b) per block, sized so that a block of d values each stays in L2.
inline index_t cdist_block(index_t d, index_t multiple, std::size_t elem) {
  const index_t cols = index_t((std::size_t(128) << 10) / (std::max<index_t>(d, 1) * elem));
  return std::max(multiple, cols - cols % multiple);
}

template <class Arch, int R, class T>
void cdist_tile(const T* a, index_t d, const T* bT, index_t mp, index_t j0, index_t j1, T* out, index_t m) {
  using V = xsimd::batch<T, Arch>;
  constexpr index_t w = V::size;
  for (index_t j = j0; j < j1; j += 2 * w) {
    V acc[R][2];
    for (int r = 0; r < R; ++r) acc[r][0] = acc[r][1] = V(T(0));
    for (index_t k = 0; k < d; ++k) {
      const T* bk = bT + k * mp + j;
      const V b0 = V::load_aligned(bk), b1 = V::load_aligned(bk + w);
      for (int r = 0; r < R; ++r) {
        const V av(a[r * d + k]);
        const V t0 = av - b0, t1 = av - b1;
        acc[r][0] = xsimd::fma(t0, t0, acc[r][0]);
        acc[r][1] = xsimd::fma(t1, t1, acc[r][1]);
      }
    }
    for (int r = 0; r < R; ++r) {
      T* o = out + r * m + j;
      if (j + 2 * w <= m) {
        xsimd::sqrt(acc[r][0]).store_unaligned(o);
        xsimd::sqrt(acc[r][1]).store_unaligned(o + w);
      } else {
        alignas(64) T buf[2 * w];
        xsimd::sqrt(acc[r][0]).store_aligned(buf);
        xsimd::sqrt(acc[r][1]).store_aligned(buf + w);
        std::copy(buf, buf + (m - j), o);
      }
    }
  }
}

template <class Arch, class T>
void pairwise_distance_forward_simd(Arch, const kernels::cdist_geom& g, const T* a, const T* b, T* dist) {
  using V = xsimd::batch<T, Arch>;
  constexpr index_t w = V::size;
  const index_t n = g.n, m = g.m, d = g.d;
  if (n == 0 || m == 0) return;
  const index_t mp = (m + 2 * w - 1) / (2 * w) * (2 * w);  // padded with zero columns
  const index_t block = cdist_block(d, 2 * w, sizeof(T));
  const index_t tiles = (n + cdist_tile_rows - 1) / cdist_tile_rows;
  const index_t grain = std::max<index_t>(1, elementwise_grain / std::max<index_t>(cdist_tile_rows * m * std::max<index_t>(d, 1), 1));
  std::vector<T, xsimd::aligned_allocator<T, 64>> bT(static_cast<std::size_t>(d * mp), T(0));
  for (index_t t = 0; t < g.batch; ++t) {
    const T* at = a + t * n * d;
    const T* bt = b + t * m * d;
    T* out = dist + t * n * m;
    for (index_t j = 0; j < m; ++j)
      for (index_t k = 0; k < d; ++k) bT[std::size_t(k * mp + j)] = bt[j * d + k];
    parallel_for(0, tiles, grain, [&](index_t lo, index_t hi) {
      for (index_t j0 = 0; j0 < mp; j0 += block) {
        const index_t j1 = std::min(mp, j0 + block);
        for (index_t tile = lo; tile < hi; ++tile) {
          const index_t i = tile * cdist_tile_rows;
          if (i + cdist_tile_rows <= n) {
            cdist_tile<Arch, cdist_tile_rows>(at + i * d, d, bT.data(), mp, j0, j1, out + i * m, m);
          } else {
            for (index_t r = i; r < n; ++r) cdist_tile<Arch, 1>(at + r * d, d, bT.data(), mp, j0, j1, out + r * m, m);
          }
        }
      }
    });
  }
}

// out[p, :] = sum_q W(p, q) * (P[p, :] - Q[q, :]) with W(p, q) = w[p * sp + q * sq]: da (P = a,
// Q = b, W = w) and db (P = b, Q = a, W = w^T) alike. Vectorised over d with R rows of P per
// register tile; Q is walked in blocks that stay in L2, each block summed from zero and then added
// to out (so rounding grows with the block length, not with nq).
template <class Arch, class T>
void cdist_grad(const T* P, index_t np, const T* Q, index_t nq, index_t d, const T* W, index_t sp, index_t sq,
                T* out) {
  using V = xsimd::batch<T, Arch>;
  constexpr index_t w = V::size;
  constexpr int R = cdist_tile_rows;
  const index_t dw = d - d % w;
  const index_t block = cdist_block(d, 1, sizeof(T));
  const index_t tiles = (np + R - 1) / R;
  const index_t grain = std::max<index_t>(1, elementwise_grain / std::max<index_t>(R * nq * std::max<index_t>(d, 1), 1));
  std::fill(out, out + np * d, T(0));
  parallel_for(0, tiles, grain, [&](index_t lo, index_t hi) {
    for (index_t q0 = 0; q0 < nq; q0 += block) {
      const index_t q1 = std::min(nq, q0 + block);
      for (index_t tile = lo; tile < hi; ++tile) {
        const index_t p0 = tile * R, rows = std::min<index_t>(R, np - p0);
        if (rows == R) {
          for (index_t k = 0; k < dw; k += w) {
            V acc[R], pv[R];
            for (int r = 0; r < R; ++r) {
              acc[r] = V(T(0));
              pv[r] = V::load_unaligned(P + (p0 + r) * d + k);
            }
            for (index_t q = q0; q < q1; ++q) {
              const V qv = V::load_unaligned(Q + q * d + k);
              const T* wq = W + p0 * sp + q * sq;
              for (int r = 0; r < R; ++r) acc[r] = xsimd::fma(V(wq[r * sp]), pv[r] - qv, acc[r]);
            }
            for (int r = 0; r < R; ++r) {
              T* o = out + (p0 + r) * d + k;
              (V::load_unaligned(o) + acc[r]).store_unaligned(o);
            }
          }
        } else {
          for (index_t r = 0; r < rows; ++r)
            for (index_t k = 0; k < dw; k += w) {
              V acc(T(0));
              const V pv = V::load_unaligned(P + (p0 + r) * d + k);
              for (index_t q = q0; q < q1; ++q)
                acc = xsimd::fma(V(W[(p0 + r) * sp + q * sq]), pv - V::load_unaligned(Q + q * d + k), acc);
              T* o = out + (p0 + r) * d + k;
              (V::load_unaligned(o) + acc).store_unaligned(o);
            }
        }
        // the features past the last full batch (all of them when d < width), summed in double:
        // scalar code pays nothing for it
        for (index_t r = 0; r < rows; ++r)
          for (index_t k = dw; k < d; ++k) {
            double s = 0;
            const T pk = P[(p0 + r) * d + k];
            for (index_t q = q0; q < q1; ++q) s += double(W[(p0 + r) * sp + q * sq] * (pk - Q[q * d + k]));
            out[(p0 + r) * d + k] += T(s);
          }
      }
    }
  });
}

// Small d (keypoint coordinates, d = 2): vectorised over the other point set instead of d, with
// b transposed to [d, mp] as in the forward. Lane sums run in T over blocks of `small_block`
// terms and in double across blocks: the terms are O(|gy|) and cancel, so long float sums would
// lose ~1e-5 absolute at a thousand points (measured); flushing every 8 keeps it ~1e-7.
inline constexpr index_t small_block = 8;

// da[i, k] = sum_j W[i, j] (a[i, k] - b[j, k]): W rows are contiguous in j.
template <class Arch, int D, class T>
void cdist_grad_a_small(const T* a, const T* bT, index_t mp, const T* W, index_t n, index_t m, T* da) {
  using V = xsimd::batch<T, Arch>;
  constexpr index_t w = V::size;
  const index_t grain = std::max<index_t>(1, elementwise_grain / std::max<index_t>(m * D, 1));
  parallel_for(0, n, grain, [&](index_t lo, index_t hi) {
    for (index_t i = lo; i < hi; ++i) {
      V ai[D];
      double total[D] = {};
      for (int k = 0; k < D; ++k) ai[k] = V(a[i * D + k]);
      const T* wi = W + i * m;
      for (index_t j0 = 0; j0 < m; j0 += small_block * w) {
        const index_t j1 = std::min(m, j0 + small_block * w);
        V acc[D];
        for (int k = 0; k < D; ++k) acc[k] = V(T(0));
        index_t j = j0;
        for (; j + w <= j1; j += w) {
          const V wv = V::load_unaligned(wi + j);
          for (int k = 0; k < D; ++k) acc[k] = xsimd::fma(wv, ai[k] - V::load_aligned(bT + k * mp + j), acc[k]);
        }
        if (j < j1) {  // zero weights in the padding lanes
          const V wv = load_partial_zero<V>(wi + j, j1 - j);
          for (int k = 0; k < D; ++k) acc[k] = xsimd::fma(wv, ai[k] - V::load_aligned(bT + k * mp + j), acc[k]);
        }
        for (int k = 0; k < D; ++k) total[k] += double(xsimd::hadd(acc[k]));
      }
      for (int k = 0; k < D; ++k) da[i * D + k] = T(total[k]);
    }
  });
}

// db[j, k] = sum_i W[i, j] (b[j, k] - a[i, k]): one batch of columns j per task step, walking
// down the rows of W.
template <class Arch, int D, class T>
void cdist_grad_b_small(const T* a, const T* bT, index_t mp, const T* W, index_t n, index_t m, T* db) {
  using V = xsimd::batch<T, Arch>;
  constexpr index_t w = V::size;
  const index_t batches = (m + w - 1) / w;
  const index_t grain = std::max<index_t>(1, elementwise_grain / std::max<index_t>(n * w * D, 1));
  parallel_for(0, batches, grain, [&](index_t lo, index_t hi) {
    alignas(64) T lanes[w];
    for (index_t jb = lo; jb < hi; ++jb) {
      const index_t j = jb * w, cols = std::min(w, m - j);
      V bj[D];
      double total[D][w] = {};
      for (int k = 0; k < D; ++k) bj[k] = V::load_aligned(bT + k * mp + j);
      for (index_t i0 = 0; i0 < n; i0 += small_block) {
        const index_t i1 = std::min(n, i0 + small_block);
        V acc[D];
        for (int k = 0; k < D; ++k) acc[k] = V(T(0));
        for (index_t i = i0; i < i1; ++i) {
          const V wv = cols == w ? V::load_unaligned(W + i * m + j) : load_partial_zero<V>(W + i * m + j, cols);
          for (int k = 0; k < D; ++k) acc[k] = xsimd::fma(wv, bj[k] - V(a[i * D + k]), acc[k]);
        }
        for (int k = 0; k < D; ++k) {
          acc[k].store_aligned(lanes);
          for (index_t l = 0; l < w; ++l) total[k][l] += double(lanes[l]);
        }
      }
      for (index_t l = 0; l < cols; ++l)
        for (int k = 0; k < D; ++k) db[(j + l) * D + k] = T(total[k][l]);
    }
  });
}

template <class Arch, int D, class T>
void cdist_grad_small(const kernels::cdist_geom& g, const T* a, const T* b, const T* W, T* da, T* db) {
  using V = xsimd::batch<T, Arch>;
  constexpr index_t w = V::size;
  const index_t n = g.n, m = g.m;
  const index_t mp = (m + w - 1) / w * w;
  std::vector<T, xsimd::aligned_allocator<T, 64>> bT(static_cast<std::size_t>(D * mp), T(0));
  for (index_t j = 0; j < m; ++j)
    for (int k = 0; k < D; ++k) bT[std::size_t(k * mp + j)] = b[j * D + k];
  if (da) cdist_grad_a_small<Arch, D>(a, bT.data(), mp, W, n, m, da);
  if (db) cdist_grad_b_small<Arch, D>(a, bT.data(), mp, W, n, m, db);
}

template <class Arch, class T>
void pairwise_distance_backward_simd(Arch, const kernels::cdist_geom& g, const T* a, const T* b, const T* dist,
                                     const T* gy, T* da, T* db) {
  using V = xsimd::batch<T, Arch>;
  constexpr index_t w = V::size;
  const index_t n = g.n, m = g.m, d = g.d, nm = n * m;
  std::vector<T, xsimd::aligned_allocator<T, 64>> wts(static_cast<std::size_t>(nm));
  for (index_t t = 0; t < g.batch; ++t) {
    // w = gy / dist, 0 at coincident points (the subgradient torch.cdist picks)
    const T* dt = dist + t * nm;
    const T* gt = gy + t * nm;
    parallel_for(0, nm, elementwise_grain, [&](index_t lo, index_t hi) {
      const V zero(T(0));
      index_t k = lo;
      for (; k + w <= hi; k += w) {
        const V dv = V::load_unaligned(dt + k);
        xsimd::select(dv == zero, zero, V::load_unaligned(gt + k) / dv).store_unaligned(wts.data() + k);
      }
      for (; k < hi; ++k) wts[std::size_t(k)] = dt[k] == T(0) ? T(0) : gt[k] / dt[k];
    });
    const T* at = a + t * n * d;
    const T* bt = b + t * m * d;
    T* dat = da ? da + t * n * d : nullptr;
    T* dbt = db ? db + t * m * d : nullptr;
    switch (d) {
      case 1: cdist_grad_small<Arch, 1>(g, at, bt, wts.data(), dat, dbt); break;
      case 2: cdist_grad_small<Arch, 2>(g, at, bt, wts.data(), dat, dbt); break;
      case 3: cdist_grad_small<Arch, 3>(g, at, bt, wts.data(), dat, dbt); break;
      case 4: cdist_grad_small<Arch, 4>(g, at, bt, wts.data(), dat, dbt); break;
      default:
        if (dat) cdist_grad<Arch>(at, n, bt, m, d, wts.data(), m, 1, dat);
        if (dbt) cdist_grad<Arch>(bt, m, at, n, d, wts.data(), 1, m, dbt);
    }
  }
}

template void l2_normalize_forward_simd<KPT_CPU_ARCH, float>(KPT_CPU_ARCH, const kernels::axis_geom&, double,
                                                             const float*, float*, float*);
template void l2_normalize_forward_simd<KPT_CPU_ARCH, double>(KPT_CPU_ARCH, const kernels::axis_geom&, double,
                                                              const double*, double*, double*);
template void l2_normalize_backward_simd<KPT_CPU_ARCH, float>(KPT_CPU_ARCH, const kernels::axis_geom&, double,
                                                              const float*, const float*, const float*, float*);
template void l2_normalize_backward_simd<KPT_CPU_ARCH, double>(KPT_CPU_ARCH, const kernels::axis_geom&, double,
                                                               const double*, const double*, const double*, double*);
template void pairwise_distance_forward_simd<KPT_CPU_ARCH, float>(KPT_CPU_ARCH, const kernels::cdist_geom&,
                                                                  const float*, const float*, float*);
template void pairwise_distance_forward_simd<KPT_CPU_ARCH, double>(KPT_CPU_ARCH, const kernels::cdist_geom&,
                                                                   const double*, const double*, double*);
template void pairwise_distance_backward_simd<KPT_CPU_ARCH, float>(KPT_CPU_ARCH, const kernels::cdist_geom&,
                                                                   const float*, const float*, const float*,
                                                                   const float*, float*, float*);
template void pairwise_distance_backward_simd<KPT_CPU_ARCH, double>(KPT_CPU_ARCH, const kernels::cdist_geom&,
                                                                    const double*, const double*, const double*,
                                                                    const double*, double*, double*);

}  // namespace kpt::cpu_detail
#endif
