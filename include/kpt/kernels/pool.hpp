#pragma once
// Kernel interface of 2-D max pooling, shared by ops/pool.hpp and the backends.
#include "kpt/core/shape.hpp"

namespace kpt::kernels {

// x is [n, c, h, w]; square windows of `kernel` taps, moved by `stride`, over x padded with
// -infinity by `padding` on every side (as PyTorch, ceil_mode = false).
struct pool2d_geom {
  index_t n = 0, c = 0, h = 0, w = 0;
  index_t kernel = 1, stride = 1, padding = 0;
  index_t oh = 0, ow = 0;  // output height and width
  index_t planes() const { return n * c; }
};

// Checks the arguments of `op` (PyTorch's rules) and computes the output size.
inline pool2d_geom make_pool2d(const char* op, const kpt::shape& x, index_t kernel, index_t stride,
                               index_t padding) {
  require<shape_error>(x.rank() == 4, op, ": expects x of shape [N, C, H, W], got ", x.str());
  require<value_error>(kernel >= 1, op, ": kernel must be at least 1, got ", kernel);
  require<value_error>(stride >= 0, op, ": stride must be positive (or 0 for stride = kernel), got ", stride);
  require<value_error>(padding >= 0 && 2 * padding <= kernel, op, ": padding must be in [0, kernel / 2], got ",
                       padding, " for kernel ", kernel);
  pool2d_geom g;
  g.n = x[0];
  g.c = x[1];
  g.h = x[2];
  g.w = x[3];
  g.kernel = kernel;
  g.stride = stride == 0 ? kernel : stride;
  g.padding = padding;
  const index_t ph = g.h + 2 * padding - kernel, pw = g.w + 2 * padding - kernel;
  require<shape_error>(ph >= 0 && pw >= 0, op, ": input ", x.str(), " is smaller than the kernel ", kernel,
                       " (padding ", padding, ")");
  g.oh = ph / g.stride + 1;
  g.ow = pw / g.stride + 1;
  return g;
}

// Signatures every backend implements (T = float, double):
//   max_pool2d_forward(B, const pool2d_geom&, const T* x, T* y, index_t* argmax)
//     y [n, c, oh, ow] = window maxima; argmax (same size, may be null) = the flat index h * w + w
//     inside the input plane of the first maximum of each window in row-major order (a NaN wins).
//   max_pool2d_backward(B, const pool2d_geom&, const T* gy, const index_t* argmax, T* gx)
//     gx [n, c, h, w] = zeros, then gy scattered (summed) at argmax.

}  // namespace kpt::kernels
