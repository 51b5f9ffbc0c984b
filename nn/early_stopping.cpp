#include "xtgrad/nn/early_stopping.hpp"

#include <cmath>
#include <stdexcept>
#include <string>

namespace xtgrad {
namespace nn {
namespace {

// Parameters then buffers of `model`, as handles.
template <class T>
std::vector<BasicVariable<T>> state_of(const BasicModule<T>& model) {
  std::vector<BasicVariable<T>> out;
  for (const auto& [_, p] : model.named_parameters()) out.push_back(p);
  for (const auto& [_, b] : model.named_buffers()) out.push_back(b);
  return out;
}

}  // namespace

template <class T>
BasicEarlyStopping<T>::BasicEarlyStopping(BasicModule<T>& model, std::size_t patience, double min_delta)
    : model_(model), patience_(patience), min_delta_(min_delta) {
  if (!(min_delta >= 0) || !std::isfinite(min_delta)) {
    throw std::invalid_argument("EarlyStopping: min_delta must be finite and >= 0, got " + std::to_string(min_delta));
  }
}

template <class T>
bool BasicEarlyStopping<T>::operator()(const EpochStats& stats) {
  if (stats.test_accuracy < 0) {
    throw std::invalid_argument("EarlyStopping: epoch " + std::to_string(stats.epoch) +
                                " has no validation accuracy (pass a validation set as fit's test set)");
  }
  if (best_epoch_ == 0 || stats.test_accuracy > best_accuracy_ + min_delta_) {
    best_epoch_ = stats.epoch;
    best_accuracy_ = stats.test_accuracy;
    bad_epochs_ = 0;
    best_values_.clear();
    for (const BasicVariable<T>& v : state_of(model_)) best_values_.push_back(v.value());
    return false;
  }
  if (++bad_epochs_ < patience_) return false;
  stopped_ = true;
  restore_best();
  return true;
}

template <class T>
void BasicEarlyStopping<T>::restore_best() {
  if (best_values_.empty()) return;
  std::vector<BasicVariable<T>> now = state_of(model_);
  if (now.size() != best_values_.size()) {
    throw std::logic_error("EarlyStopping: the model's parameters changed since the best epoch");
  }
  for (std::size_t i = 0; i < now.size(); ++i) now[i].mutable_value() = best_values_[i];
}

template <class T>
BasicEarlyStoppingState<T> BasicEarlyStopping<T>::state() const {
  return BasicEarlyStoppingState<T>{best_epoch_, bad_epochs_, best_accuracy_, stopped_, best_values_};
}

template <class T>
void BasicEarlyStopping<T>::load_state(const BasicEarlyStoppingState<T>& state) {
  const std::vector<BasicVariable<T>> now = state_of(model_);
  const bool any = state.best_epoch > 0;
  if (any != !state.best_values.empty()) {
    throw std::invalid_argument("EarlyStopping::load_state: best_epoch " + std::to_string(state.best_epoch) +
                                " with " + std::to_string(state.best_values.size()) +
                                " best values (values are kept from the first epoch on)");
  }
  if (any && state.best_values.size() != now.size()) {
    throw std::invalid_argument("EarlyStopping::load_state: " + std::to_string(state.best_values.size()) +
                                " best values for a model of " + std::to_string(now.size()) +
                                " parameters and buffers");
  }
  for (std::size_t i = 0; any && i < now.size(); ++i) {
    if (shape_of(state.best_values[i]) != now[i].shape()) {
      throw std::invalid_argument("EarlyStopping::load_state: best value " + std::to_string(i) + " has shape " +
                                  shape_str(state.best_values[i]) + " but the model's has " +
                                  shape_str(now[i].value()));
    }
  }
  if (!any && (state.bad_epochs != 0 || state.stopped)) {
    throw std::invalid_argument("EarlyStopping::load_state: bad epochs or stopped before any epoch");
  }
  best_epoch_ = state.best_epoch;
  bad_epochs_ = state.bad_epochs;
  best_accuracy_ = state.best_accuracy;
  stopped_ = state.stopped;
  best_values_ = state.best_values;
}

template class BasicEarlyStopping<float>;
template class BasicEarlyStopping<double>;

}  // namespace nn
}  // namespace xtgrad
