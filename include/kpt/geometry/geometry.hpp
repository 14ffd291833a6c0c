#pragma once
// Everything in kpt/geometry (Eigen-based): homographies and frames, both samplers, warps and
// masks, resizing, DLT and RANSAC. Include the single headers to keep compile times down.
#include "kpt/geometry/dlt.hpp"
#include "kpt/geometry/homography.hpp"
#include "kpt/geometry/kp2d_homography.hpp"
#include "kpt/geometry/points.hpp"
#include "kpt/geometry/ransac.hpp"
#include "kpt/geometry/resize.hpp"
#include "kpt/geometry/superpoint_homography.hpp"
#include "kpt/geometry/warp.hpp"
