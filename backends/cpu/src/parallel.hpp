#pragma once
// One way to write a parallel loop in kpt::cpu: oneTBB over [begin, end) in chunks of at least
// `grain` iterations, so that small work stays on the calling thread.
#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include "kpt/core/shape.hpp"

namespace kpt::cpu_detail {

template <class F>
void parallel_for(index_t begin, index_t end, index_t grain, F&& f) {
  if (end - begin <= grain) {
    if (end > begin) f(begin, end);
    return;
  }
  tbb::parallel_for(tbb::blocked_range<index_t>(begin, end, grain),
                    [&](const tbb::blocked_range<index_t>& r) { f(r.begin(), r.end()); });
}

// Grain sizes, in elements, measured with bench/micro (elementwise: below ~32k floats the
// thread hand-off costs more than the loop on this class of machine).
inline constexpr index_t elementwise_grain = 1 << 15;

}  // namespace kpt::cpu_detail
