#pragma once
// What a kpt dataset is, and the sample types they share.
//
// A dataset is a copyable value with
//   index_t size() const;               // number of samples, or kpt::data::unbounded
//   Sample get(index_t i) const;        // a pure function of (the dataset's seed, i): thread-safe,
//                                       // the same result whatever thread asks and in any order
// The batch loader (loader.hpp) works with any such type.
#include <concepts>
#include <limits>
#include <string>

#include "kpt/core/tensor.hpp"
#include "kpt/geometry/homography.hpp"

namespace kpt::data {

inline constexpr index_t unbounded = std::numeric_limits<index_t>::max();

template <class D>
concept Dataset = std::copy_constructible<D> && requires(const D& d, index_t i) {
  { d.size() } -> std::convertible_to<index_t>;
  d.get(i);
};

// One image and its points (synthetic shapes: ground truth; image folders: none).
struct image_sample {
  tensor<float, cpu_ref> image;   // [C, H, W] in [0, 1]
  tensor<float, cpu_ref> points;  // [P, 2], (x, y) pixels; [0, 2] when there are none
  std::string name;               // file (relative to the dataset root) or "<kind>/<index>"
};

// Two views of one scene and the homography between them.
//
// DIRECTION: H maps pixels of `image` to pixels of `warped` (x_w ~ H x), the HPatches convention
// (H_1_k maps image 1 to image k); warped = warp_image(image, invert(H)) for synthetic pairs.
struct pair_sample {
  tensor<float, cpu_ref> image;          // [C, H, W]
  tensor<float, cpu_ref> warped;         // [C, H', W']
  geometry::homography H = geometry::homography::Identity();
  tensor<float, cpu_ref> valid_mask;     // [H', W']: 1 where `warped` sees `image` (eroded); may be undefined
  tensor<float, cpu_ref> points;         // [P, 2] in `image`
  tensor<float, cpu_ref> warped_points;  // [Q, 2]: points mapped by H that land inside `warped`
  std::string name;
};

}  // namespace kpt::data
