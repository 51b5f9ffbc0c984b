#include "xtgrad/nn/train.hpp"

#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <stdexcept>
#include <string>

#include "xtgrad/core/errors.hpp"
#include "xtgrad/core/grad_mode.hpp"
#include "xtgrad/core/xt.hpp"
#include "xtgrad/nn/batches.hpp"
#include "xtgrad/ops/elementwise.hpp"
#include "xtgrad/ops/losses.hpp"

namespace xtgrad {
inline namespace XTGRAD_ABI {
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

void check_dataset(const char* what, const Dataset& d) {
  if (d.inputs.dimension() != 2 || d.targets.dimension() != 2 || d.inputs.shape()[0] != d.targets.shape()[0]) {
    throw std::invalid_argument(std::string("fit: ") + what + " inputs " + shape_str(d.inputs) + " and targets " +
                                shape_str(d.targets) + " must be (n, features) and (n, classes)");
  }
}

}  // namespace

std::vector<std::size_t> argmax_rows(const Tensor& x) {
  if (x.dimension() != 2) throw std::invalid_argument("argmax_rows: expects a 2-d tensor, got " + shape_str(x));
  const std::size_t n = x.shape()[0], c = x.shape()[1];
  std::vector<std::size_t> out(n, 0);
  for (std::size_t i = 0; i < n; ++i) {
    const Scalar* row = x.data() + i * c;
    for (std::size_t j = 1; j < c; ++j)
      if (row[j] > row[out[i]]) out[i] = j;
  }
  return out;
}

namespace {

// Rows in [first, last) whose arg-max output matches the arg-max target, without a graph.
std::size_t count_correct(Module& model, const Dataset& data, std::size_t first, std::size_t last,
                          std::size_t batch_size) {
  NoGrad no_grad;
  const std::size_t d = data.inputs.shape()[1];
  if (first >= last) return 0;
  const std::vector<std::size_t> truth = argmax_rows(data.targets);
  std::size_t correct = 0;
  Variable batch(Tensor{});  // one leaf refilled in place: no copy per batch
  for (std::size_t start = first; start < last; start += batch_size) {
    const std::size_t rows = std::min(batch_size, last - start);
    Tensor& b = batch.mutable_value();
    if (b.dimension() != 2 || b.shape()[0] != rows || b.shape()[1] != d) b.resize({rows, d});
    std::copy(data.inputs.data() + start * d, data.inputs.data() + (start + rows) * d, b.data());
    const Variable out = model(batch);
    const std::vector<std::size_t> pred = argmax_rows(out.value());
    for (std::size_t i = 0; i < rows; ++i) correct += pred[i] == truth[start + i];
  }
  return correct;
}

}  // namespace

double accuracy(Module& model, const Dataset& data, std::size_t batch_size) {
  check_dataset("accuracy", data);
  const std::size_t n = data.inputs.shape()[0];
  if (n == 0) return 0.0;
  return double(count_correct(model, data, 0, n, batch_size)) / double(n);
}

History fit(Module& model, Optimizer& optimizer, const Dataset& train, const Dataset* test, Rng& rng,
            const FitOptions& options) {
  check_dataset("train", train);
  if (test) check_dataset("test", *test);
  if (options.batch_size == 0) throw std::invalid_argument("fit: batch_size must be positive");
  const LossFunction loss_fn = options.loss ? options.loss : [](const Variable& out, const Variable& y) {
    return cross_entropy(out, y);
  };
  const bool bar = options.progress_bar && ::isatty(STDERR_FILENO);
  const NamedParameters params = model.named_parameters();

  BatchIterator batches(train.inputs, train.targets, options.batch_size, options.shuffle, rng);
  batches.set_prefetch(options.prefetch);
  if (options.reducer) batches.set_shard(options.reducer->shard_index(), options.reducer->shard_count());
  // The batch buffers live in two constant leaves that are refilled in place each step.
  Variable x_batch(Tensor{}), y_batch(Tensor{});
  History history;
  for (std::size_t epoch = options.first_epoch; epoch < options.first_epoch + options.epochs; ++epoch) {
    if (options.should_stop && options.should_stop()) {
      throw Interrupted("training interrupted before epoch " + std::to_string(epoch), epoch);
    }
    const auto start = Clock::now();
    batches.start_epoch();
    double data_sum = 0, penalty_sum = 0;
    std::size_t batch_index = 0;
    while (batches.next(x_batch.mutable_value(), y_batch.mutable_value())) {
      ++batch_index;
      // With a reducer this process holds one shard of the batch, which may be empty.
      const bool has_rows = x_batch.value().shape()[0] > 0;
      Variable loss;
      double data_value = 0, penalty_value = 0;
      if (has_rows) {
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
      optimizer.step();
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
  }
  return history;
}

}  // namespace nn
}  // namespace XTGRAD_ABI
}  // namespace xtgrad
