#include "xtgrad/nn/train.hpp"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>
#include <optional>
#include <utility>
#include <stdexcept>
#include <string>

#include "xtgrad/nn/training_errors.hpp"
#include "xtgrad/core/grad_mode.hpp"
#include "xtgrad/core/xt.hpp"
#include "xtgrad/nn/batch_shard.hpp"
#include "xtgrad/nn/batches.hpp"
#include "xtgrad/nn/checkpoint.hpp"
#include "xtgrad/nn/schedulers.hpp"
#include "xtgrad/ops/elementwise.hpp"
#include "xtgrad/ops/losses.hpp"

namespace xtgrad {
namespace nn {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

void draw_progress(std::size_t epoch, std::size_t done, std::size_t total, double mean_loss) {
  const int width = 30;
  const int filled = static_cast<int>(width * done / (total ? total : 1));
  std::fprintf(stderr, "\repoch %zu [%.*s%*s] %zu/%zu loss %.4f", epoch, filled,
               "==============================", width - filled, "", done, total, mean_loss);
  if (done == total) std::fprintf(stderr, "\r%*s\r", width + 60, "");
  std::fflush(stderr);
}

template <class T>
void check_dataset(const char* what, const BasicDataset<T>& d) {
  const bool targets_ok = d.targets.dimension() == 2 || d.targets.dimension() == 1;
  if (d.inputs.dimension() < 2 || !targets_ok || d.inputs.shape()[0] != d.targets.shape()[0]) {
    throw std::invalid_argument(std::string("fit: ") + what + " inputs " + shape_str(d.inputs) + " and targets " +
                                shape_str(d.targets) +
                                " must be (n, features...) and (n, classes) one-hot or (n) class indices");
  }
}

std::string number(double v) {
  char text[32];
  std::snprintf(text, sizeof text, "%.4g", v);
  return text;
}

// After an epoch: every parameter finite, and the epoch's mean data loss within
// options.divergence_factor of the reference (see FitOptions).
template <class T>
void check_divergence(std::size_t epoch, double mean_data_loss, double first_loss, const NamedParametersOf<T>& params,
                      const BasicFitOptions<T>& options) {
  for (const auto& [name, p] : params) {
    const TensorOf<T>& v = p.value();
    for (std::size_t i = 0; i < v.size(); ++i) {
      if (!std::isfinite(v.data()[i])) {
        throw DivergenceError("training diverged in epoch " + std::to_string(epoch) + ": parameter " + name +
                              " holds " + number(double(v.data()[i])) + " (try a smaller --lr)");
      }
    }
  }
  if (options.divergence_factor <= 0) return;
  const double reference = std::max(options.divergence_floor, first_loss);
  if (mean_data_loss > options.divergence_factor * reference) {
    throw DivergenceError("training diverged in epoch " + std::to_string(epoch) + ": its mean data loss " +
                          number(mean_data_loss) + " is more than " + number(options.divergence_factor) +
                          " times " + number(reference) + " (the larger of the first batch's loss " +
                          number(first_loss) + " and the floor " + number(options.divergence_floor) +
                          ") (try a smaller --lr)");
  }
}

// Class of each row: the arg-max of one-hot (n, classes) targets, or (n) class indices
// (non-negative integers, else std::invalid_argument naming the row).
template <class T>
std::vector<std::size_t> target_classes(const TensorOf<T>& targets) {
  if (targets.dimension() == 2) return argmax_rows(targets);
  std::vector<std::size_t> out(targets.size());
  for (std::size_t i = 0; i < targets.size(); ++i) {
    const T v = targets.data()[i];
    if (!(v >= 0) || std::floor(v) != v) {
      throw std::invalid_argument("fit: class index " + std::to_string(v) + " at row " + std::to_string(i) +
                                  " is not a non-negative integer");
    }
    out[i] = static_cast<std::size_t>(v);
  }
  return out;
}

}  // namespace

template <class T>
std::vector<std::size_t> argmax_rows(const TensorOf<T>& x) {
  if (x.dimension() != 2) throw std::invalid_argument("argmax_rows: expects a 2-d tensor, got " + shape_str(x));
  const std::size_t n = x.shape()[0], c = x.shape()[1];
  std::vector<std::size_t> out(n, 0);
  for (std::size_t i = 0; i < n; ++i) {
    const T* row = x.data() + i * c;
    for (std::size_t j = 1; j < c; ++j)
      if (row[j] > row[out[i]]) out[i] = j;
  }
  return out;
}

namespace {

// Rows in [first, last) whose arg-max output matches the target class, in eval mode and
// without a graph.
template <class T>
std::size_t count_correct(BasicModule<T>& model, const BasicDataset<T>& data, std::size_t first, std::size_t last,
                          std::size_t batch_size) {
  using Tensor = TensorOf<T>;
  using Variable = BasicVariable<T>;
  if (batch_size == 0) throw std::invalid_argument("accuracy: batch_size must be positive");
  if (first >= last) return 0;
  NoGrad no_grad;
  EvalModeGuard eval_mode(model);
  const std::size_t n = data.inputs.shape()[0], d = data.inputs.size() / n;
  const std::vector<std::size_t> truth = target_classes(data.targets);
  std::size_t correct = 0;
  Variable batch(Tensor{});  // one leaf refilled in place: no copy per batch
  Shape shape = shape_of(data.inputs);
  for (std::size_t start = first; start < last; start += batch_size) {
    const std::size_t rows = std::min(batch_size, last - start);
    Tensor& b = batch.mutable_value();
    shape[0] = rows;
    if (!std::equal(shape.begin(), shape.end(), b.shape().begin(), b.shape().end())) b.resize(shape);
    std::copy(data.inputs.data() + start * d, data.inputs.data() + (start + rows) * d, b.data());
    const Variable out = model(batch);
    const std::vector<std::size_t> pred = argmax_rows(out.value());
    for (std::size_t i = 0; i < rows; ++i) correct += pred[i] == truth[start + i];
  }
  return correct;
}

}  // namespace

template <class T>
double accuracy(BasicModule<T>& model, const BasicDataset<T>& data, std::size_t batch_size) {
  check_dataset("accuracy", data);
  const std::size_t n = data.inputs.shape()[0];
  if (n == 0) return 0.0;
  return double(count_correct(model, data, 0, n, batch_size)) / double(n);
}

namespace {

// fit without options.checkpoint: epochs first_epoch .. first_epoch + epochs − 1.
template <class T>
History train_epochs(BasicModule<T>& model, BasicOptimizer<T>& optimizer, const BasicDataset<T>& train,
                     const BasicDataset<T>* test, Rng& rng, const BasicFitOptions<T>& options) {
  using Tensor = TensorOf<T>;
  using Variable = BasicVariable<T>;
  check_dataset("train", train);
  if (test) check_dataset("test", *test);
  // Index targets are checked once here, so an error names the data set's row.
  if (train.targets.dimension() == 1) target_classes(train.targets);
  if (test && test->targets.dimension() == 1) target_classes(test->targets);
  if (options.batch_size == 0) throw std::invalid_argument("fit: batch_size must be positive");
  if (options.first_epoch == 0 || options.epochs > std::numeric_limits<std::size_t>::max() - options.first_epoch) {
    throw std::invalid_argument("fit: epochs " + std::to_string(options.first_epoch) + " .. " +
                                std::to_string(options.first_epoch) + " + " + std::to_string(options.epochs) +
                                " − 1 do not fit in size_t (first_epoch must be ≥ 1)");
  }
  // Default loss: cross-entropy on logits, with one-hot rows or class indices.
  // Index targets become one-hot rows in a reused constant leaf (checked above to be whole
  // numbers), so this path allocates nothing per step either.
  Variable one_hot(Tensor::from_shape({0}));
  const BasicLossFunction<T> loss_fn =
      options.loss ? options.loss : [&one_hot](const Variable& out, const Variable& y) {
    const Tensor& labels = y.value();
    if (labels.dimension() == 2) return cross_entropy(out, y);
    const Tensor& z = out.value();
    if (z.dimension() != 2 || z.shape()[0] != labels.size()) {
      throw std::invalid_argument("fit: the model's output " + shape_str(z) + " must be (n, classes) for " +
                                  std::to_string(labels.size()) + " class-index targets");
    }
    const std::size_t n = z.shape()[0], c = z.shape()[1];
    Tensor& t = one_hot.mutable_value();
    if (t.dimension() != 2 || t.shape()[0] != n || t.shape()[1] != c) t.resize(typename Tensor::shape_type{n, c});
    std::fill(t.data(), t.data() + t.size(), T(0));
    for (std::size_t i = 0; i < n; ++i) {
      const auto k = static_cast<std::size_t>(labels.data()[i]);
      if (k >= c) {
        throw std::invalid_argument("fit: label " + std::to_string(k) + " is out of range for the model's output " +
                                    shape_str(z));
      }
      t.data()[i * c + k] = T(1);
    }
    return cross_entropy(out, one_hot);
  };
  const bool was_training = model.is_training();
  const bool bar = options.progress_bar && ::isatty(STDERR_FILENO);
  const NamedParametersOf<T> params = model.named_parameters();

  BasicBatchIterator<T> batches(train.inputs, train.targets, options.batch_size, options.shuffle, rng);
  batches.set_prefetch(options.prefetch);
  if (options.reducer) batches.set_shard(options.reducer->shard_index(), options.reducer->shard_count());
  // The batch buffers live in two constant leaves that are refilled in place each step.
  Variable x_batch(Tensor{}), y_batch(Tensor{});
  History history;
  double first_loss = -1;  // the data loss of this call's first batch: the divergence reference
  for (std::size_t k = 0; k < options.epochs; ++k) {
    const std::size_t epoch = options.first_epoch + k;
    if (options.should_stop && options.should_stop()) {
      throw Interrupted("training interrupted before epoch " + std::to_string(epoch), epoch);
    }
    const auto start = Clock::now();
    model.train();
    batches.start_epoch();
    double data_sum = 0, penalty_sum = 0;
    std::size_t batch_index = 0;
    while (batches.next(x_batch.mutable_value(), y_batch.mutable_value())) {
      ++batch_index;
      // With a reducer this process holds one shard of the batch, which may be empty.
      const bool has_rows = x_batch.value().shape()[0] > 0;
      if (has_rows && options.prepare_batch) options.prepare_batch(x_batch.mutable_value(), y_batch.mutable_value());
      // One forward and backward pass of this batch at the current weights, gradients zeroed
      // first (and reduced over the processes); returns the data loss and the penalty. Run once
      // per step, and again by an optimizer that needs the gradient elsewhere (step_with: SAM).
      const auto pass = [&]() -> std::pair<double, double> {
        Variable loss;
        double data_value = 0, penalty_value = 0;
        if (has_rows) {
          // Sharded: per-sample draws follow the rows' places in the whole batch (batch_shard.hpp).
          std::optional<BatchShardScope> shard;
          if (options.reducer) {
            shard.emplace(BatchShard{batches.shard_offset(), x_batch.value().shape()[0], batches.batch_rows()});
          }
          loss = loss_fn(model(x_batch), y_batch);
          data_value = loss.item();
        }
        if (options.penalty) {
          Variable penalty = options.penalty(params);
          penalty_value = penalty.item();
          if (has_rows && penalty.requires_grad()) loss = loss + penalty;  // a constant adds no gradient
        }
        auto check_finite = [&] {
          if (std::isfinite(data_value) && std::isfinite(penalty_value)) return;
          throw DivergenceError("training diverged at epoch " + std::to_string(epoch) + ", batch " +
                                std::to_string(batch_index) + ": the loss is " +
                                std::to_string(data_value + penalty_value) + " (try a smaller --lr)");
        };
        if (!options.reducer) check_finite();
        optimizer.zero_grad();
        if (options.reducer) options.reducer->begin_step(x_batch.value().shape()[0], batches.batch_rows());
        if (has_rows) loss.backward();
        if (options.reducer) {
          data_value = options.reducer->finish_step(data_value);  // the whole batch's: the same on every process
          check_finite();
        }
        return {data_value, penalty_value};
      };
      const auto [data_value, penalty_value] = pass();
      if (first_loss < 0) first_loss = data_value;
      if (options.before_step) options.before_step();
      optimizer.step_with([&pass] { pass(); });
      if (options.after_step) options.after_step();
      data_sum += data_value;
      penalty_sum += penalty_value;
      if (bar && (batch_index % 16 == 0 || batch_index == batches.batches_per_epoch())) {
        draw_progress(epoch, batch_index, batches.batches_per_epoch(), (data_sum + penalty_sum) / batch_index);
      }
      if (options.should_stop && options.should_stop()) {
        if (bar) std::fprintf(stderr, "\r%*s\r", 90, "");  // clear the bar
        throw Interrupted("training interrupted in epoch " + std::to_string(epoch) + " after batch " +
                              std::to_string(batch_index),
                          epoch);
      }
    }
    EpochStats stats;
    stats.epoch = epoch;
    stats.seconds = seconds_since(start);
    const double nb = batch_index ? double(batch_index) : 1.0;
    stats.data_loss = data_sum / nb;
    stats.penalty = penalty_sum / nb;
    stats.loss = stats.data_loss + stats.penalty;
    check_divergence(epoch, stats.data_loss, first_loss, params, options);
    if (test) {
      const auto eval_start = Clock::now();
      if (options.reducer && test->inputs.shape()[0] > 0) {
        // Each process evaluates its slice of the test set; the counts are summed.
        const std::size_t n = test->inputs.shape()[0], k = options.reducer->shard_index(),
                          shards = options.reducer->shard_count();
        const double correct = double(count_correct(model, *test, n * k / shards, n * (k + 1) / shards,
                                                    options.eval_batch_size));
        stats.test_accuracy = options.reducer->sum(correct) / double(n);
      } else {
        stats.test_accuracy = accuracy(model, *test, options.eval_batch_size);
      }
      stats.eval_seconds = seconds_since(eval_start);
    }
    history.push_back(stats);
    if (options.on_epoch_end) options.on_epoch_end(stats);
    if (options.scheduler) options.scheduler->step(options.scheduler_metric ? options.scheduler_metric(stats) : stats.loss);
    if (options.stop_early && options.stop_early(stats)) break;
  }
  model.train(was_training);
  return history;
}

// fit with options.checkpoint: resume (model, optimizer, rng and the epochs done) when asked
// and possible, then train the rest, saving after each epoch's own callback has run.
template <class T>
History train_checkpointed(BasicModule<T>& model, BasicOptimizer<T>& optimizer, const BasicDataset<T>& train,
                           const BasicDataset<T>* test, Rng& rng, const BasicFitOptions<T>& options) {
  const BasicFitCheckpoint<T>& settings = options.checkpoint;
  if (options.first_epoch != 1) {
    throw std::invalid_argument("fit: first_epoch " + std::to_string(options.first_epoch) + " with checkpoint " +
                                settings.path + ": a checkpointed run counts its epochs from 1 and resumes by itself");
  }
  const std::string data = settings.data.empty() ? dataset_fingerprint(train) : settings.data;
  History done;  // every epoch of the run so far
  BasicFitOptions<T> rest = options;
  rest.checkpoint = {};
  if (std::optional<BasicCheckpoint<T>> c =
          resume_run<T>(settings, data, options.epochs, model, optimizer, options.reducer)) {
    rng = c->rng;
    done = c->history;
    const bool ended = settings.load_extra && settings.load_extra(*c);
    rest.first_epoch = c->epoch + 1;
    rest.epochs = ended ? 0 : options.epochs - c->epoch;
    if (settings.on_checkpoint) settings.on_checkpoint(c->epoch);
  }
  rest.on_epoch_end = [&](const EpochStats& e) {
    if (options.on_epoch_end) options.on_epoch_end(e);  // (so the caller's state below includes this epoch)
    done.push_back(e);
    BasicCheckpoint<T> c;
    c.epoch = e.epoch;
    c.rng = rng;
    c.history = done;
    if (settings.save_extra) settings.save_extra(c);
    save_run<T>(settings, std::move(c), data, model, optimizer, options.reducer);
    if (settings.on_checkpoint) settings.on_checkpoint(e.epoch);
  };
  train_epochs(model, optimizer, train, test, rng, rest);
  return done;
}

}  // namespace

template <class T>
History fit(BasicModule<T>& model, BasicOptimizer<T>& optimizer, const BasicDataset<T>& train,
            const NonDeduced<BasicDataset<T>>* test, Rng& rng, const NonDeduced<BasicFitOptions<T>>& options) {
  if (!options.checkpoint.path.empty()) return train_checkpointed(model, optimizer, train, test, rng, options);
  return train_epochs(model, optimizer, train, test, rng, options);
}

template std::vector<std::size_t> argmax_rows(const TensorOf<float>&);
template std::vector<std::size_t> argmax_rows(const TensorOf<double>&);
template double accuracy(BasicModule<float>&, const BasicDataset<float>&, std::size_t);
template double accuracy(BasicModule<double>&, const BasicDataset<double>&, std::size_t);
template History fit(BasicModule<float>&, BasicOptimizer<float>&, const BasicDataset<float>&,
                     const BasicDataset<float>*, Rng&, const BasicFitOptions<float>&);
template History fit(BasicModule<double>&, BasicOptimizer<double>&, const BasicDataset<double>&,
                     const BasicDataset<double>*, Rng&, const BasicFitOptions<double>&);

}  // namespace nn
}  // namespace xtgrad
