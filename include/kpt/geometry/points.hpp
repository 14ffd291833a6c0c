#pragma once
// Point lists as tensors ([N, 2], columns x then y) and as std::vector<point2>, and the
// conversions between them. Geometry algorithms take spans of point2; datasets hand out tensors.
#include <span>
#include <vector>

#include "kpt/core/tensor.hpp"
#include "kpt/geometry/homography.hpp"

namespace kpt::geometry {

template <Real T, HostBackend B>
std::vector<point2> to_points(const tensor<T, B>& pts) {
  require<shape_error>(pts.defined() && pts.rank() == 2 && pts.size(1) == 2,
                       "geometry::to_points: points must have shape [N, 2] (x, y), got ",
                       pts.defined() ? pts.shape().str() : std::string("undefined"));
  std::vector<point2> out(std::size_t(pts.size(0)));
  const T* p = pts.data();
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = {double(p[2 * i]), double(p[2 * i + 1])};
  return out;
}

template <Real T = float, HostBackend B = cpu_ref>
tensor<T, B> to_tensor(std::span<const point2> pts) {
  auto out = tensor<T, B>::empty({index_t(pts.size()), 2});
  T* o = out.data();
  for (std::size_t i = 0; i < pts.size(); ++i) {
    o[2 * i] = T(pts[i].x());
    o[2 * i + 1] = T(pts[i].y());
  }
  return out;
}

}  // namespace kpt::geometry
