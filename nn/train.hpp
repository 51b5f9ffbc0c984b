// The training loop: epochs of minibatch SGD-style steps, with history and callbacks.
#pragma once

#include <cstddef>
#include <functional>
#include <vector>

#include "xtgrad/core/random.hpp"
#include "xtgrad/nn/fit_checkpoint.hpp"
#include "xtgrad/nn/gradient_reducer.hpp"
#include "xtgrad/nn/module.hpp"
#include "xtgrad/nn/optimizers.hpp"
#include "xtgrad/nn/training_errors.hpp"

namespace xtgrad {
namespace nn {

class LrScheduler;  // nn/schedulers.hpp

// Inputs (n, features...) (e.g. (n, 784) or (n, 1, 28, 28)) and targets: one-hot rows
// (n, classes) or class indices (n) stored as whole numbers, of scalar type T.
template <class T>
struct BasicDataset {
  TensorOf<T> inputs;
  TensorOf<T> targets;
};
using Dataset = BasicDataset<float>;

struct EpochStats {
  std::size_t epoch = 0;       // 1-based
  double data_loss = 0;        // mean over the epoch's batches
  double penalty = 0;          // mean over the epoch's batches (0 without one)
  double loss = 0;             // data_loss + penalty
  double test_accuracy = -1;   // −1 when no test set was given
  double seconds = 0;          // the training pass alone
  double eval_seconds = 0;     // the test evaluation
};
using History = std::vector<EpochStats>;

// Data loss from the model's output (n, classes) and the targets (a batch of Dataset::targets).
template <class T>
using BasicLossFunction =
    std::function<BasicVariable<T>(const BasicVariable<T>& output, const BasicVariable<T>& targets)>;
// A scalar penalty built from the named parameters (e.g. a regularizer), added to the loss.
template <class T>
using BasicPenaltyFunction = std::function<BasicVariable<T>(const NamedParametersOf<T>&)>;
using LossFunction = BasicLossFunction<float>;
using PenaltyFunction = BasicPenaltyFunction<float>;

// fit's settings for a model of scalar type T (FitOptions: float).
template <class T>
struct BasicFitOptions {
  std::size_t epochs = 20;
  std::size_t batch_size = 64;
  bool shuffle = true;              // reshuffle every epoch
  bool prefetch = false;            // copy the next batch on a background thread (BatchIterator)
  BasicLossFunction<T> loss;        // default: cross_entropy on logits (one-hot or index targets)
  BasicPenaltyFunction<T> penalty;  // default: none
  bool progress_bar = true;         // drawn on stderr, only when stderr is a terminal
  std::size_t eval_batch_size = 1000;
  std::size_t first_epoch = 1;      // > 1 when resuming
  std::function<void(const EpochStats&)> on_epoch_end;  // after each epoch's evaluation
  // Called on each training batch (this process's shard of it) before its forward pass; may
  // change the inputs and targets in place, keeping their shapes (mixup, augmentation).
  std::function<void(TensorOf<T>& inputs, TensorOf<T>& targets)> prepare_batch;
  std::function<void()> before_step;                     // after backward(), before step() (clipping)
  std::function<void()> after_step;                      // after each optimizer.step()
  LrScheduler* scheduler = nullptr;                      // stepped after each epoch's evaluation
  std::function<double(const EpochStats&)> scheduler_metric;  // what it monitors; default the loss
  std::function<bool(const EpochStats&)> stop_early;     // after on_epoch_end; true ends fit (EarlyStopping)
  std::function<bool()> should_stop;                     // polled before each epoch and after each batch
  // Divergence beyond a non-finite value: an epoch whose mean data loss exceeds
  // divergence_factor · max(divergence_floor, the data loss of this call's first batch)
  // stops training (0: off). For a K-class classifier, floor ln K (the loss of a uniform guess)
  // and factor 10 flag only runs whose average correct-class probability fell below K^-10:
  // blown-up weights, never a slow start.
  double divergence_factor = 0;
  double divergence_floor = 0;
  // Data-parallel training (gradient_reducer.hpp; distributed/ has one over MPI): train on
  // its shard of every batch and let it reduce the gradients before each optimizer.step();
  // evaluate its slice of the test set and sum the counts with the other processes. The
  // model's per-sample draws follow the whole batch (nn::Dropout; batch_shard.hpp).
  GradientReducer* reducer = nullptr;
  // Checkpoint at every epoch end and resume from it (nn/fit_checkpoint.hpp); default: none.
  BasicFitCheckpoint<T> checkpoint;
};
using FitOptions = BasicFitOptions<float>;

// Trains `model` on `train`, evaluating on `test` (if given) after every epoch, epochs
// first_epoch .. first_epoch + epochs − 1 (std::invalid_argument if that overflows). Each epoch
// trains in training mode (model.train()) and evaluates in evaluation mode; when fit returns,
// the model is back in the mode it had on entry. Throws DivergenceError naming the epoch (and
// batch) at the first non-finite loss, at a non-finite parameter after an epoch, or at an epoch
// whose loss breaks the divergence_factor rule, each before on_epoch_end sees that epoch;
// Interrupted when should_stop() returns true.
//
// Each epoch's batch order is drawn from `rng` alone (a fresh permutation of 0..n−1), so
// resuming after epoch k with the model, the optimizer state and the Rng as they were at the
// end of epoch k (nn/checkpoint.hpp), and first_epoch = k + 1, continues exactly as an
// uninterrupted run; options.checkpoint does all of that itself (nn/fit_checkpoint.hpp: then
// epochs is the run's total, and the history returned covers every epoch, resumed ones
// included). T (float or double) is deduced from the model, optimizer and train set. Each step
// is optimizer.step_with(recompute), recompute running the batch's forward and backward pass
// again at the weights the optimizer set (BasicSAM uses it; the others ignore it).
template <class T>
History fit(BasicModule<T>& model, BasicOptimizer<T>& optimizer, const BasicDataset<T>& train,
            const NonDeduced<BasicDataset<T>>* test, Rng& rng, const NonDeduced<BasicFitOptions<T>>& options);

// Fraction of rows whose arg-max output matches the target class (arg-max of a one-hot row,
// or the index), in evaluation mode (each module's mode restored after) and without a graph.
template <class T>
double accuracy(BasicModule<T>& model, const BasicDataset<T>& data, std::size_t batch_size = 1000);

// Index of the largest element of each row of (n, c); ties go to the first.
template <class T>
std::vector<std::size_t> argmax_rows(const TensorOf<T>& x);

}  // namespace nn
}  // namespace xtgrad
