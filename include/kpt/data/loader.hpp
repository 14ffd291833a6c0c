#pragma once
// A batch loader that prefetches with oneTBB (link kpt::cpu or TBB::tbb).
//
//   batch_loader loader(synthetic_dataset{}, {.batch_size = 64, .prefetch = 2});
//   for (int step = 0; step < 1000; ++step) {
//     std::vector<image_sample> batch = loader.next();       // ready, or waits for it
//     auto x = stack_images(batch, &image_sample::image);    // [64, 1, 120, 160]
//   }
//
// Batch b is a fixed list of indices, so the stream of batches is a pure function of
// (dataset, options) and does not depend on the number of threads or on timing:
//  - unbounded datasets: batch b = indices b * batch_size ... (b + 1) * batch_size - 1;
//  - finite datasets: epochs of batches_per_epoch() batches; epoch e visits the indices in
//    order, or in a permutation drawn from (seed, e) when shuffle is on; with drop_last the
//    incomplete last batch of an epoch is skipped, otherwise it is returned shorter.
// `prefetch` batches are made ahead in background tasks; each batch's samples are made in
// parallel (tbb::parallel_for). start_batch resumes a stream (e.g. from a checkpoint).
// An exception thrown by the dataset is rethrown by next() for the batch that raised it.
// The loader owns a copy of the dataset.
#include <algorithm>
#include <deque>
#include <memory>
#include <numeric>
#include <type_traits>
#include <utility>
#include <vector>

#include <tbb/parallel_for.h>
#include <tbb/task_group.h>

#include "kpt/core/error.hpp"
#include "kpt/core/random.hpp"
#include "kpt/core/tensor.hpp"
#include "kpt/data/dataset.hpp"

namespace kpt::data {

struct loader_options {
  index_t batch_size = 32;
  int prefetch = 2;  // batches in flight besides the one being consumed (0: make each batch on demand)
  bool shuffle = false;
  std::uint64_t seed = 0;
  bool drop_last = true;
  index_t start_batch = 0;
};

template <Dataset D>
class batch_loader {
 public:
  using sample_type = std::remove_cvref_t<decltype(std::declval<const D&>().get(index_t(0)))>;

  batch_loader(D dataset, loader_options o = {}) : ds_(std::make_shared<const D>(std::move(dataset))), o_(o) {
    require<value_error>(o_.batch_size > 0, "batch_loader: batch_size must be > 0, got ", o_.batch_size);
    require<value_error>(o_.prefetch >= 0, "batch_loader: prefetch must be >= 0, got ", o_.prefetch);
    require<value_error>(o_.start_batch >= 0, "batch_loader: start_batch must be >= 0");
    const index_t n = ds_->size();
    require<value_error>(n > 0, "batch_loader: the dataset is empty");
    if (n != unbounded)
      require<value_error>(batches_per_epoch() > 0, "batch_loader: the dataset has ", n,
                           " samples, fewer than one batch of ", o_.batch_size, " (use drop_last = false)");
    next_ = o_.start_batch;
    for (int i = 0; i < o_.prefetch; ++i) launch();
  }
  batch_loader(const batch_loader&) = delete;
  batch_loader& operator=(const batch_loader&) = delete;
  ~batch_loader() {
    for (auto& p : inflight_) {
      try {
        p->tasks.wait();
      } catch (...) {
        // the batch is discarded with its error
      }
    }
  }

  // The next batch, in order.
  std::vector<sample_type> next() {
    if (inflight_.empty()) launch();
    std::unique_ptr<pending> p = std::move(inflight_.front());
    inflight_.pop_front();
    while (int(inflight_.size()) < o_.prefetch) launch();  // keep `prefetch` batches in flight
    p->tasks.wait();  // rethrows a dataset exception
    ++consumed_;
    return std::move(p->samples);
  }

  // The dataset indices of batch b (without making it).
  std::vector<index_t> indices(index_t b) const {
    const index_t n = ds_->size(), bs = o_.batch_size;
    std::vector<index_t> idx;
    if (n == unbounded) {
      for (index_t k = 0; k < bs; ++k) idx.push_back(b * bs + k);
      return idx;
    }
    const index_t bpe = batches_per_epoch(), e = b / bpe, j = b % bpe;
    const index_t lo = j * bs, hi = std::min(n, lo + bs);
    if (!o_.shuffle) {
      for (index_t k = lo; k < hi; ++k) idx.push_back(k);
      return idx;
    }
    std::vector<index_t> perm(static_cast<std::size_t>(n));
    std::iota(perm.begin(), perm.end(), index_t(0));
    rng g(splitmix64(o_.seed) ^ splitmix64(std::uint64_t(e) + 1));
    for (index_t k = n - 1; k > 0; --k) std::swap(perm[std::size_t(k)], perm[std::size_t(g.below(std::uint64_t(k + 1)))]);
    return std::vector<index_t>(perm.begin() + lo, perm.begin() + hi);
  }

  index_t batches_per_epoch() const {
    const index_t n = ds_->size();
    if (n == unbounded) return unbounded;
    return o_.drop_last ? n / o_.batch_size : (n + o_.batch_size - 1) / o_.batch_size;
  }
  // Index of the batch the next call to next() returns.
  index_t batch_index() const { return o_.start_batch + consumed_; }
  const D& dataset() const { return *ds_; }

 private:
  struct pending {
    std::vector<sample_type> samples;
    std::vector<index_t> idx;
    tbb::task_group tasks;
  };

  void launch() {
    auto p = std::make_unique<pending>();
    p->idx = indices(next_++);
    p->samples.resize(p->idx.size());
    pending* raw = p.get();
    std::shared_ptr<const D> ds = ds_;
    raw->tasks.run([raw, ds] {
      tbb::parallel_for(std::size_t(0), raw->idx.size(), [&](std::size_t k) { raw->samples[k] = ds->get(raw->idx[k]); });
    });
    inflight_.push_back(std::move(p));
  }

  std::shared_ptr<const D> ds_;
  loader_options o_;
  index_t next_ = 0, consumed_ = 0;
  std::deque<std::unique_ptr<pending>> inflight_;
};

// Stacks one image-like member of every sample into a batch [N, C, H, W] (all the same shape).
template <class S>
tensor<float, cpu_ref> stack_images(const std::vector<S>& batch, tensor<float, cpu_ref> S::*member) {
  require<value_error>(!batch.empty(), "stack_images: the batch is empty");
  const auto& first = batch.front().*member;
  require<shape_error>(first.defined() && (first.rank() == 3 || first.rank() == 2),
                       "stack_images: expects images [C, H, W] or [H, W], got ",
                       first.defined() ? first.shape().str() : std::string("undefined"));
  const kpt::shape one = first.rank() == 3 ? first.shape() : kpt::shape{1, first.size(0), first.size(1)};
  auto out = tensor<float, cpu_ref>::empty({index_t(batch.size()), one[0], one[1], one[2]});
  for (std::size_t i = 0; i < batch.size(); ++i) {
    const auto& t = batch[i].*member;
    require<shape_error>(t.defined() && t.numel() == one.numel() && t.size(-1) == one[2] && t.size(-2) == one[1],
                         "stack_images: sample ", i, " has shape ", t.defined() ? t.shape().str() : std::string("undefined"),
                         ", sample 0 has ", first.shape().str());
    std::copy_n(t.data(), t.numel(), out.data() + std::ptrdiff_t(i) * one.numel());
  }
  return out;
}

// Stacks one mask member [H, W] of every sample into [N, H, W] (e.g. pair_sample::valid_mask).
template <class S>
tensor<float, cpu_ref> stack_masks(const std::vector<S>& batch, tensor<float, cpu_ref> S::*member) {
  const auto x = stack_images(batch, member);  // [N, C, H, W]
  require<shape_error>(x.size(1) == 1, "stack_masks: expects masks [H, W], got ", (batch.front().*member).shape().str());
  auto out = tensor<float, cpu_ref>::empty({x.size(0), x.size(2), x.size(3)});
  std::copy_n(x.data(), x.numel(), out.data());
  return out;
}

}  // namespace kpt::data
