#pragma once
// eval::from_decoded: a network's decoded keypoints (decode::keypoints) as the metrics' input
// (eval::scored_keypoints), with their descriptors when the network has them.
#include <vector>

#include "kpt/decode/keypoints.hpp"
#include "kpt/eval/scored_keypoints.hpp"

namespace kpt::eval {

template <class T, class B>
scored_keypoints from_decoded(const decode::keypoints<T, B>& k) {
  const auto xy = k.xy.to_vector(), score = k.score.to_vector();
  std::vector<float> rows;
  rows.reserve(std::size_t(3 * k.size()));
  for (index_t i = 0; i < k.size(); ++i)
    rows.insert(rows.end(), {float(xy[std::size_t(2 * i)]), float(xy[std::size_t(2 * i + 1)]), float(score[std::size_t(i)])});
  if (!k.desc.defined() || k.size() == 0) return scored_keypoints::from_rows(rows);
  const auto d = k.desc.to_vector();
  const std::vector<float> desc(d.begin(), d.end());
  return scored_keypoints::from_rows(rows, desc, k.desc.size(1));
}

}  // namespace kpt::eval
