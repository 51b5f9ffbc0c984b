// Checkpoint and resume of a training run, as an option of nn::fit (FitOptions::checkpoint):
//
//   options.epochs = 20;                            // the run's total
//   options.checkpoint.path = "run.ckpt.npz";       // saved atomically at every epoch end
//   options.checkpoint.resume = true;               // continue from it when it exists
//   options.checkpoint.identity = "lr=0.1 hidden=200";  // the settings, compared on resume
//   History h = nn::fit(model, sgd, train, &test, rng, options);  // every epoch's record, 1..20
//
// What a checkpoint holds and how it is written: nn/checkpoint.hpp. A run resumed from epoch
// k's checkpoint continues exactly (bit for bit) as if it had never stopped.
#pragma once

#include <cstddef>
#include <functional>
#include <string>

namespace xtgrad {
namespace nn {

template <class T>
struct BasicCheckpoint;  // nn/checkpoint.hpp

// How fit checkpoints a run of a model of scalar type T. With `path` set, fit trains epochs
// 1..FitOptions::epochs in all (first_epoch must stay 1): after epoch e it saves the model, the
// optimizer state, the Rng, the history, `identity`, the data's fingerprint and the number of
// processes to `path` (temporary file, fsync, rename: a crash leaves the previous one). With
// `resume` and an existing file it loads them first, trains epochs k+1.. only, and returns the
// whole history (the file's k records, then the new ones). It refuses, with
// CheckpointMismatch naming the file and what differs, a checkpoint of other settings (identity),
// other data, another model (parameter names or shapes), another number of processes, or more
// epochs than FitOptions::epochs; an unreadable or malformed file is a DataError naming it.
//
// Several processes (FitOptions::reducer, e.g. distributed::DistributedDataParallel): only
// shard 0 reads and writes the file (no shared file system is assumed); it sends what it read
// to every process (GradientReducer::broadcast_bytes), so every process resumes alike or fails
// with the same error, and after each save every process learns whether it failed
// (GradientReducer::sum), so a failed save ends every process with the same io::WriteError.
template <class T>
struct BasicFitCheckpoint {
  std::string path;      // the checkpoint file; empty: no checkpoints
  bool resume = false;   // continue from `path` when it exists; else start afresh (and replace it)
  std::string identity;  // the run's settings as text, stored and compared on resume
  // The training data's identity, stored and compared on resume; empty: fit computes
  // dataset_fingerprint(train) (give it when `train` is a split of the data the caller names).
  std::string data;
  // The caller's own state, saved with each checkpoint and restored on resume (tables of
  // numbers, an EarlyStopping's state: BasicCheckpoint's fields). `save_extra` fills them before
  // each save; `load_extra` restores them after a resume has passed the checks above, and
  // returns true when the run had already ended (e.g. early stopping had stopped it): then no
  // epoch is trained. It may throw CheckpointMismatch itself (a state it needs is missing).
  std::function<void(BasicCheckpoint<T>&)> save_extra;
  std::function<bool(const BasicCheckpoint<T>&)> load_extra;
  // After the checkpoint of epoch `epoch` was saved, or loaded by a resume.
  std::function<void(std::size_t epoch)> on_checkpoint;
};
using FitCheckpoint = BasicFitCheckpoint<float>;

}  // namespace nn
}  // namespace xtgrad
