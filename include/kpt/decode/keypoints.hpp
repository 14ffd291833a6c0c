#pragma once
// decode::keypoints: what decoding a network's output gives, per image.
//
//   xy     [N, 2]  x (column) then y (row), in pixels of the network input; integer values are
//                  pixel centres (SPEC 0.1)
//   score  [N]     detector confidence
//   desc   [N, D]  unit-length descriptors; undefined for detector-only models (MagicPoint)
//
// Every decoder returns its keypoints sorted by score, highest first; equal scores keep the order
// in which the decoder found them (row-major pixel or cell order), so results are deterministic.
// Host tensors only: matching and metrics read them with data().
#include <algorithm>
#include <array>
#include <cstdint>
#include <numeric>
#include <span>
#include <vector>

#include "kpt/core/error.hpp"
#include "kpt/core/tensor.hpp"

namespace kpt::decode {

template <Real T = float, HostBackend B = cpu_ref>
struct keypoints {
  tensor<T, B> xy;
  tensor<T, B> score;
  tensor<T, B> desc;

  index_t size() const { return xy.defined() ? xy.size(0) : 0; }
  bool empty() const { return size() == 0; }
  bool has_descriptors() const { return desc.defined(); }
  index_t descriptor_size() const { return desc.defined() ? desc.size(1) : 0; }

  // [N, 3]: x, y, score per row (the layout of `kpt detect`'s <stem>.kpts.npy).
  tensor<T, B> xys() const {
    const index_t n = size();
    auto out = tensor<T, B>::empty({n, 3});
    for (index_t i = 0; i < n; ++i) {
      out.data()[3 * i] = xy.data()[2 * i];
      out.data()[3 * i + 1] = xy.data()[2 * i + 1];
      out.data()[3 * i + 2] = score.data()[i];
    }
    return out;
  }
};

// One detection before it becomes part of a keypoints value: where, how strong, and which
// descriptor column (decoder-specific index, e.g. the cell) it takes its descriptor from.
struct candidate {
  double x = 0, y = 0, score = 0;
  index_t source = 0;
};

// Sorts by score, highest first; ties keep their order.
inline void sort_by_score(std::vector<candidate>& c) {
  std::stable_sort(c.begin(), c.end(), [](const candidate& a, const candidate& b) { return a.score > b.score; });
}

// The k highest-scoring candidates, sorted (k <= 0: all of them, sorted).
inline void keep_top_k(std::vector<candidate>& c, index_t k) {
  sort_by_score(c);
  if (k > 0 && index_t(c.size()) > k) c.resize(std::size_t(k));
}

// Positions and scores of the candidates (in their order), without descriptors.
template <Real T, HostBackend B>
keypoints<T, B> to_keypoints(std::span<const candidate> c) {
  keypoints<T, B> k;
  const index_t n = index_t(c.size());
  k.xy = tensor<T, B>::empty({n, 2});
  k.score = tensor<T, B>::empty({n});
  for (index_t i = 0; i < n; ++i) {
    k.xy.data()[2 * i] = T(c[std::size_t(i)].x);
    k.xy.data()[2 * i + 1] = T(c[std::size_t(i)].y);
    k.score.data()[i] = T(c[std::size_t(i)].score);
  }
  return k;
}

// The rows `rows` of keypoints, in that order (descriptors too when present).
template <Real T, HostBackend B>
keypoints<T, B> select(const keypoints<T, B>& k, std::span<const index_t> rows) {
  const index_t n = index_t(rows.size()), d = k.descriptor_size();
  keypoints<T, B> out;
  out.xy = tensor<T, B>::empty({n, 2});
  out.score = tensor<T, B>::empty({n});
  if (k.has_descriptors()) out.desc = tensor<T, B>::empty({n, d});
  for (index_t i = 0; i < n; ++i) {
    const index_t r = rows[std::size_t(i)];
    require<value_error>(r >= 0 && r < k.size(), "decode::select: row ", r, " is outside [0, ", k.size(), ")");
    out.xy.data()[2 * i] = k.xy.data()[2 * r];
    out.xy.data()[2 * i + 1] = k.xy.data()[2 * r + 1];
    out.score.data()[i] = k.score.data()[r];
    if (k.has_descriptors()) std::copy_n(k.desc.data() + r * d, d, out.desc.data() + i * d);
  }
  return out;
}

// The k highest-scoring keypoints, highest first (ties keep their order); k <= 0 keeps all.
template <Real T, HostBackend B>
keypoints<T, B> top_k(const keypoints<T, B>& k, index_t count) {
  std::vector<index_t> rows(std::size_t(k.size()));
  std::iota(rows.begin(), rows.end(), index_t(0));
  const T* s = k.score.data();
  std::stable_sort(rows.begin(), rows.end(), [s](index_t a, index_t b) { return s[a] > s[b]; });
  if (count > 0 && index_t(rows.size()) > count) rows.resize(std::size_t(count));
  return select(k, std::span<const index_t>(rows));
}

namespace detail {

// Image b of a batch [N, ...] as its own host tensor [...] (a copy); a tensor of rank `rank` - 1 is
// taken as a single image.
template <Real T, HostBackend B>
tensor<T, B> batch_item(const tensor<T, B>& t, index_t b, int rank, const char* op, const char* what) {
  require<shape_error>(t.defined() && (t.rank() == rank || t.rank() == rank - 1), op, ": ", what, " must have rank ",
                       rank, " (batch) or ", rank - 1, ", got ", t.defined() ? t.shape().str() : std::string("undefined"));
  if (t.rank() == rank - 1) {
    require<value_error>(b == 0, op, ": image ", b, " of a single ", what);
    return t;
  }
  require<value_error>(b >= 0 && b < t.size(0), op, ": image ", b, " of a batch of ", t.size(0));
  std::array<index_t, 5> dims{};
  for (int i = 1; i < rank; ++i) dims[std::size_t(i - 1)] = t.size(i);
  kpt::shape s(std::span<const index_t>(dims.data(), std::size_t(rank - 1)));
  const index_t n = s.numel();
  return tensor<T, B>::from(s, std::span<const T>(t.data() + b * n, std::size_t(n)));
}

}  // namespace detail

}  // namespace kpt::decode
