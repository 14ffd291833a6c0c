#pragma once
// Kernel interface of the index family: index_select and gather (torch.gather) and their
// scatter-add gradients, plus the index range check every op taking an index tensor needs.
#include <array>
#include <cstdint>

#include "kpt/kernels/shape.hpp"

namespace kpt::kernels {

// index_select: x is [outer, n, inner] around the axis; idx holds k entries in [0, n);
// y is [outer, k, inner] with y[o, j, i] = x[o, idx[j], i].
struct index_select_geom {
  axis_geom x;
  index_t k = 0;
};

// gather: y has the shape of idx (same rank as x, no larger than x except along the axis);
// y[c] = x[c with coordinate `axis` replaced by idx[c]]. Shapes are left-padded to max_rank.
struct gather_geom {
  std::array<index_t, max_rank> out_dims{1, 1, 1, 1, 1};  // idx's (= y's) shape
  std::array<index_t, max_rank> x_stride{};               // x's stride of each axis
  int axis = max_rank - 1;                                // padded position of the gathered axis
  index_t axis_size = 0;                                  // x's size along it: the valid index range
  index_t numel = 0;                                      // of idx and y
  index_t x_numel = 0;
};

inline gather_geom make_gather(const kpt::shape& x, const kpt::shape& idx, int axis) {
  gather_geom g;
  const int pad = max_rank - x.rank();
  for (int i = 0; i < x.rank(); ++i) {
    g.out_dims[pad + i] = idx[i];
    g.x_stride[pad + i] = x.stride(i);
  }
  g.axis = pad + axis;
  g.axis_size = x[axis];
  g.numel = idx.numel();
  g.x_numel = x.numel();
  return g;
}

// Where the index checks of the ops live (kernels trust their indices):
// returns the position of the first idx[i] outside [0, limit), or -1 when all are inside.
// (Declared per backend: index_t find_out_of_range(B, const std::int64_t* idx, index_t count, index_t limit).)

}  // namespace kpt::kernels
