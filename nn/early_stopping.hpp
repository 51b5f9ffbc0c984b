// Early stopping as an nn::fit callback: patience on the validation accuracy, and the best
// epoch's parameters put back.
#pragma once

#include <cstddef>
#include <vector>

#include "xtgrad/nn/module.hpp"
#include "xtgrad/nn/train.hpp"

namespace xtgrad {
namespace nn {

// Watches EpochStats::test_accuracy (the accuracy on the data set fit evaluates: pass a
// validation split, e.g. from split_dataset, as fit's `test`). Keeps a copy of the
// parameters and buffers of the best epoch; once `patience` epochs in a row have not beaten
// the best by more than min_delta, it asks fit to stop and puts the best values back.
// Keeps a reference to the model, which must outlive it.
//
//   EarlyStopping early(model, /*patience=*/3);
//   options.stop_early = [&](const EpochStats& s) { return early(s); };
//   fit(model, optimizer, train, &validation, rng, options);
//   early.restore_best();  // also when all epochs ran
//
// state() and load_state() carry it across a checkpoint (nn/checkpoint.hpp stores it), so a
// resumed run stops at the same epoch and keeps the same weights as an uninterrupted one.

// Everything EarlyStopping has learned so far, for a model of scalar type T.
template <class T>
struct BasicEarlyStoppingState {
  std::size_t best_epoch = 0;        // 0 before any epoch
  std::size_t bad_epochs = 0;        // epochs in a row since the best that did not beat it
  double best_accuracy = -1;
  bool stopped = false;              // it asked fit to stop (and put the best values back)
  std::vector<TensorOf<T>> best_values;  // the best epoch's parameters, then buffers, in named_* order
};
using EarlyStoppingState = BasicEarlyStoppingState<float>;

template <class T>
class BasicEarlyStopping {
 public:
  BasicEarlyStopping(BasicModule<T>& model, std::size_t patience, double min_delta = 0.0);
  // Records the epoch; true (after restoring the best values) when training should stop.
  // Throws std::invalid_argument if the epoch has no accuracy (fit got no test set).
  bool operator()(const EpochStats& stats);
  // Copies the best epoch's parameters and buffers into the model (a no-op before any epoch).
  void restore_best();
  std::size_t best_epoch() const { return best_epoch_; }  // 0 before any epoch
  double best_accuracy() const { return best_accuracy_; }
  bool stopped() const { return stopped_; }
  std::size_t patience() const { return patience_; }

  // A copy of what it has recorded.
  BasicEarlyStoppingState<T> state() const;
  // Replaces what it has recorded with `state` (as state() produced it for the same model).
  // std::invalid_argument, and nothing changed, if best_values do not match the model's
  // parameters and buffers in number and shapes, or best_epoch is 0 with values (or not).
  void load_state(const BasicEarlyStoppingState<T>& state);

 private:
  BasicModule<T>& model_;
  std::size_t patience_;
  double min_delta_;
  std::size_t best_epoch_ = 0, bad_epochs_ = 0;
  double best_accuracy_ = -1;
  bool stopped_ = false;
  std::vector<TensorOf<T>> best_values_;  // parameters, then buffers, in named_* order
};

using EarlyStopping = BasicEarlyStopping<float>;

extern template class BasicEarlyStopping<float>;
extern template class BasicEarlyStopping<double>;

}  // namespace nn
}  // namespace xtgrad
