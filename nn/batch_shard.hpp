// Per-sample randomness in data-parallel training, independent of the process count.
//
// With a GradientReducer, nn::fit runs each step's forward pass on this process's shard of
// the global batch: rows [first, first + rows) of its batch_rows. A draw per sample (a
// dropout mask, input noise) taken from an engine seeded alike on every process would give
// row i of every shard the same draw. The functions below instead draw for the whole global
// batch, exactly as one process holding all of it does, and keep this shard's rows: every
// process advances its engine alike, and each sample gets the draw of its place in the batch.
// Outside a sharded step (one process, evaluation) they are the plain draws, draw for draw.
//
// A process whose shard of a batch is empty runs no forward pass, so it draws nothing for
// that batch and its engine falls behind the others'. fit leaves a shard empty only in a
// batch of fewer rows than processes (an epoch's last one): reseed the engines at each epoch
// start when that can happen.
#pragma once

#include <cstddef>

#include "xtgrad/core/random.hpp"
#include "xtgrad/core/variable.hpp"

namespace xtgrad {
namespace nn {

// This process's rows [first, first + rows) of a batch of batch_rows rows.
struct BatchShard {
  std::size_t first = 0, rows = 0, batch_rows = 0;
};

// The shard the current forward pass on this thread runs on; nullptr outside a sharded step.
const BatchShard* current_batch_shard();

// Makes `shard` current on this thread while it lives (fit: around each step's loss, which
// calls the model), then restores the previous one.
class BatchShardScope {
 public:
  explicit BatchShardScope(const BatchShard& shard);
  ~BatchShardScope();
  BatchShardScope(const BatchShardScope&) = delete;
  BatchShardScope& operator=(const BatchShardScope&) = delete;

 private:
  BatchShard shard_;
  const BatchShard* previous_;
};

// dropout(x, p, rng, training) (ops/dropout.hpp). In a sharded step x is (rows, ...): the
// mask is drawn for (batch_rows, ...) and this shard's rows of it are applied (y = x ⊙ m,
// dx = g ⊙ m, as dropout). std::invalid_argument if x's first dimension is not the shard's rows.
template <class T>
BasicVariable<T> sharded_dropout(const BasicVariable<T>& x, double p, Rng& rng, bool training = true);

// randn<T>(shape, rng, mean, stddev) (core/random.hpp). In a sharded step shape is (rows, ...):
// drawn for (batch_rows, ...), this shard's rows. std::invalid_argument if shape[0] is not rows.
template <class T = float>
TensorOf<T> sharded_randn(const Shape& shape, Rng& rng, double mean = 0.0, double stddev = 1.0);

}  // namespace nn
}  // namespace xtgrad
