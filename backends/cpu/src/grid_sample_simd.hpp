#pragma once
// grid_sample kernels of kpt::cpu (bilinear, zeros padding). The sample points are located in
// blocks (four pixel offsets and weights per point; a corner outside the image gets weight 0),
// then every channel plane is read through those offsets, so the point arithmetic is done once
// per block and not once per channel. Parallel over (batch, block of points) for the forward
// and the grid gradient, and over (batch, block of channels) for the image gradient, whose
// scatter-adds then never collide.
#include "kpt/kernels/grid_sample.hpp"

namespace kpt::cpu_detail {

template <class Arch, class T>
void grid_sample_forward_simd(Arch, const kernels::grid_sample_geom& g, const T* x, const T* grid, T* y);
template <class Arch, class T>
void grid_sample_backward_simd(Arch, const kernels::grid_sample_geom& g, const T* x, const T* grid, const T* gy,
                               T* grad_x, T* grad_grid);

}  // namespace kpt::cpu_detail

#ifdef KPT_CPU_ARCH
#include <xsimd/xsimd.hpp>  // the arch types named by KPT_CPU_ARCH

#include <algorithm>
#include <cmath>

#include "parallel.hpp"

namespace kpt::cpu_detail {

inline constexpr index_t gs_block = 64;  // points located at a time

// The points [p0, p1) of batch b: corner k = (y0,x0) (y0,x1) (y1,x0) (y1,x1).
template <class Arch, class T>
struct gs_points {
  index_t off[4][gs_block];
  T w[4][gs_block];
  T in[4][gs_block];  // 1 inside the image, 0 outside (off is then 0, a safe address)
  double fx[gs_block], fy[gs_block];  // position inside the cell, for the grid gradient

  void locate(const kernels::grid_sample_geom& g, const T* grid, index_t b, index_t p0, index_t p1) {
    const index_t W = g.width, H = g.height;
    for (index_t p = p0; p < p1; ++p) {
      const index_t q = p - p0;
      const T* gp = grid + (b * g.points() + p) * 2;
      // PyTorch's unnormalisation in double, as the reference (see kernels/grid_sample.hpp).
      const double gx = gp[0], gy = gp[1];
      double ix = g.align_corners ? ((gx + 1) / 2) * double(W - 1) : ((gx + 1) * double(W) - 1) / 2;
      double iy = g.align_corners ? ((gy + 1) / 2) * double(H - 1) : ((gy + 1) * double(H) - 1) / 2;
      // Far outside (or NaN): all corners are outside; clamping keeps the floor representable.
      if (!(ix >= -2)) ix = -2;
      if (!(ix <= double(W + 1))) ix = double(W + 1);
      if (!(iy >= -2)) iy = -2;
      if (!(iy <= double(H + 1))) iy = double(H + 1);
      const double x0 = std::floor(ix), y0 = std::floor(iy), ax = ix - x0, ay = iy - y0;
      fx[q] = ax;
      fy[q] = ay;
      const index_t xs[2] = {index_t(x0), index_t(x0) + 1}, ys[2] = {index_t(y0), index_t(y0) + 1};
      const double wx[2] = {1 - ax, ax}, wy[2] = {1 - ay, ay};
      for (int k = 0; k < 4; ++k) {
        const index_t xx = xs[k & 1], yy = ys[k >> 1];
        const bool inside = xx >= 0 && xx < W && yy >= 0 && yy < H;
        off[k][q] = inside ? yy * W + xx : 0;
        in[k][q] = inside ? T(1) : T(0);
        w[k][q] = inside ? T(wx[k & 1] * wy[k >> 1]) : T(0);
      }
    }
  }
};

template <class Arch, class T>
void grid_sample_forward_simd(Arch, const kernels::grid_sample_geom& g, const T* x, const T* grid, T* y) {
  const index_t P = g.points(), C = g.channels, HW = g.height * g.width;
  if (g.n * C * P == 0) return;
  const index_t blocks = (P + gs_block - 1) / gs_block;
  const index_t grain = std::max<index_t>(1, elementwise_grain / (4 * gs_block * C));
  parallel_for(0, g.n * blocks, grain, [&](index_t lo, index_t hi) {
    gs_points<Arch, T> pts;
    for (index_t t = lo; t < hi; ++t) {
      const index_t b = t / blocks, p0 = (t % blocks) * gs_block, p1 = std::min(P, p0 + gs_block), np = p1 - p0;
      pts.locate(g, grid, b, p0, p1);
      for (index_t c = 0; c < C; ++c) {
        const T* plane = x + (b * C + c) * HW;
        T* out = y + (b * C + c) * P + p0;
        for (index_t q = 0; q < np; ++q)
          out[q] = pts.w[0][q] * plane[pts.off[0][q]] + pts.w[1][q] * plane[pts.off[1][q]] +
                   pts.w[2][q] * plane[pts.off[2][q]] + pts.w[3][q] * plane[pts.off[3][q]];
      }
    }
  });
}

template <class Arch, class T>
void grid_sample_backward_simd(Arch, const kernels::grid_sample_geom& g, const T* x, const T* grid, const T* gy,
                               T* grad_x, T* grad_grid) {
  const index_t P = g.points(), C = g.channels, HW = g.height * g.width;
  const index_t blocks = (P + gs_block - 1) / gs_block;
  if (grad_x) {
    const index_t total = g.n * C * HW;
    parallel_for(0, total, elementwise_grain, [&](index_t lo, index_t hi) {
      for (index_t e = lo; e < hi; ++e) grad_x[e] = T(0);
    });
    // Tasks own whole channel planes: (batch, block of cb channels), all points each.
    const index_t cb = std::min<index_t>(std::max<index_t>(C, 1), 32);
    const index_t cblocks = (C + cb - 1) / cb;
    const index_t grain = std::max<index_t>(1, elementwise_grain / std::max<index_t>(4 * cb * P, 1));
    if (P > 0)
      parallel_for(0, g.n * cblocks, grain, [&](index_t lo, index_t hi) {
        gs_points<Arch, T> pts;
        for (index_t t = lo; t < hi; ++t) {
          const index_t b = t / cblocks, c0 = (t % cblocks) * cb, c1 = std::min(C, c0 + cb);
          for (index_t p0 = 0; p0 < P; p0 += gs_block) {
            const index_t p1 = std::min(P, p0 + gs_block), np = p1 - p0;
            pts.locate(g, grid, b, p0, p1);
            for (index_t c = c0; c < c1; ++c) {
              T* plane = grad_x + (b * C + c) * HW;
              const T* go = gy + (b * C + c) * P + p0;
              for (index_t q = 0; q < np; ++q)
                for (int k = 0; k < 4; ++k) plane[pts.off[k][q]] += pts.w[k][q] * go[q];
            }
          }
        }
      });
  }
  if (grad_grid) {
    const double sx = g.align_corners ? double(g.width - 1) / 2 : double(g.width) / 2;
    const double sy = g.align_corners ? double(g.height - 1) / 2 : double(g.height) / 2;
    const index_t grain = std::max<index_t>(1, elementwise_grain / (4 * gs_block * std::max<index_t>(C, 1)));
    parallel_for(0, g.n * blocks, grain, [&](index_t lo, index_t hi) {
      gs_points<Arch, T> pts;
      double dix[gs_block], diy[gs_block];
      for (index_t t = lo; t < hi; ++t) {
        const index_t b = t / blocks, p0 = (t % blocks) * gs_block, p1 = std::min(P, p0 + gs_block), np = p1 - p0;
        pts.locate(g, grid, b, p0, p1);
        for (index_t q = 0; q < np; ++q) dix[q] = diy[q] = 0.0;
        for (index_t c = 0; c < C; ++c) {
          const T* plane = x + (b * C + c) * HW;
          const T* go = gy + (b * C + c) * P + p0;
          for (index_t q = 0; q < np; ++q) {
            // In double: the grid gradient is a sum over channels of differences that cancel.
            double v[4];
            for (int k = 0; k < 4; ++k) v[k] = double(pts.in[k][q] * plane[pts.off[k][q]]);
            const double fx = pts.fx[q], fy = pts.fy[q], o = double(go[q]);
            dix[q] += o * ((1 - fy) * (v[1] - v[0]) + fy * (v[3] - v[2]));
            diy[q] += o * ((1 - fx) * (v[2] - v[0]) + fx * (v[3] - v[1]));
          }
        }
        T* gg = grad_grid + (b * P + p0) * 2;
        for (index_t q = 0; q < np; ++q) {
          gg[2 * q] = T(dix[q] * sx);
          gg[2 * q + 1] = T(diy[q] * sy);
        }
      }
    });
  }
}

#define KPT_GS_INST(T)                                                                                          \
  template void grid_sample_forward_simd<KPT_CPU_ARCH, T>(KPT_CPU_ARCH, const kernels::grid_sample_geom&,       \
                                                          const T*, const T*, T*);                              \
  template void grid_sample_backward_simd<KPT_CPU_ARCH, T>(KPT_CPU_ARCH, const kernels::grid_sample_geom&,      \
                                                           const T*, const T*, const T*, T*, T*);
KPT_GS_INST(float)
KPT_GS_INST(double)
#undef KPT_GS_INST

}  // namespace kpt::cpu_detail
#endif
