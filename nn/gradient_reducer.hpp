// The seam nn::fit offers data-parallel training: it trains on one shard of every batch and
// lets a GradientReducer combine the processes' gradients between backward() and step().
// distributed/ implements it over MPI (DistributedDataParallel); nn never depends on that.
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace xtgrad {
namespace nn {

class GradientReducer {
 public:
  virtual ~GradientReducer() = default;

  // This process takes shard shard_index() of shard_count() of every batch (BatchIterator::set_shard).
  virtual std::size_t shard_index() const = 0;
  virtual std::size_t shard_count() const = 0;
  // Before backward(): this shard has `rows` of the batch's `batch_rows` rows (rows may be 0,
  // and then no backward() follows).
  virtual void begin_step(std::size_t rows, std::size_t batch_rows) = 0;
  // After backward(), before optimizer.step(): leaves in every parameter's gradient that of
  // the whole batch's mean loss, and returns that mean data loss, given this shard's mean
  // `local_loss` (so every process sees the same loss, a divergence included).
  virtual double finish_step(double local_loss) = 0;
  // The sum over processes of `value` (fit sums the correct predictions of each process's
  // slice of the test set).
  virtual double sum(double value) = 0;
  // bytes ← shard 0's bytes, on every process (fit's checkpoints: shard 0 reads the file and
  // every process loads its bytes). The default serves a single shard and refuses more.
  virtual void broadcast_bytes(std::vector<std::uint8_t>& bytes) {
    (void)bytes;
    if (shard_count() > 1) {
      throw std::logic_error("GradientReducer::broadcast_bytes: this reducer of " + std::to_string(shard_count()) +
                             " shards cannot send bytes; override it to use checkpoints (FitOptions::checkpoint)");
    }
  }
};

}  // namespace nn
}  // namespace xtgrad
