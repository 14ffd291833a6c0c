#pragma once
// Kernel interface of grid_sample: bilinear sampling of x [n, channels, height, width] at the
// normalised points of grid [n, out_h, out_w, 2] ((x, y) in [-1, 1]), zeros outside the image;
// y is [n, channels, out_h, out_w]. Same conventions as torch.nn.functional.grid_sample(
// mode='bilinear', padding_mode='zeros').
#include "kpt/core/shape.hpp"

namespace kpt::kernels {

struct grid_sample_geom {
  index_t n = 0, channels = 0, height = 0, width = 0, out_h = 0, out_w = 0;
  bool align_corners = false;
  index_t points() const { return out_h * out_w; }
};

// Pixel coordinate of normalised coordinate g along an axis of `size` pixels (PyTorch's
// unnormalisation): align_corners: -1 and 1 are the centres of the first and last pixels;
// otherwise they are the outer edges of those pixels.
//   align_corners:  ((g + 1) / 2) * (size - 1)
//   otherwise:      ((g + 1) * size - 1) / 2
// Backends evaluate it in double: for float grids that is exact (so no backend can round
// differently, e.g. by contracting to a fused multiply-add, and disagree on which pixels a point
// falls between), for double grids it is PyTorch's arithmetic.
// d(pixel)/d(g) is (size - 1) / 2, or size / 2.
//
// Per backend:
//   void grid_sample_forward(B, const grid_sample_geom&, const T* x, const T* grid, T* y);
//   void grid_sample_backward(B, const grid_sample_geom&, const T* x, const T* grid, const T* gy,
//                             T* grad_x /*nullptr: not needed*/, T* grad_grid /*nullptr: not needed*/);
// Both gradients are overwritten (not accumulated into).

}  // namespace kpt::kernels
