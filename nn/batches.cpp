#include "xtgrad/nn/batches.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <numeric>
#include <stdexcept>
#include <string>
#include <thread>

#include "xtgrad/core/parallel.hpp"
#include "xtgrad/core/xt.hpp"

namespace xtgrad {
namespace nn {

namespace {

// Sets shape[0] = rows and resizes t when its shape differs (no allocation otherwise).
template <class T>
void fit(TensorOf<T>& t, Shape& shape, std::size_t rows) {
  shape[0] = rows;
  if (t.dimension() == shape.size() && std::equal(shape.begin(), shape.end(), t.shape().begin())) return;
  t.resize(shape);
}

}  // namespace

// One background thread and the batch it fills: run() hands it a gather to do into `x`/`y`,
// wait() spins until that is done. The handoff is one atomic state, and the idle worker
// polls it with short sleeps: the training thread never makes a system call for it (a futex
// wake cost about as much as the copy it was meant to hide, on this VM), and the worker
// uses little of its core, which OpenBLAS may need. The iterator owns the thread.
template <class T>
class BasicBatchIterator<T>::Prefetcher {
 public:
  Tensor x = Tensor::from_shape({0}), y = Tensor::from_shape({0});

  explicit Prefetcher(const BasicBatchIterator& owner) : owner_(owner), thread_([this] { loop(); }) {}
  ~Prefetcher() {
    state_.store(kStop, std::memory_order_release);
    thread_.join();
  }

  void run(std::size_t first, std::size_t rows) {
    first_ = first;
    rows_ = rows;
    state_.store(kPending, std::memory_order_release);
  }
  void wait() const {
    while (state_.load(std::memory_order_acquire) == kPending) std::this_thread::yield();
  }

 private:
  enum State : int { kIdle, kPending, kStop };

  void loop() {
    for (;;) {
      const int s = state_.load(std::memory_order_acquire);
      if (s == kStop) return;
      if (s == kIdle) {
        std::this_thread::sleep_for(std::chrono::microseconds(20));  // a step takes hundreds
        continue;
      }
      owner_.gather(first_, rows_, x, y, false);  // x, y and the rows are the caller's again after wait()
      int expected = kPending;
      state_.compare_exchange_strong(expected, kIdle, std::memory_order_acq_rel);
    }
  }

  const BasicBatchIterator& owner_;
  std::atomic<int> state_{kIdle};
  std::size_t first_ = 0, rows_ = 0;
  std::thread thread_;  // last: started once everything above exists
};

template <class T>
BasicBatchIterator<T>::BasicBatchIterator(const Tensor& inputs, const Tensor& targets, std::size_t batch_size,
                                          bool shuffle, Rng& rng)
    : inputs_(&inputs), targets_(&targets), batch_size_(batch_size), shuffle_(shuffle), rng_(&rng) {
  if (inputs.dimension() == 0 || targets.dimension() == 0 || inputs.shape()[0] != targets.shape()[0]) {
    throw std::invalid_argument("BatchIterator: inputs " + shape_str(inputs) + " and targets " +
                                shape_str(targets) + " must have the same number of rows");
  }
  if (inputs.shape()[0] == 0) throw std::invalid_argument("BatchIterator: inputs " + shape_str(inputs) + " have no rows");
  if (batch_size == 0) throw std::invalid_argument("BatchIterator: batch size must be positive, got 0");
  const std::size_t n = inputs.shape()[0];
  x_row_ = inputs.size() / n;
  y_row_ = targets.size() / n;
  x_shape_ = shape_of(inputs);
  y_shape_ = shape_of(targets);
  order_.resize(n);
  for (std::size_t i = 0; i < n; ++i) order_[i] = i;
}

// Stops the worker first: it reads order_ and the data, which are destroyed after this body.
template <class T>
BasicBatchIterator<T>::~BasicBatchIterator() { worker_.reset(); }

template <class T>
void BasicBatchIterator<T>::set_prefetch(bool on) {
  if (on == prefetch()) return;
  if (worker_ && requested_) worker_->wait();
  requested_ = false;
  worker_.reset();
  if (on) {
    worker_ = std::make_unique<Prefetcher>(*this);
    if (started_) request_next();
  }
}

template <class T>
void BasicBatchIterator<T>::set_shard(std::size_t index, std::size_t count) {
  if (count == 0 || index >= count) {
    throw std::invalid_argument("BatchIterator: shard " + std::to_string(index) + " of " + std::to_string(count) +
                                " does not exist (need index < count)");
  }
  if (worker_ && requested_) worker_->wait();  // the prefetched batch is the old shard
  requested_ = false;
  shard_index_ = index;
  shard_count_ = count;
  if (worker_ && started_) request_next();
}

template <class T>
std::pair<std::size_t, std::size_t> BasicBatchIterator<T>::shard_span() const {
  // The batch's b rows split in `count` runs: the first b mod count hold ⌊b/count⌋ + 1.
  const std::size_t b = std::min(batch_size_, order_.size() - position_);
  const std::size_t base = b / shard_count_, extra = b % shard_count_;
  const std::size_t rows = base + (shard_index_ < extra ? 1 : 0);
  return {position_ + shard_index_ * base + std::min(shard_index_, extra), rows};
}

template <class T>
void BasicBatchIterator<T>::start_epoch() {
  if (worker_ && requested_) worker_->wait();  // it reads order_
  requested_ = false;
  started_ = true;
  position_ = 0;
  if (shuffle_) {
    // Fisher-Yates from 0..n−1, so an epoch's order depends only on the Rng's state (which
    // a checkpoint saves), not on the epochs before it.
    std::iota(order_.begin(), order_.end(), std::size_t{0});
    for (std::size_t i = order_.size() - 1; i > 0; --i) {
      std::uniform_int_distribution<std::size_t> pick(0, i);
      std::swap(order_[i], order_[pick(*rng_)]);
    }
  }
  if (worker_) request_next();
}

template <class T>
void BasicBatchIterator<T>::gather(std::size_t first, std::size_t rows, Tensor& x, Tensor& y, bool use_pool) const {
  const T* xs = inputs_->data();
  const T* ys = targets_->data();
  T* xd = x.data();
  T* yd = y.data();
  auto copy_rows = [&](std::size_t r0, std::size_t r1) {
    for (std::size_t r = r0; r < r1; ++r) {
      // The rows are scattered over a data set larger than the cache: ask for the next row's
      // lines while this one is copied (1-2% of an epoch at the seed's sizes, train_speed).
      if (r + 1 < r1) {
        const T* next = xs + order_[first + r + 1] * x_row_;
        for (std::size_t k = 0; k < x_row_; k += 64 / sizeof(T)) __builtin_prefetch(next + k);
      }
      const std::size_t i = order_[first + r];
      std::copy(xs + i * x_row_, xs + (i + 1) * x_row_, xd + r * x_row_);
      std::copy(ys + i * y_row_, ys + (i + 1) * y_row_, yd + r * y_row_);
    }
  };
  // On the caller's thread, large batches are copied by the pool's threads in row blocks; the
  // prefetch thread copies alone (the pool is the training step's).
  if (use_pool) {
    parallel_for(0, rows, std::max<std::size_t>(1, kElementwiseGrain / std::max<std::size_t>(1, x_row_ + y_row_)),
                 copy_rows);
  } else {
    copy_rows(0, rows);
  }
}

template <class T>
void BasicBatchIterator<T>::request_next() {
  if (position_ >= order_.size() || (drop_last_ && order_.size() - position_ < batch_size_)) return;
  const auto [first, rows] = shard_span();
  fit(worker_->x, x_shape_, rows);
  fit(worker_->y, y_shape_, rows);
  worker_->run(first, rows);
  requested_ = true;
}

template <class T>
bool BasicBatchIterator<T>::next(Tensor& x_batch, Tensor& y_batch) {
  if (!started_) start_epoch();
  if (position_ >= order_.size() || (drop_last_ && order_.size() - position_ < batch_size_)) return false;
  batch_rows_ = std::min(batch_size_, order_.size() - position_);
  if (worker_ && requested_) {
    worker_->wait();
    std::swap(x_batch, worker_->x);
    std::swap(y_batch, worker_->y);
    requested_ = false;
    position_ += batch_rows_;
    request_next();
    return true;
  }
  const auto [first, rows] = shard_span();
  fit(x_batch, x_shape_, rows);
  fit(y_batch, y_shape_, rows);
  gather(first, rows, x_batch, y_batch, true);
  position_ += batch_rows_;
  if (worker_) request_next();
  return true;
}

template <class T>
std::size_t BasicBatchIterator<T>::batches_per_epoch() const {
  return drop_last_ ? order_.size() / batch_size_ : (order_.size() + batch_size_ - 1) / batch_size_;
}

template class BasicBatchIterator<float>;
template class BasicBatchIterator<double>;

}  // namespace nn
}  // namespace xtgrad
