#pragma once
// Reference grid_sample kernels: one point at a time, weights and sums in double.
#include <cmath>
#include <vector>

#include "kpt/core/backend.hpp"
#include "kpt/kernels/grid_sample.hpp"

namespace kpt::kernels {

namespace ref_detail {

// The four pixels around a sample point, their bilinear weights (0 for a pixel outside the image)
// and the fractional position inside the cell, for the grid gradient.
struct bilinear_point {
  index_t off[4] = {0, 0, 0, 0};  // offsets in a channel plane: (y0,x0) (y0,x1) (y1,x0) (y1,x1)
  bool in[4] = {false, false, false, false};
  double w[4] = {0, 0, 0, 0};
  double fx = 0, fy = 0;        // ix - x0, iy - y0
  double dx = 0, dy = 0;        // d(ix)/d(grid x), d(iy)/d(grid y)
};

inline double source_coord(double g, index_t size, bool align_corners) {
  return align_corners ? ((g + 1) / 2) * double(size - 1) : ((g + 1) * double(size) - 1) / 2;
}

template <class T>
bilinear_point locate(const grid_sample_geom& geo, T gx, T gy) {
  bilinear_point p;
  double ix = source_coord(double(gx), geo.width, geo.align_corners);
  double iy = source_coord(double(gy), geo.height, geo.align_corners);
  p.dx = geo.align_corners ? double(geo.width - 1) / 2 : double(geo.width) / 2;
  p.dy = geo.align_corners ? double(geo.height - 1) / 2 : double(geo.height) / 2;
  // Far outside (or NaN): every corner is out of the image; clamp so the floor stays representable.
  if (!(ix >= -2)) ix = -2;
  if (!(ix <= double(geo.width) + 1)) ix = double(geo.width) + 1;
  if (!(iy >= -2)) iy = -2;
  if (!(iy <= double(geo.height) + 1)) iy = double(geo.height) + 1;
  const double x0 = std::floor(ix), y0 = std::floor(iy);
  p.fx = ix - x0;
  p.fy = iy - y0;
  const index_t xs[2] = {index_t(x0), index_t(x0) + 1}, ys[2] = {index_t(y0), index_t(y0) + 1};
  const double wx[2] = {1 - p.fx, p.fx}, wy[2] = {1 - p.fy, p.fy};
  for (int k = 0; k < 4; ++k) {
    const index_t xx = xs[k & 1], yy = ys[k >> 1];
    p.in[k] = xx >= 0 && xx < geo.width && yy >= 0 && yy < geo.height;
    if (p.in[k]) {
      p.off[k] = yy * geo.width + xx;
      p.w[k] = wx[k & 1] * wy[k >> 1];
    }
  }
  return p;
}

}  // namespace ref_detail

template <class T>
void grid_sample_forward(cpu_ref, const grid_sample_geom& g, const T* x, const T* grid, T* y) {
  const index_t P = g.points(), HW = g.height * g.width;
  for (index_t b = 0; b < g.n; ++b)
    for (index_t p = 0; p < P; ++p) {
      const T* gp = grid + (b * P + p) * 2;
      const auto pt = ref_detail::locate(g, gp[0], gp[1]);
      for (index_t c = 0; c < g.channels; ++c) {
        const T* plane = x + (b * g.channels + c) * HW;
        double v = 0;
        for (int k = 0; k < 4; ++k)
          if (pt.in[k]) v += pt.w[k] * double(plane[pt.off[k]]);
        y[(b * g.channels + c) * P + p] = T(v);
      }
    }
}

template <class T>
void grid_sample_backward(cpu_ref, const grid_sample_geom& g, const T* x, const T* grid, const T* gy, T* grad_x,
                          T* grad_grid) {
  const index_t P = g.points(), HW = g.height * g.width;
  std::vector<double> acc(grad_x ? static_cast<std::size_t>(g.n * g.channels * HW) : 0u, 0.0);
  for (index_t b = 0; b < g.n; ++b)
    for (index_t p = 0; p < P; ++p) {
      const T* gp = grid + (b * P + p) * 2;
      const auto pt = ref_detail::locate(g, gp[0], gp[1]);
      double dix = 0, diy = 0;
      for (index_t c = 0; c < g.channels; ++c) {
        const index_t plane = (b * g.channels + c) * HW;
        const double go = gy[(b * g.channels + c) * P + p];
        if (grad_x)
          for (int k = 0; k < 4; ++k)
            if (pt.in[k]) acc[std::size_t(plane + pt.off[k])] += pt.w[k] * go;
        double v[4];
        for (int k = 0; k < 4; ++k) v[k] = pt.in[k] ? double(x[plane + pt.off[k]]) : 0.0;
        dix += go * ((1 - pt.fy) * (v[1] - v[0]) + pt.fy * (v[3] - v[2]));
        diy += go * ((1 - pt.fx) * (v[2] - v[0]) + pt.fx * (v[3] - v[1]));
      }
      if (grad_grid) {
        grad_grid[(b * P + p) * 2] = T(dix * pt.dx);
        grad_grid[(b * P + p) * 2 + 1] = T(diy * pt.dy);
      }
    }
  for (std::size_t e = 0; e < acc.size(); ++e) grad_x[e] = T(acc[e]);
}

}  // namespace kpt::kernels
