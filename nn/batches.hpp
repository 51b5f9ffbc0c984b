// Mini-batches over a data set: row subsets of inputs and targets, optionally reshuffled
// every epoch.
#pragma once

#include <algorithm>
#include <cstddef>
#include <memory>
#include <utility>
#include <vector>

#include "xtgrad/core/random.hpp"
#include "xtgrad/core/tensor.hpp"

namespace xtgrad {
namespace nn {

// Iterates over the rows of inputs (n, ...) and targets (n, ...) of scalar type T in batches of batch_size; the
// last batch of an epoch holds the remaining rows. Keeps references to the two tensors and
// to rng, which must outlive it.
//
// With prefetch on, a background thread copies batch k+1 while the caller trains on batch
// k, and next() swaps it in: on a second core this hides the gather of random rows (about
// 20 µs of a 385 µs step at the seed's sizes). The batches are the same, in the same order.
//
//   BatchIterator batches(X, Y, 64, /*shuffle=*/true, rng);
//   for (int epoch = 0; epoch < epochs; ++epoch) {
//     batches.start_epoch();
//     while (batches.next(x, y)) { ... }
//   }
template <class T>
class BasicBatchIterator {
 public:
  using Tensor = TensorOf<T>;
  // Batches of `batch_size` rows of inputs and targets (both n rows), reshuffled if `shuffle`.
  BasicBatchIterator(const Tensor& inputs, const Tensor& targets, std::size_t batch_size, bool shuffle, Rng& rng);
  // The iterator would outlive a temporary.
  BasicBatchIterator(const Tensor&&, const Tensor&, std::size_t, bool, Rng&) = delete;
  BasicBatchIterator(const Tensor&, const Tensor&&, std::size_t, bool, Rng&) = delete;
  BasicBatchIterator(const Tensor&&, const Tensor&&, std::size_t, bool, Rng&) = delete;
  BasicBatchIterator(const BasicBatchIterator&) = delete;
  BasicBatchIterator& operator=(const BasicBatchIterator&) = delete;
  ~BasicBatchIterator();

  // Skips an epoch's last batch when it has fewer than batch_size rows (off by default).
  void set_drop_last(bool on) { drop_last_ = on; }
  bool drop_last() const { return drop_last_; }

  // Turns the background copy on or off (off by default); takes effect at once.
  void set_prefetch(bool on);
  bool prefetch() const { return static_cast<bool>(worker_); }

  // Data-parallel training: from the next batch on, next() gives only shard `index` of
  // `count` of each batch, a contiguous slice of its rows, the shards' sizes differing by at
  // most one (the first ones larger; a shard may be empty). Processes that draw from the
  // same seed and each take their shard split every batch exactly. Throws
  // std::invalid_argument unless index < count.
  void set_shard(std::size_t index, std::size_t count);

  // Rewinds to the first batch, drawing a new row order when shuffling. next() calls it
  // once by itself if it was never called.
  void start_epoch();

  // Puts the next batch in x_batch (b, ...) and y_batch (b, ...), resizing them only when
  // their shape differs; false (outputs untouched) once the epoch is done. With prefetch,
  // their storage is exchanged with the prefetched batch's instead of copied into.
  bool next(Tensor& x_batch, Tensor& y_batch);

  // ceil(n / batch_size), or floor(n / batch_size) with drop_last.
  std::size_t batches_per_epoch() const;
  // Rows of the whole batch the last next() returned a shard of (all of them without shards).
  std::size_t batch_rows() const { return batch_rows_; }
  // Rows of that whole batch before this shard's first row (0 without shards).
  std::size_t shard_offset() const {
    const std::size_t base = batch_rows_ / shard_count_, extra = batch_rows_ % shard_count_;
    return shard_index_ * base + std::min(shard_index_, extra);
  }

  // Number of rows n.
  std::size_t size() const { return order_.size(); }

 private:
  class Prefetcher;
  // Copies rows order_[first .. first+rows) into x (rows, ...) and y, shaped by the caller;
  // in row blocks on the pool's threads when `use_pool` (the caller's thread, not the prefetcher).
  void gather(std::size_t first, std::size_t rows, Tensor& x, Tensor& y, bool use_pool) const;
  // (first position, rows) of this shard of the batch that starts at position_.
  std::pair<std::size_t, std::size_t> shard_span() const;
  // Shapes the staging tensors for the batch at position_ and hands it to the worker.
  void request_next();

  std::unique_ptr<Prefetcher> worker_;  // set while prefetching
  bool requested_ = false;              // the worker has (or is making) the batch at position_
  const Tensor* inputs_;
  const Tensor* targets_;
  std::size_t batch_size_;
  bool shuffle_;
  Rng* rng_;
  std::vector<std::size_t> order_;
  std::size_t position_ = 0;
  std::size_t shard_index_ = 0, shard_count_ = 1;
  std::size_t batch_rows_ = 0;
  bool started_ = false;
  bool drop_last_ = false;
  std::size_t x_row_, y_row_;  // elements per row
  Shape x_shape_, y_shape_;    // batch shapes; [0] is set per batch
};

using BatchIterator = BasicBatchIterator<float>;

extern template class BasicBatchIterator<float>;
extern template class BasicBatchIterator<double>;

}  // namespace nn
}  // namespace xtgrad
