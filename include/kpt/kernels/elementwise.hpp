#pragma once
// Kernel interface shared by ops and backends: element-wise maps with broadcasting and sums over
// axes. Backends implement these signatures as overloads on their tag.
#include <algorithm>
#include <array>

#include "kpt/core/shape.hpp"

namespace kpt::kernels {

enum class binary_fn { add, sub, mul, div };

constexpr const char* name_of(binary_fn f) {
  switch (f) {
    case binary_fn::add: return "add";
    case binary_fn::sub: return "sub";
    case binary_fn::mul: return "mul";
    case binary_fn::div: return "div";
  }
  return "?";
}

// NumPy broadcasting of two shapes, right-aligned, padded to max_rank. A stride of 0 repeats an
// operand along that axis.
struct broadcast_geom {
  kpt::shape out;
  std::array<index_t, max_rank> out_dims{};  // out, left-padded with ones to max_rank
  std::array<index_t, max_rank> a_stride{};
  std::array<index_t, max_rank> b_stride{};
  index_t numel = 0;
  bool same_shape = false;  // a, b and out all equal: a flat loop suffices
};

inline broadcast_geom make_broadcast(const char* op, const kpt::shape& a, const kpt::shape& b) {
  broadcast_geom g;
  const int r = std::max(a.rank(), b.rank());
  std::array<index_t, max_rank> out{};
  for (int i = 0; i < r; ++i) {
    const int ia = a.rank() - r + i, ib = b.rank() - r + i;
    const index_t da = ia >= 0 ? a[ia] : 1, db = ib >= 0 ? b[ib] : 1;
    require<shape_error>(da == db || da == 1 || db == 1, op, ": shapes ", a.str(), " and ", b.str(),
                         " cannot be broadcast (axis ", i, " has sizes ", da, " and ", db, ")");
    out[i] = da == 1 ? db : da;
  }
  g.out = kpt::shape(std::span<const index_t>(out.data(), std::size_t(r)));
  const int pad = max_rank - r;
  index_t sa = 1, sb = 1;
  for (int i = max_rank - 1; i >= 0; --i) {
    g.out_dims[i] = i >= pad ? out[i - pad] : 1;
    const int ia = a.rank() - (max_rank - i), ib = b.rank() - (max_rank - i);
    const index_t da = ia >= 0 ? a[ia] : 1, db = ib >= 0 ? b[ib] : 1;
    g.a_stride[i] = da == 1 ? 0 : sa;
    g.b_stride[i] = db == 1 ? 0 : sb;
    sa *= da;
    sb *= db;
  }
  g.numel = g.out.numel();
  g.same_shape = a == b;
  return g;
}

// Sum of x over the axes set in axes_mask (bit i = axis i), kept as size-1 axes in y.
struct reduce_geom {
  kpt::shape in;
  unsigned axes_mask = 0;
  // in viewed as [outer, reduced, inner] when the reduced axes are contiguous; general otherwise.
  index_t outer = 1, reduced = 1, inner = 1;
  bool contiguous = false;
  index_t out_numel = 1;
};

inline reduce_geom make_reduce(const kpt::shape& in, unsigned axes_mask) {
  reduce_geom g;
  g.in = in;
  g.axes_mask = axes_mask;
  int first = -1, last = -1;
  for (int i = 0; i < in.rank(); ++i)
    if (axes_mask >> i & 1u) {
      if (first < 0) first = i;
      last = i;
      g.reduced *= in[i];
    } else {
      g.out_numel *= in[i];
    }
  g.contiguous = true;
  for (int i = first; i >= 0 && i <= last; ++i) g.contiguous = g.contiguous && (axes_mask >> i & 1u);
  if (first < 0) {  // nothing reduced: a copy
    g.outer = in.numel();
    g.contiguous = true;
  } else if (g.contiguous) {
    for (int i = 0; i < first; ++i) g.outer *= in[i];
    for (int i = last + 1; i < in.rank(); ++i) g.inner *= in[i];
  }
  return g;
}

}  // namespace kpt::kernels
