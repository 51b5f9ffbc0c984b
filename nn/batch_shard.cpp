#include "xtgrad/nn/batch_shard.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "xtgrad/core/buffer_cache.hpp"
#include "xtgrad/ops/dropout.hpp"
#include "xtgrad/ops/elementwise.hpp"

namespace xtgrad {
namespace nn {

namespace {

thread_local const BatchShard* g_shard = nullptr;

// The current shard when it is a strict part of its batch, else null (the draw is the plain
// one). Reads no shape: the common case, one process, stays free of allocations.
const BatchShard* strict_shard() {
  const BatchShard* s = g_shard;
  return s == nullptr || s->rows == s->batch_rows ? nullptr : s;
}

// Checks that `shape` is (shard rows, ...).
void check_shard_rows(const BatchShard& s, const Shape& shape, const char* what) {
  if (shape.empty() || shape[0] != s.rows) {
    throw std::invalid_argument(std::string(what) + ": in a data-parallel step the input's first dimension must be " +
                                "this process's " + std::to_string(s.rows) + " rows of the batch of " +
                                std::to_string(s.batch_rows) + ", got " + shape_str(shape));
  }
}

// Rows [first, first + rows) of `whole` (batch_rows, ...), row-major.
template <class T>
TensorOf<T> shard_rows(const TensorOf<T>& whole, const BatchShard& s, const Shape& shape) {
  TensorOf<T> out = empty_tensor<T>(shape);
  const std::size_t row = s.batch_rows ? whole.size() / s.batch_rows : 0;
  std::copy(whole.data() + s.first * row, whole.data() + (s.first + s.rows) * row, out.data());
  return out;
}

Shape whole_batch(Shape shape, const BatchShard& s) {
  shape[0] = s.batch_rows;
  return shape;
}

}  // namespace

const BatchShard* current_batch_shard() { return g_shard; }

BatchShardScope::BatchShardScope(const BatchShard& shard) : shard_(shard), previous_(g_shard) { g_shard = &shard_; }

BatchShardScope::~BatchShardScope() { g_shard = previous_; }

template <class T>
BasicVariable<T> sharded_dropout(const BasicVariable<T>& x, double p, Rng& rng, bool training) {
  using Tensor = TensorOf<T>;
  using Variable = BasicVariable<T>;
  const BatchShard* s = training && p > 0 ? strict_shard() : nullptr;
  if (s == nullptr) return dropout(x, p, rng, training);
  const Shape shape = shape_of(x.value());
  check_shard_rows(*s, shape, "sharded_dropout");
  // dropout of ones is its mask m (1/(1−p) or 0), drawn as for the whole batch.
  Tensor ones = empty_tensor<T>(whole_batch(shape, *s));
  ones.fill(T(1));
  const Tensor mask = dropout(Variable(std::move(ones)), p, rng, true).value();
  return x * Variable(shard_rows(mask, *s, shape));
}

template <class T>
TensorOf<T> sharded_randn(const Shape& shape, Rng& rng, double mean, double stddev) {
  const BatchShard* s = strict_shard();
  if (s == nullptr) return randn<T>(shape, rng, mean, stddev);
  check_shard_rows(*s, shape, "sharded_randn");
  return shard_rows(randn<T>(whole_batch(shape, *s), rng, mean, stddev), *s, shape);
}

template BasicVariable<float> sharded_dropout(const BasicVariable<float>&, double, Rng&, bool);
template BasicVariable<double> sharded_dropout(const BasicVariable<double>&, double, Rng&, bool);
template TensorOf<float> sharded_randn<float>(const Shape&, Rng&, double, double);
template TensorOf<double> sharded_randn<double>(const Shape&, Rng&, double, double);

}  // namespace nn
}  // namespace xtgrad
