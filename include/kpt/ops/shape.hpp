#pragma once
// Shape ops: reshape, permute, transpose, concat and slice, with their gradients. They work on
// any element type the backend copies (float, double, int64 on cpu); only float and double
// record gradients.
//
//   reshape(x, {2, -1})        same buffer, new shape (one -1 is inferred); the gradient is reshaped back
//   permute(x, {0, 2, 3, 1})   output axis i is input axis axes[i] (a copy)
//   transpose(x, a, b)         permute swapping two axes
//   concat({a, b, c}, axis)    sizes must match except along axis
//   slice(x, axis, begin, end) elements [begin, end) along axis; negative values count from the end
#include <array>
#include <initializer_list>
#include <memory>
#include <numeric>
#include <span>
#include <string>
#include <vector>

#include "kpt/autograd/apply.hpp"
#include "kpt/kernels/shape.hpp"

namespace kpt {

namespace ops_detail {

template <class I>
std::string list_str(std::span<const I> v) {
  std::string s = "[";
  for (std::size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + std::to_string(v[i]);
  return s + "]";
}

inline kpt::shape reshape_target(const kpt::shape& in, std::span<const index_t> dims) {
  require<shape_error>(dims.size() <= std::size_t(max_rank), "reshape: ", list_str(dims), " has ", dims.size(),
                       " dimensions; kpt tensors have at most ", max_rank);
  int infer = -1;
  index_t known = 1;
  for (std::size_t i = 0; i < dims.size(); ++i) {
    if (dims[i] == -1) {
      require<value_error>(infer < 0, "reshape: more than one -1 in ", list_str(dims));
      infer = int(i);
    } else {
      require<value_error>(dims[i] >= 0, "reshape: dimension ", i, " of ", list_str(dims),
                           " is negative (only one -1, to infer a size, is allowed)");
      known *= dims[i];
    }
  }
  std::array<index_t, max_rank> out{};
  std::copy(dims.begin(), dims.end(), out.begin());
  if (infer >= 0) {
    require<shape_error>(known != 0 && in.numel() % known == 0, "reshape: cannot reshape ", in.str(), " (",
                         in.numel(), " elements) to ", list_str(dims), ": the -1 has no integer size");
    out[infer] = in.numel() / known;
  } else {
    require<shape_error>(known == in.numel(), "reshape: cannot reshape ", in.str(), " (", in.numel(),
                         " elements) to ", list_str(dims), " (", known, " elements)");
  }
  return kpt::shape(std::span<const index_t>(out.data(), dims.size()));
}

template <class T, class B>
struct reshape_op {
  static constexpr std::string_view name = "reshape";
  kpt::shape in_shape, out_shape;

  tensor<T, B> forward(const autograd::op_context<1>&, const tensor<T, B>& x) { return x.view_as(out_shape); }
  void backward(const autograd::op_context<1>& ctx, const tensor<T, B>& g, std::array<tensor<T, B>, 1>& grads) {
    if (ctx.needs(0)) grads[0] = g.view_as(in_shape);
  }
};

// The validated permutation: out[i] = the input axis that becomes axis i.
inline std::array<int, max_rank> permutation(const char* op, const kpt::shape& s, std::span<const int> axes) {
  require<value_error>(int(axes.size()) == s.rank(), op, ": ", axes.size(), " axes ", list_str(axes),
                       " given for shape ", s.str(), " of rank ", s.rank(), "; give a permutation of all axes");
  std::array<int, max_rank> out{};
  std::array<bool, max_rank> seen{};
  for (std::size_t i = 0; i < axes.size(); ++i) {
    const int a = s.axis(axes[i], op);
    require<value_error>(!seen[a], op, ": axis ", a, " appears twice in ", list_str(axes), " for shape ", s.str());
    seen[a] = true;
    out[i] = a;
  }
  return out;
}

template <class T, class B>
tensor<T, B> permuted_copy(const tensor<T, B>& x, std::span<const int> axes) {
  const auto& s = x.shape();
  std::array<index_t, max_rank> dims{};
  for (std::size_t i = 0; i < axes.size(); ++i) dims[i] = s[axes[i]];
  auto y = tensor<T, B>::empty(kpt::shape(std::span<const index_t>(dims.data(), axes.size())));
  if (y.numel() > 0) permute_copy(B{}, kernels::make_permute(s, axes), x.data(), y.data());
  return y;
}

template <class T, class B>
struct permute_op {
  static constexpr std::string_view name = "permute";
  std::array<int, max_rank> axes{};
  int rank = 0;

  tensor<T, B> forward(const autograd::op_context<1>&, const tensor<T, B>& x) {
    return permuted_copy(x, std::span<const int>(axes.data(), std::size_t(rank)));
  }
  void backward(const autograd::op_context<1>& ctx, const tensor<T, B>& g, std::array<tensor<T, B>, 1>& grads) {
    if (!ctx.needs(0)) return;
    std::array<int, max_rank> inverse{};
    for (int i = 0; i < rank; ++i) inverse[axes[i]] = i;
    grads[0] = permuted_copy(g, std::span<const int>(inverse.data(), std::size_t(rank)));
  }
};

// dst region = src region, skipping empty copies (whose base pointers may be null).
template <class T, class B>
void copy_region(const kernels::block_copy& b, const T* src, T* dst) {
  if (b.outer > 0 && b.len > 0) copy_blocks(B{}, b, src, dst);
}

template <class T, class B>
struct slice_op {
  static constexpr std::string_view name = "slice";
  kernels::axis_geom a;  // of the input
  int axis = 0;
  index_t begin = 0, len = 0;
  kpt::shape in_shape;

  tensor<T, B> forward(const autograd::op_context<1>&, const tensor<T, B>& x) {
    kpt::shape s = in_shape;
    s[axis] = len;
    auto y = tensor<T, B>::empty(s);
    if (y.numel() > 0)
      copy_region<T, B>({a.outer, len * a.inner, a.n * a.inner, len * a.inner}, x.data() + begin * a.inner, y.data());
    return y;
  }
  void backward(const autograd::op_context<1>& ctx, const tensor<T, B>& g, std::array<tensor<T, B>, 1>& grads) {
    if (!ctx.needs(0)) return;
    auto gx = tensor<T, B>::zeros(in_shape);
    if (g.numel() > 0)
      copy_region<T, B>({a.outer, len * a.inner, len * a.inner, a.n * a.inner}, g.data(), gx.data() + begin * a.inner);
    grads[0] = std::move(gx);
  }
};

// concat takes a run-time number of inputs, so it has its own tape node instead of apply().
template <class T, class B>
struct concat_node final : autograd::node<T, B> {
  int axis = 0;
  std::vector<index_t> sizes;  // of each input along the axis
  bool freed = false;

  std::string_view name() const override { return "concat"; }
  void backward(const tensor<T, B>& g, std::span<tensor<T, B>> grads) override {
    require<autograd_error>(!freed, "backward: the graph through 'concat' was already freed by an earlier "
                                    "backward(); run the forward again");
    const auto a = kernels::make_axis_geom(g.shape(), axis);
    index_t offset = 0;
    for (std::size_t i = 0; i < sizes.size(); ++i) {
      const auto& e = this->next[i];
      if (e.fn || e.slot) {
        auto gi = tensor<T, B>::empty(this->input_shapes[i]);
        if (gi.numel() > 0)
          copy_region<T, B>({a.outer, sizes[i] * a.inner, a.n * a.inner, sizes[i] * a.inner},
                            g.data() + offset * a.inner, gi.data());
        grads[i] = std::move(gi);
      }
      offset += sizes[i];
    }
    freed = true;
  }
};

}  // namespace ops_detail

// ---- reshape -----------------------------------------------------------------------------------

template <class T, class B>
tensor<T, B> reshape(const tensor<T, B>& x, std::span<const index_t> dims) {
  require<shape_error>(x.defined(), "reshape: the input is an undefined tensor");
  ops_detail::reshape_op<T, B> op;
  op.in_shape = x.shape();
  op.out_shape = ops_detail::reshape_target(x.shape(), dims);
  return autograd::apply(std::move(op), x);
}
template <class T, class B>
tensor<T, B> reshape(const tensor<T, B>& x, std::initializer_list<index_t> dims) {
  return reshape(x, std::span<const index_t>(dims.begin(), dims.size()));
}
template <class T, class B>
tensor<T, B> reshape(const tensor<T, B>& x, const kpt::shape& s) {
  return reshape(x, std::span<const index_t>(s.begin(), std::size_t(s.rank())));
}

// ---- permute / transpose -----------------------------------------------------------------------

template <class T, class B>
tensor<T, B> permute(const tensor<T, B>& x, std::span<const int> axes) {
  require<shape_error>(x.defined(), "permute: the input is an undefined tensor");
  ops_detail::permute_op<T, B> op;
  op.axes = ops_detail::permutation("permute", x.shape(), axes);
  op.rank = x.rank();
  return autograd::apply(std::move(op), x);
}
template <class T, class B>
tensor<T, B> permute(const tensor<T, B>& x, const std::vector<int>& axes) {
  return permute(x, std::span<const int>(axes));
}
template <class T, class B>
tensor<T, B> permute(const tensor<T, B>& x, std::initializer_list<int> axes) {
  return permute(x, std::span<const int>(axes.begin(), axes.size()));
}

template <class T, class B>
tensor<T, B> transpose(const tensor<T, B>& x, int a, int b) {
  require<shape_error>(x.defined(), "transpose: the input is an undefined tensor");
  const auto& s = x.shape();
  const int ia = s.axis(a, "transpose"), ib = s.axis(b, "transpose");
  std::vector<int> axes(std::size_t(s.rank()));
  std::iota(axes.begin(), axes.end(), 0);
  std::swap(axes[std::size_t(ia)], axes[std::size_t(ib)]);
  return permute(x, axes);
}

// ---- concat ------------------------------------------------------------------------------------

template <class T, class B>
tensor<T, B> concat(std::span<const tensor<T, B>> xs, int axis) {
  require<value_error>(!xs.empty(), "concat: no tensors to concatenate");
  for (std::size_t i = 0; i < xs.size(); ++i)
    require<shape_error>(xs[i].defined(), "concat: tensor ", i, " is undefined");
  const kpt::shape& s0 = xs[0].shape();
  require<shape_error>(s0.rank() >= 1, "concat: tensors must have rank >= 1, tensor 0 is a scalar (reshape it to [1])");
  const int ax = s0.axis(axis, "concat");
  kpt::shape out = s0;
  out[ax] = 0;
  std::vector<index_t> sizes(xs.size());
  for (std::size_t i = 0; i < xs.size(); ++i) {
    const kpt::shape& s = xs[i].shape();
    bool ok = s.rank() == s0.rank();
    for (int d = 0; ok && d < s.rank(); ++d) ok = d == ax || s[d] == s0[d];
    require<shape_error>(ok, "concat: tensor ", i, " has shape ", s.str(), " and tensor 0 has shape ", s0.str(),
                         "; all sizes must be equal except along axis ", ax);
    sizes[i] = s[ax];
    out[ax] += s[ax];
  }
  auto y = tensor<T, B>::empty(out);
  const auto a = kernels::make_axis_geom(out, ax);
  index_t offset = 0;
  for (std::size_t i = 0; i < xs.size(); ++i) {
    if (xs[i].numel() > 0)
      ops_detail::copy_region<T, B>({a.outer, sizes[i] * a.inner, sizes[i] * a.inner, a.n * a.inner}, xs[i].data(),
                                    y.data() + offset * a.inner);
    offset += sizes[i];
  }
  if constexpr (Real<T>) {
    bool any = false;
    for (const auto& x : xs) any = any || x.requires_grad();
    if (any && grad_enabled()) {
      auto n = std::make_shared<ops_detail::concat_node<T, B>>();
      n->axis = ax;
      n->sizes = std::move(sizes);
      for (const auto& x : xs) {
        n->next.push_back(autograd::edge_of(x));
        n->input_shapes.push_back(x.shape());
      }
      y.set_grad_fn(std::move(n));
    }
  }
  return y;
}
template <class T, class B>
tensor<T, B> concat(const std::vector<tensor<T, B>>& xs, int axis) {
  return concat(std::span<const tensor<T, B>>(xs), axis);
}
template <class T, class B>
tensor<T, B> concat(std::initializer_list<tensor<T, B>> xs, int axis) {
  return concat(std::span<const tensor<T, B>>(xs.begin(), xs.size()), axis);
}

// ---- slice -------------------------------------------------------------------------------------

template <class T, class B>
tensor<T, B> slice(const tensor<T, B>& x, int axis, index_t begin, index_t end) {
  require<shape_error>(x.defined(), "slice: the input is an undefined tensor");
  const auto& s = x.shape();
  const int ax = s.axis(axis, "slice");
  const index_t n = s[ax];
  const index_t b = begin < 0 ? begin + n : begin, e = end < 0 ? end + n : end;
  require<value_error>(0 <= b && b <= e && e <= n, "slice: range [", begin, ", ", end, ") is not inside axis ", ax,
                       " of shape ", s.str(), " (need 0 <= begin <= end <= ", n,
                       " after adding the size to negative values)");
  ops_detail::slice_op<T, B> op;
  op.a = kernels::make_axis_geom(s, ax);
  op.axis = ax;
  op.begin = b;
  op.len = e - b;
  op.in_shape = s;
  return autograd::apply(std::move(op), x);
}

}  // namespace kpt
