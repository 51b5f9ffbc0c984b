// A data loader over a Dataset: (x, y) batches with shuffling, drop_last and prefetch, in a
// range-for; and a random train/validation split.
#pragma once

#include <cstddef>
#include <utility>

#include "xtgrad/core/index.hpp"
#include "xtgrad/core/random.hpp"
#include "xtgrad/core/variable.hpp"
#include "xtgrad/nn/batches.hpp"
#include "xtgrad/nn/train.hpp"

namespace xtgrad {
namespace nn {

// Splits the rows of `data` at random into (train, validation), the validation part holding
// round(fraction·n) rows, both in their original order. fraction ∈ (0, 1) and both parts
// non-empty, else std::invalid_argument.
template <class T>
std::pair<BasicDataset<T>, BasicDataset<T>> split_dataset(const BasicDataset<T>& data, double validation_fraction,
                                                          Rng& rng);

// Public fields, and chainable setters for one expression: DataLoaderOptions().set_batch_size(32).
struct DataLoaderOptions {
  std::size_t batch_size = 64;
  bool shuffle = true;     // a new order every epoch, drawn from the Rng
  bool drop_last = false;  // skip a last batch smaller than batch_size
  bool prefetch = false;   // copy the next batch on a background thread (BatchIterator)

  DataLoaderOptions& set_batch_size(std::size_t v) { batch_size = v; return *this; }
  DataLoaderOptions& set_shuffle(bool v) { shuffle = v; return *this; }
  DataLoaderOptions& set_drop_last(bool v) { drop_last = v; return *this; }
  DataLoaderOptions& set_prefetch(bool v) { prefetch = v; return *this; }
};

// One batch: constant leaves holding rows of the inputs (b, ...) and targets (b, ...). When the
// targets are class indices (a dataset whose targets are 1-d, as label_tensor gives), `labels`
// holds them as an IndexTensor (b) too, checked to be whole numbers; otherwise it is empty.
// cross_entropy takes either: cross_entropy(logits, b.labels) or cross_entropy(logits, b.y).
template <class T>
struct BasicBatch {
  BasicVariable<T> x, y;
  IndexTensor labels = IndexTensor::from_shape({0});
};
using Batch = BasicBatch<float>;

// Each range-for over the loader is one epoch:
//   DataLoader loader(train, DataLoaderOptions().set_batch_size(64), rng);
//   for (int epoch = 0; epoch < 10; ++epoch)
//     for (const Batch& b : loader) { auto loss = cross_entropy(model(b.x), b.labels); ... }
// The batch's two Variables are refilled in place for every batch (no copy, no allocation
// once their shapes are set), so keep a batch's value with detach() if it must outlive the
// step. Keeps references to the data and the Rng, which must outlive it.
template <class T>
class BasicDataLoader {
 public:
  using Batch = BasicBatch<T>;

  BasicDataLoader(const BasicDataset<T>& data, const DataLoaderOptions& options, Rng& rng);
  BasicDataLoader(const BasicDataset<T>&&, const DataLoaderOptions&, Rng&) = delete;  // would dangle

  class iterator {
   public:
    const Batch& operator*() const { return loader_->batch_; }
    const Batch* operator->() const { return &loader_->batch_; }
    iterator& operator++() {
      if (!loader_->advance()) loader_ = nullptr;
      return *this;
    }
    bool operator!=(const iterator& other) const { return loader_ != other.loader_; }
    bool operator==(const iterator& other) const { return loader_ == other.loader_; }

   private:
    friend class BasicDataLoader;
    explicit iterator(BasicDataLoader* loader) : loader_(loader) {}
    BasicDataLoader* loader_;
  };

  // Starts an epoch and loads its first batch.
  iterator begin();
  iterator end() { return iterator(nullptr); }
  // Batches per epoch.
  std::size_t size() const { return batches_.batches_per_epoch(); }

 private:
  bool advance();
  BasicBatchIterator<T> batches_;
  Batch batch_{BasicVariable<T>(TensorOf<T>::from_shape({0})), BasicVariable<T>(TensorOf<T>::from_shape({0}))};
};

using DataLoader = BasicDataLoader<float>;

extern template class BasicDataLoader<float>;
extern template class BasicDataLoader<double>;

}  // namespace nn
}  // namespace xtgrad
