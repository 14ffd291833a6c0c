#pragma once
// Kernel interface of the shape family (permute, concat, slice). The [outer, n, inner] view of a
// tensor around one axis (axis_geom, make_axis_geom) that concat, slice, index and select use is
// the one of kpt/kernels/reduce.hpp.
#include <array>
#include <span>

#include "kpt/core/shape.hpp"
#include "kpt/kernels/reduce.hpp"

namespace kpt::kernels {

// y = x with permuted axes. y is walked row-major over out_dims; in_stride[i] is how far x moves
// when output coordinate i grows by one. Both are left-padded to max_rank (size 1, stride 0), and
// output axes that are also neighbours in x are merged, so a permutation that moves only whole
// blocks becomes a copy of long contiguous rows.
struct permute_geom {
  std::array<index_t, max_rank> out_dims{1, 1, 1, 1, 1};
  std::array<index_t, max_rank> in_stride{};
  index_t numel = 0;
};

// axes[i] = the input axis that becomes output axis i (a permutation of 0..rank-1, checked by the op).
inline permute_geom make_permute(const kpt::shape& in, std::span<const int> axes) {
  std::array<index_t, max_rank> dims{}, strides{};
  int r = 0;
  for (int axis : axes) {
    if (in[axis] == 1) continue;  // size-1 axes move nothing
    const index_t d = in[axis], s = in.stride(axis);
    if (r > 0 && strides[r - 1] == s * d) {  // contiguous with the previous output axis: merge
      dims[r - 1] *= d;
      strides[r - 1] = s;
    } else {
      dims[r] = d;
      strides[r] = s;
      ++r;
    }
  }
  permute_geom g;
  for (int i = 0; i < r; ++i) {
    g.out_dims[max_rank - r + i] = dims[i];
    g.in_stride[max_rank - r + i] = strides[i];
  }
  g.numel = in.numel();
  return g;
}

// `outer` runs of `len` contiguous elements: dst[o * dst_stride + j] = src[o * src_stride + j].
// concat and slice (forward and backward) are all such copies.
struct block_copy {
  index_t outer = 0, len = 0, src_stride = 0, dst_stride = 0;
};

}  // namespace kpt::kernels
