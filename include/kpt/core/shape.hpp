#pragma once
// kpt::shape: the dimensions of a contiguous row-major tensor of rank 0 to 5.
#include <algorithm>
#include <array>
#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>

#include "kpt/core/error.hpp"

namespace kpt {

using index_t = std::int64_t;
inline constexpr int max_rank = 5;

class shape {
 public:
  constexpr shape() = default;  // rank 0: a scalar with one element
  shape(std::initializer_list<index_t> dims) { assign(dims.begin(), dims.size()); }
  explicit shape(std::span<const index_t> dims) { assign(dims.data(), dims.size()); }

  constexpr int rank() const { return rank_; }
  constexpr index_t operator[](int axis) const { return dims_[axis]; }
  constexpr index_t& operator[](int axis) { return dims_[axis]; }
  const index_t* begin() const { return dims_.data(); }
  const index_t* end() const { return dims_.data() + rank_; }

  constexpr index_t numel() const {
    index_t n = 1;
    for (int i = 0; i < rank_; ++i) n *= dims_[i];
    return n;
  }
  // Row-major stride of an axis, in elements.
  constexpr index_t stride(int axis) const {
    index_t s = 1;
    for (int i = rank_ - 1; i > axis; --i) s *= dims_[i];
    return s;
  }
  // Maps a possibly negative axis to [0, rank), throwing value_error naming `op` otherwise.
  int axis(int a, const char* op) const {
    require<value_error>(a >= -rank_ && a < rank_, op, ": axis ", a, " is out of range for shape ",
                         str(), " (valid: ", -rank_, " to ", rank_ - 1, ")");
    return a < 0 ? a + rank_ : a;
  }

  friend constexpr bool operator==(const shape& a, const shape& b) {
    if (a.rank_ != b.rank_) return false;
    for (int i = 0; i < a.rank_; ++i)
      if (a.dims_[i] != b.dims_[i]) return false;
    return true;
  }

  std::string str() const {
    std::string s = "[";
    for (int i = 0; i < rank_; ++i) s += (i ? ", " : "") + std::to_string(dims_[i]);
    return s + "]";
  }

 private:
  void assign(const index_t* d, std::size_t n) {
    require<shape_error>(n <= std::size_t(max_rank), "shape: rank ", n,
                         " exceeds kpt::max_rank (", max_rank, "); reshape to at most ", max_rank,
                         " dimensions");
    rank_ = int(n);
    for (std::size_t i = 0; i < n; ++i) {
      require<shape_error>(d[i] >= 0, "shape: dimension ", i, " is negative (", d[i], ")");
      dims_[i] = d[i];
    }
  }

  std::array<index_t, max_rank> dims_{};
  int rank_ = 0;
};

// Throws shape_error naming the op and both shapes unless a == b.
inline void require_same_shape(const char* op, const shape& a, const shape& b) {
  require<shape_error>(a == b, op, ": shapes ", a.str(), " and ", b.str(), " must be equal");
}

}  // namespace kpt
