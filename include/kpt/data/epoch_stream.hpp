#pragma once
// An endless stream over a finite dataset of n samples: epoch e visits each sample once, in a
// permutation drawn from (seed, e). Stream index k = e n + position asks the base for index
// e n + sample, so a base whose draws depend on the index (crops, augmentations) gives every
// epoch new draws. A pure function of (seed, k); the permutation of recent epochs is cached.
//
//   epoch_stream photos(image_folder_dataset("photos"), seed);   // photos.size() == unbounded
#include <map>
#include <memory>
#include <mutex>
#include <numeric>
#include <vector>

#include "kpt/core/error.hpp"
#include "kpt/core/random.hpp"
#include "kpt/data/dataset.hpp"

namespace kpt::data {

template <Dataset Base>
class epoch_stream {
 public:
  epoch_stream(Base base, std::uint64_t seed) : base_(std::move(base)), n_(base_.size()), seed_(seed) {
    require<value_error>(n_ > 0 && n_ != unbounded, "epoch_stream: the base dataset must be finite and non-empty");
  }
  index_t size() const { return unbounded; }
  index_t epoch_size() const { return n_; }
  const Base& base() const { return base_; }
  auto get(index_t k) const {
    const index_t e = k / n_, pos = k % n_;
    return base_.get(e * n_ + (*permutation(e))[std::size_t(pos)]);
  }

 private:
  struct cache {
    std::mutex m;
    std::map<index_t, std::shared_ptr<const std::vector<index_t>>> perms;
  };
  std::shared_ptr<const std::vector<index_t>> permutation(index_t e) const {
    std::lock_guard lock(cache_->m);
    if (auto it = cache_->perms.find(e); it != cache_->perms.end()) return it->second;
    auto p = std::make_shared<std::vector<index_t>>(std::size_t(n_));
    std::iota(p->begin(), p->end(), index_t(0));
    rng g(splitmix64(splitmix64(seed_) ^ splitmix64(std::uint64_t(e) + 0x51ed27)));
    for (index_t i = n_ - 1; i > 0; --i) std::swap((*p)[std::size_t(i)], (*p)[std::size_t(g.below(std::uint64_t(i + 1)))]);
    if (cache_->perms.size() >= 4) cache_->perms.erase(cache_->perms.begin());
    cache_->perms.emplace(e, p);
    return p;
  }
  Base base_;
  index_t n_;
  std::uint64_t seed_;
  std::shared_ptr<cache> cache_ = std::make_shared<cache>();
};

}  // namespace kpt::data
