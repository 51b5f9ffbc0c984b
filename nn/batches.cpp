#include "xtgrad/nn/batches.hpp"

#include <algorithm>
#include <numeric>
#include <stdexcept>

#include "xtgrad/core/xt.hpp"

namespace xtgrad {
inline namespace XTGRAD_ABI {
namespace nn {

namespace {

// Sets shape[0] = rows and resizes t when its shape differs (no allocation otherwise).
void fit(Tensor& t, Shape& shape, std::size_t rows) {
  shape[0] = rows;
  if (t.dimension() == shape.size() && std::equal(shape.begin(), shape.end(), t.shape().begin())) return;
  t.resize(shape);
}

}  // namespace

BatchIterator::BatchIterator(const Tensor& inputs, const Tensor& targets, std::size_t batch_size, bool shuffle,
                             Rng& rng)
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

void BatchIterator::start_epoch() {
  started_ = true;
  position_ = 0;
  if (!shuffle_) return;
  // Fisher-Yates from 0..n−1, so an epoch's order depends only on the Rng's state (which a
  // checkpoint saves), not on the epochs before it.
  std::iota(order_.begin(), order_.end(), std::size_t{0});
  for (std::size_t i = order_.size() - 1; i > 0; --i) {
    std::uniform_int_distribution<std::size_t> pick(0, i);
    std::swap(order_[i], order_[pick(*rng_)]);
  }
}

bool BatchIterator::next(Tensor& x_batch, Tensor& y_batch) {
  if (!started_) start_epoch();
  if (position_ >= order_.size()) return false;
  const std::size_t rows = std::min(batch_size_, order_.size() - position_);
  fit(x_batch, x_shape_, rows);
  fit(y_batch, y_shape_, rows);
  const Scalar* xs = inputs_->data();
  const Scalar* ys = targets_->data();
  Scalar* xd = x_batch.data();
  Scalar* yd = y_batch.data();
  for (std::size_t r = 0; r < rows; ++r) {
    const std::size_t i = order_[position_ + r];
    std::copy(xs + i * x_row_, xs + (i + 1) * x_row_, xd + r * x_row_);
    std::copy(ys + i * y_row_, ys + (i + 1) * y_row_, yd + r * y_row_);
  }
  position_ += rows;
  return true;
}

std::size_t BatchIterator::batches_per_epoch() const { return (order_.size() + batch_size_ - 1) / batch_size_; }

}  // namespace nn
}  // namespace XTGRAD_ABI
}  // namespace xtgrad
