// Mini-batches over a data set: row subsets of inputs and targets, optionally reshuffled
// every epoch.
#pragma once

#include <cstddef>
#include <vector>

#include "xtgrad/core/random.hpp"
#include "xtgrad/core/tensor.hpp"

namespace xtgrad {
inline namespace XTGRAD_ABI {
namespace nn {

// Iterates over the rows of inputs (n, ...) and targets (n, ...) in batches of batch_size; the
// last batch of an epoch holds the remaining rows. Keeps references to the two tensors and
// to rng, which must outlive it.
//
//   BatchIterator batches(X, Y, 64, /*shuffle=*/true, rng);
//   for (int epoch = 0; epoch < epochs; ++epoch) {
//     batches.start_epoch();
//     while (batches.next(x, y)) { ... }
//   }
class BatchIterator {
 public:
  // Batches of `batch_size` rows of inputs and targets (both n rows), reshuffled if `shuffle`.
  BatchIterator(const Tensor& inputs, const Tensor& targets, std::size_t batch_size, bool shuffle, Rng& rng);
  // The iterator would outlive a temporary.
  BatchIterator(const Tensor&&, const Tensor&, std::size_t, bool, Rng&) = delete;
  BatchIterator(const Tensor&, const Tensor&&, std::size_t, bool, Rng&) = delete;
  BatchIterator(const Tensor&&, const Tensor&&, std::size_t, bool, Rng&) = delete;

  // Rewinds to the first batch, drawing a new row order when shuffling. next() calls it
  // once by itself if it was never called.
  void start_epoch();

  // Copies the next batch into x_batch (b, ...) and y_batch (b, ...), resizing them only when
  // their shape differs; false (outputs untouched) once the epoch is done.
  bool next(Tensor& x_batch, Tensor& y_batch);

  // ceil(n / batch_size).
  std::size_t batches_per_epoch() const;

  // Number of rows n.
  std::size_t size() const { return order_.size(); }

 private:
  const Tensor* inputs_;
  const Tensor* targets_;
  std::size_t batch_size_;
  bool shuffle_;
  Rng* rng_;
  std::vector<std::size_t> order_;
  std::size_t position_ = 0;
  bool started_ = false;
  std::size_t x_row_, y_row_;  // elements per row
  Shape x_shape_, y_shape_;    // batch shapes; [0] is set per batch
};

}  // namespace nn
}  // namespace XTGRAD_ABI
}  // namespace xtgrad
