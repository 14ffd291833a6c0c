#pragma once
// Reference 2-D max pooling: a plain loop over every window.
#include <cmath>
#include <limits>

#include "kpt/core/backend.hpp"
#include "kpt/kernels/pool.hpp"

namespace kpt::kernels {

template <class T>
void max_pool2d_forward(cpu_ref, const pool2d_geom& g, const T* x, T* y, index_t* argmax) {
  for (index_t p = 0; p < g.planes(); ++p) {
    const T* xp = x + p * g.h * g.w;
    for (index_t oy = 0; oy < g.oh; ++oy)
      for (index_t ox = 0; ox < g.ow; ++ox) {
        T best = -std::numeric_limits<T>::infinity();
        index_t at = -1;
        for (index_t i = 0; i < g.kernel; ++i) {
          const index_t iy = oy * g.stride - g.padding + i;
          if (iy < 0 || iy >= g.h) continue;
          for (index_t j = 0; j < g.kernel; ++j) {
            const index_t ix = ox * g.stride - g.padding + j;
            if (ix < 0 || ix >= g.w) continue;
            const T v = xp[iy * g.w + ix];
            // The first in-bounds tap is the start, so a window of -inf still has an argmax.
            if (at < 0 || v > best || std::isnan(v)) {
              best = v;
              at = iy * g.w + ix;
            }
          }
        }
        const index_t o = (p * g.oh + oy) * g.ow + ox;
        y[o] = best;
        if (argmax) argmax[o] = at;
      }
  }
}

template <class T>
void max_pool2d_backward(cpu_ref, const pool2d_geom& g, const T* gy, const index_t* argmax, T* gx) {
  for (index_t i = 0; i < g.planes() * g.h * g.w; ++i) gx[i] = T(0);
  for (index_t p = 0; p < g.planes(); ++p)
    for (index_t o = 0; o < g.oh * g.ow; ++o) {
      const index_t k = p * g.oh * g.ow + o;
      gx[p * g.h * g.w + argmax[k]] += gy[k];
    }
}

}  // namespace kpt::kernels
