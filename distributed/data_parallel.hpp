// Data-parallel training: every rank holds the same model, trains on its shard of each
// global batch, and gets the whole batch's gradient by an allreduce between backward() and
// optimizer.step(). The gradients are packed into buckets whose reductions start while
// backward() is still running (PyTorch DDP, Horovod).
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "xtgrad/core/variable.hpp"
#include "xtgrad/distributed/communicator.hpp"
#include "xtgrad/nn/gradient_reducer.hpp"

namespace xtgrad {
namespace distributed {

struct DataParallelOptions {
  // Gradients are reduced in buckets of about this many bytes, in the reverse of the
  // parameters' order, roughly the order in which backward() finishes them. Small gradients
  // are packed into a bucket's buffer; a parameter of at least half a bucket is a bucket of its
  // own, reduced in place in its gradient (no copy in, no copy out).
  std::size_t bucket_bytes = std::size_t(1) << 20;
  // true: each bucket's non-blocking allreduce starts from the gradient-ready hook
  // (Variable::register_post_accumulate_grad_hook) as soon as backward() has finished every
  // gradient in it. false: blocking allreduces of every bucket in finish_step(), after
  // backward() (for comparison).
  bool overlap = true;
};

// Wraps a model's named parameters (the handles alias the model's and the optimizer's).
//
//   MpiCommunicator comm;
//   DistributedDataParallel ddp(model.named_parameters(), comm);   // rank 0's weights everywhere
//   SGD sgd(model.named_parameters(), 0.1);
//   for (each global batch, this rank's shard x, y of it) {
//     sgd.zero_grad();
//     ddp.begin_step(rows_here, rows_in_batch);
//     auto loss = cross_entropy(model(x), y);
//     loss.backward();                       // reductions start as buckets fill
//     ddp.finish_step(loss.item());          // gradients now those of the whole batch
//     sgd.step();
//   }
//
// or hand it to nn::fit as FitOptions::reducer, which does exactly that. T is the parameters'
// scalar type; `DistributedDataParallel` is the float one.
//
// Gradient: rank r with b_r of the batch's B rows contributes (b_r/B)·∇(its mean loss), so
// the sum over ranks is ∇ of the mean loss over the whole batch, also when B does not split
// evenly, and a penalty every rank adds (the same on all) counts once. Every rank must run
// the same steps; a rank whose shard is empty skips backward() and contributes zeros.
template <class T>
class BasicDistributedDataParallel : public nn::GradientReducer {
 public:
  // Checks that every rank has the same parameter names and shapes (else
  // std::invalid_argument on every rank naming the parameter, the ranks and both shapes),
  // then copies rank 0's values to every rank. Collective.
  BasicDistributedDataParallel(NamedParametersOf<T> params, Communicator& comm,
                               DataParallelOptions options = {});
  // Removes the hooks; waits for reductions still in flight.
  ~BasicDistributedDataParallel() override;
  BasicDistributedDataParallel(const BasicDistributedDataParallel&) = delete;
  BasicDistributedDataParallel& operator=(const BasicDistributedDataParallel&) = delete;

  // nn::GradientReducer: this rank's shard is shard rank() of world_size().
  std::size_t shard_index() const override { return std::size_t(comm_.rank()); }
  std::size_t shard_count() const override { return std::size_t(comm_.world_size()); }
  // Before backward(): this rank has `rows` of the global batch's `batch_rows`.
  void begin_step(std::size_t rows, std::size_t batch_rows) override;
  // After backward(), before step(): starts what has not started, waits for every bucket,
  // and leaves in each parameter's gradient the whole batch's. Returns Σ_r (b_r/B)·loss_r,
  // the whole batch's mean loss, given this rank's mean `local_loss`. Collective.
  double finish_step(double local_loss) override;
  // Σ over ranks of value. Collective.
  double sum(double value) override;
  // Rank 0's bytes on every rank. Collective.
  void broadcast_bytes(std::vector<std::uint8_t>& bytes) override { comm_.broadcast_bytes(bytes, 0); }

  // Number of buckets, and each one's parameter names (in reduction order).
  std::size_t bucket_count() const { return buckets_.size(); }
  std::vector<std::string> bucket_names(std::size_t bucket) const;
  // Buckets whose allreduce has started in this step (all of them after finish_step()).
  std::size_t buckets_started() const { return next_to_start_; }
  Communicator& communicator() const { return comm_; }
  // Wall seconds spent inside finish_step() since construction: the communication that
  // backward() did not hide (plus packing and unpacking).
  double finish_seconds() const { return finish_seconds_; }
  const DataParallelOptions& options() const { return options_; }

 private:
  struct Bucket {
    std::vector<std::size_t> params;  // indices into params_
    std::vector<std::size_t> offsets;  // each one's first element in `flat`
    TensorOf<T> flat;                  // the packed, weighted gradients, reduced in place
    bool in_place = false;             // one parameter: its gradient is the buffer
    std::size_t ready = 0;             // parameters packed in this step
    std::unique_ptr<PendingReduction> pending;
    bool started = false;
  };

  void check_same_parameters();
  void make_buckets();
  // What bucket b reduces: its buffer, or its one parameter's gradient.
  TensorOf<T>& buffer(Bucket& b);
  // Parameter i's gradient × this step's weight into its bucket (zeros if it has none).
  void pack(std::size_t i);
  // Packs parameter i's weighted gradient into its bucket; starts the buckets that are full.
  void on_gradient_ready(std::size_t i);
  // Starts every full bucket whose predecessors have started: all ranks start them in the
  // same order (MPI requires it).
  void start_ready_buckets();
  void start(Bucket& bucket);

  NamedParametersOf<T> params_;
  Communicator& comm_;
  DataParallelOptions options_;
  std::vector<Bucket> buckets_;
  std::vector<std::size_t> bucket_of_;  // parameter index → bucket
  std::vector<std::size_t> slot_of_;    // parameter index → position in its bucket
  std::vector<bool> packed_;            // parameter index → packed in this step
  std::vector<BasicHookHandle<T>> hooks_;
  std::size_t next_to_start_ = 0;       // buckets before it have started this step
  double weight_ = 1;                   // b_r / B of this step
  bool in_step_ = false;
  double finish_seconds_ = 0;
};

extern template class BasicDistributedDataParallel<float>;
extern template class BasicDistributedDataParallel<double>;

using DistributedDataParallel = BasicDistributedDataParallel<float>;

}  // namespace distributed
}  // namespace xtgrad
