#pragma once
// grid_sample: bilinear sampling with zeros padding, = torch.nn.functional.grid_sample(x, grid,
// mode='bilinear', padding_mode='zeros', align_corners=...).
//
//   grid_sample(x [N, C, H, W], grid [N, Ho, Wo, 2], align_corners) -> [N, C, Ho, Wo]
//     grid[..., 0] is the x (width) coordinate, grid[..., 1] the y (height) one, both normalised to
//     [-1, 1]: align_corners = true puts -1 and 1 on the centres of the corner pixels
//     (pixel = (g + 1) / 2 * (W - 1)); false puts them on the outer edges of the image
//     (pixel = ((g + 1) * W - 1) / 2). Pixels outside the image read as 0.
//   Gradients flow to x and to grid (the grid gradient is that of the bilinear interpolant, which
//   has kinks where a point crosses a pixel row or column).
#include "kpt/autograd/apply.hpp"
#include "kpt/kernels/grid_sample.hpp"

namespace kpt {

namespace ops_detail {

template <class T, class B>
struct grid_sample_op {
  static constexpr std::string_view name = "grid_sample";
  kernels::grid_sample_geom geom;
  tensor<T, B> x, grid;  // saved for backward: both are needed for either gradient

  tensor<T, B> forward(const autograd::op_context<2>& ctx, const tensor<T, B>& in, const tensor<T, B>& g) {
    auto y = tensor<T, B>::empty({geom.n, geom.channels, geom.out_h, geom.out_w});
    if (y.numel() > 0) grid_sample_forward(B{}, geom, in.data(), g.data(), y.data());
    if (ctx.recording) {
      x = in;
      grid = g;
    }
    return y;
  }

  void backward(const autograd::op_context<2>& ctx, const tensor<T, B>& gy, std::array<tensor<T, B>, 2>& grads) {
    // The kernel overwrites both gradients; with no output elements nothing flows: zeros.
    auto make = [&](const kpt::shape& s) { return gy.numel() > 0 ? tensor<T, B>::empty(s) : tensor<T, B>::zeros(s); };
    tensor<T, B> gx, gg;
    if (ctx.needs(0)) gx = make(x.shape());
    if (ctx.needs(1)) gg = make(grid.shape());
    if (gy.numel() > 0)
      grid_sample_backward(B{}, geom, static_cast<const T*>(x.data()), static_cast<const T*>(grid.data()),
                           static_cast<const T*>(gy.data()), gx.data(), gg.data());
    grads[0] = std::move(gx);
    grads[1] = std::move(gg);
  }
};

}  // namespace ops_detail

template <class T, class B>
tensor<T, B> grid_sample(const tensor<T, B>& x, const tensor<T, B>& grid, bool align_corners) {
  require<shape_error>(x.defined(), "grid_sample: the input is an undefined tensor");
  require<shape_error>(grid.defined(), "grid_sample: the grid is an undefined tensor");
  const auto& s = x.shape();
  const auto& gs = grid.shape();
  require<shape_error>(s.rank() == 4, "grid_sample: the input must be [N, C, H, W], got shape ", s.str());
  require<shape_error>(gs.rank() == 4 && gs[3] == 2 && gs[0] == s[0], "grid_sample: the grid must be [N, Ho, Wo, 2] with N = ",
                       s[0], " (input shape ", s.str(), "), got shape ", gs.str());
  require<shape_error>(s[2] > 0 && s[3] > 0, "grid_sample: the input shape ", s.str(), " has an empty image");
  ops_detail::grid_sample_op<T, B> op;
  op.geom = {s[0], s[1], s[2], s[3], gs[1], gs[2], align_corners};
  return autograd::apply(std::move(op), x, grid);
}

}  // namespace kpt
