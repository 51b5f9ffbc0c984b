#include "experiment.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "blog_loss.hpp"
#include "xtgrad/core/gemm.hpp"
#include "xtgrad/nn/init.hpp"
#include "xtgrad/ops/activations.hpp"
#include "xtgrad/ops/losses.hpp"

namespace mnist_app {

using namespace xtgrad;

TwoLayerNet::TwoLayerNet(std::size_t inputs, std::size_t hidden, std::size_t classes, Rng& rng)
    : fc1(register_module("fc1", nn::Linear(inputs, hidden, rng, [](const Shape& s, Rng& r) {
        return nn::std_normal(s, r, 0.01);
      }))),
      fc2(register_module("fc2", nn::Linear(hidden, classes, rng, [](const Shape& s, Rng& r) {
        return nn::std_normal(s, r, 0.01);
      }))) {}

Variable TwoLayerNet::forward(const Variable& x) { return fc2(sigmoid(fc1(x))); }

PreparedData prepare_data(const nn::Mnist& mnist, std::size_t train_size, std::uint64_t seed) {
  Rng rng(seed);
  const std::vector<std::size_t> subset = nn::random_subset(mnist.train.count, train_size, rng);
  std::vector<std::size_t> all_test(mnist.test.count);
  for (std::size_t i = 0; i < all_test.size(); ++i) all_test[i] = i;
  PreparedData d;
  d.train.inputs = nn::normalize_images(mnist.train, subset);
  d.train.targets = nn::one_hot(mnist.train.labels, subset);
  d.test.inputs = nn::normalize_images(mnist.test);
  d.test.targets = nn::one_hot(mnist.test.labels, all_test);
  return d;
}

RunResult run_experiment(const PreparedData& data, const Config& config, const Regularizer& reg, std::ostream& log,
                         const RunControl& control) {
  // A stream of its own for the model and the shuffles, the same for every run.
  Rng rng(config.seed * 0x9E3779B97F4A7C15ULL + 1);
  const std::size_t inputs = data.train.inputs.shape()[1];
  const std::size_t classes = data.train.targets.shape()[1];
  TwoLayerNet model(inputs, config.hidden, classes, rng);
  nn::SGD optimizer(model.named_parameters(), config.lr);

  RunResult result;
  result.reg = reg.describe();
  result.gradient = config.blog_gradient ? "blog" : "true";
  result.coverage = reg.coverage(model.named_parameters());
  if (!config.quiet) {
    log << "\n" << format_coverage(reg, model.named_parameters(), config.batch_size) << std::flush;
  }

  nn::FitOptions options;
  options.epochs = config.epochs;
  // (A batch larger than the subset is the whole subset: the same batches, no size overflow.)
  options.batch_size = std::min(config.batch_size, data.train.inputs.shape()[0]);
  // Diverged: an epoch's mean data loss above 10·max(ln 10, first batch's loss), i.e. the
  // average probability of the right digit below 10^-10, worse than any guess (nn::FitOptions).
  options.divergence_factor = 10;
  options.divergence_floor = std::log(double(classes));
  options.progress_bar = !config.quiet;
  // A second core copies the next batch, unless OpenBLAS splits the step's largest product
  // (x·W1) over it: then the two would compete for it (hidden 3200: 2.15 s/epoch with the
  // prefetch, 1.74 s without, on two threads).
  options.prefetch = config.threads > 1 && !xtgrad::gemm_uses_threads(false, config.batch_size, config.hidden, inputs);
  if (config.blog_gradient) options.loss = blog_cross_entropy;
  // The penalty follows the epoch (start=N): `epoch` is the one being trained, advanced at each
  // epoch's end, where the per-tensor penalties are recorded (one pass over the weights per
  // epoch, not per batch). In mode prox the proximal step runs after each optimizer step.
  const NamedParameters params = model.named_parameters();
  std::size_t epoch = 1;
  options.penalty = [&](const NamedParameters& p) { return reg.penalty_at(p, epoch); };
  options.after_step = [&] { apply_prox(reg, params, optimizer.learning_rate(), epoch); };
  options.on_epoch_end = [&](const nn::EpochStats& e) {
    result.tensor_penalties.push_back(reg.active(epoch) ? reg.penalty_terms(params)
                                                        : std::vector<double>(params.size(), 0.0));
    epoch = e.epoch + 1;
    if (config.quiet) return;
    log << fmt::format("[{}] epoch {:>2}/{}  data loss {:.3f}  penalty {:.3f}  loss {:.3f}  test acc {:.4f}  ({:.2f} s train, {:.2f} s eval)\n",
                       result.reg, e.epoch, config.epochs, e.data_loss, e.penalty, e.loss, e.test_accuracy,
                       e.seconds, e.eval_seconds)
        << std::flush;
  };
  std::unique_ptr<nn::GradientReducer> reducer;
  if (control.make_reducer) {
    reducer = control.make_reducer(params);
    options.reducer = reducer.get();
  }
  // Resuming restores model, optimizer, rng and the epochs done; every epoch end saves them.
  result.history = prepare_run(control, model, optimizer, rng, options, config.quiet ? nullptr : &log,
                               result.tensor_penalties);
  epoch = options.first_epoch;
  for (const auto& e : nn::fit(model, optimizer, data.train, &data.test, rng, options)) result.history.push_back(e);

  result.test_accuracy = result.history.empty() ? 0 : result.history.back().test_accuracy;
  std::vector<double> secs;
  for (const auto& e : result.history) secs.push_back(e.seconds);
  std::sort(secs.begin(), secs.end());
  result.seconds_per_epoch = secs.empty() ? 0 : secs[secs.size() / 2];
  result.sparsity = sparsity_report(model.named_parameters());
  if (!config.quiet) log << "\n[" << result.reg << "] sparsity of the weights\n" << format_sparsity(result.sparsity);
  result.first_layer_weights = model.fc1.weight.value();
  return result;
}

}  // namespace mnist_app
