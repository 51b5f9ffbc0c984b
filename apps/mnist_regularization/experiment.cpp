#include "experiment.hpp"

#include <algorithm>
#include <cmath>
#include <optional>

#include <fmt/format.h>

#include "blog_loss.hpp"
#include "pruning.hpp"
#include "xtgrad/core/buffer_cache.hpp"
#include "xtgrad/core/xt.hpp"
#include "xtgrad/nn/batch_shard.hpp"
#include "xtgrad/nn/data_loader.hpp"
#include "xtgrad/nn/early_stopping.hpp"
#include "xtgrad/nn/models.hpp"
#include "xtgrad/ops/elementwise.hpp"
#include "xtgrad/ops/linalg.hpp"
#include "xtgrad/core/gemm.hpp"
#include "xtgrad/core/hessian.hpp"
#include "xtgrad/nn/init.hpp"
#include "xtgrad/ops/activations.hpp"
#include "xtgrad/ops/losses.hpp"
#include "xtgrad/regularizers/input_space.hpp"

namespace mnist_app {

using namespace xtgrad;

Variable AppNet::forward(const Variable& x) {
  Variable h = x;
  if (is_training()) {
    if (input_leaf_) {
      last_input_ = Variable(x.value(), true);
      h = last_input_;
    }
    // (Data-parallel: drawn for the whole batch, this rank's rows kept, as one process draws.)
    if (noise_ > 0) h = h + Variable(nn::sharded_randn(shape_of(x.value()), draws_, 0.0, noise_));
  }
  if (!sample_shape_.empty()) {
    batch_shape_.assign({x.value().shape()[0]});
    batch_shape_.insert(batch_shape_.end(), sample_shape_.begin(), sample_shape_.end());
    h = reshape(h, batch_shape_);  // (n, 784) → (n, 1, 28, 28)
  }
  const std::size_t last = size() - 1;
  for (std::size_t i = 0; i < last; ++i) h = (*this)[i](h);
  if (dropout_ > 0) h = nn::sharded_dropout(h, dropout_, draws_, is_training());
  return (*this)[last](h);
}

namespace {
nn::Sequential two_layer(std::size_t inputs, std::size_t hidden, std::size_t classes, Rng& rng) {
  // N(0, 0.01²) drawn in the seed's (inputs, hidden) order, then stored as Linear's (out, in):
  // the same initial weights, and so the same runs, as before Linear took PyTorch's layout.
  const auto init = [](const Shape& s, Rng& r) {
    return Tensor(xt::transpose(nn::std_normal(Shape{s[1], s[0]}, r, 0.01)));
  };
  nn::Sequential net;
  net.add("fc1", nn::Linear(inputs, hidden, rng, init))
      .add("sigmoid", nn::Sigmoid())
      .add("fc2", nn::Linear(hidden, classes, rng, init));
  return net;
}
}  // namespace

TwoLayerNet::TwoLayerNet(std::size_t inputs, std::size_t hidden, std::size_t classes, Rng& rng, double dropout,
                         double noise, bool input_leaf)
    : AppNet(two_layer(inputs, hidden, classes, rng), {}, dropout, noise, input_leaf) {}

Tensor TwoLayerNet::first_layer_weights() const { return get<nn::Linear>("fc1").weight.value(); }

LeNet::LeNet(std::size_t classes, Rng& rng, double dropout, double noise, bool input_leaf)
    : AppNet(nn::lenet5(rng, {classes, {}}), {1, 28, 28}, dropout, noise, input_leaf) {}

Tensor LeNet::first_layer_weights() const { return get<nn::Conv2d>("conv1").weight.value(); }

std::unique_ptr<AppNet> make_model(const Config& config, std::size_t inputs, std::size_t classes, Rng& rng,
                                   double dropout, double noise, bool input_leaf) {
  if (config.model == "lenet") {
    if (inputs != 784) {
      throw std::invalid_argument("--model lenet: needs 28x28 images (784 inputs), got " + std::to_string(inputs));
    }
    return std::make_unique<LeNet>(classes, rng, dropout, noise, input_leaf);
  }
  return std::make_unique<TwoLayerNet>(inputs, config.hidden, classes, rng, dropout, noise, input_leaf);
}

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

RunResult run_experiment(const PreparedData& data, const Config& config, const Methods& methods, std::ostream& log,
                         const RunControl& control) {
  const Regularizer& reg = *methods.penalty;
  // A stream of its own for the model and the shuffles, the same for every run.
  Rng rng(config.seed * 0x9E3779B97F4A7C15ULL + 1);
  const std::size_t inputs = data.train.inputs.shape()[1];
  const std::size_t classes = data.train.targets.shape()[1];
  const bool input_leaf = methods.adversarial > 0 || methods.input_grad > 0;
  const std::unique_ptr<AppNet> net = make_model(config, inputs, classes, rng, methods.dropout, methods.noise, input_leaf);
  AppNet& model = *net;
  // The optimizer (--optimizer, weight_decay, sam) and mixup: how each batch's step is made.
  RunOptimizer run_optimizer = make_optimizer(config.optimizer, config.lr, config.momentum, methods,
                                              model.named_parameters());
  nn::Optimizer& optimizer = run_optimizer.get();
  std::optional<Mixup> mixup;
  Rng mix_rng;
  const std::uint64_t mix_seed = config.seed * 0x9E3779B97F4A7C15ULL + 7;
  if (methods.mixup > 0) mixup.emplace(methods.mixup);

  RunResult result;
  result.reg = methods.describe();
  result.effects = methods.effects();
  result.gradient = config.blog_gradient ? "blog" : "true";
  result.coverage = reg.coverage(model.named_parameters());
  if (!config.quiet) {
    log << "\n" << format_coverage(reg, model.named_parameters(), config.batch_size);
    if (result.reg != reg.describe()) log << "run " << result.reg << ": the penalty above, and\n";
    for (const auto& e : result.effects) log << "  " << e << "\n";
    if (config.optimizer != "sgd" || methods.weight_decay > 0 || methods.sam > 0) {
      log << "  optimizer: " << run_optimizer.description << "\n";
    }
    log << std::flush;
  }

  // Early stopping trains on the rest of the subset and watches a held-out validation part.
  const nn::Dataset* train = &data.train;
  nn::Dataset fit_train, validation;
  if (methods.patience > 0) {
    Rng split_rng(config.seed * 0x9E3779B97F4A7C15ULL + 3);
    std::tie(fit_train, validation) = nn::split_dataset(data.train, validation_fraction, split_rng);
    train = &fit_train;
  }

  nn::FitOptions options;
  options.epochs = config.epochs;
  // (A batch larger than the subset is the whole subset: the same batches, no size overflow.)
  options.batch_size = std::min(config.batch_size, train->inputs.shape()[0]);
  // Diverged: an epoch's mean data loss above 10·max(ln 10, first batch's loss), i.e. the
  // average probability of the right digit below 10^-10, worse than any guess (nn::FitOptions).
  options.divergence_factor = 10;
  options.divergence_floor = std::log(double(classes));
  options.progress_bar = !config.quiet;
  // No background batch copy: every core already works on the step's ops (--threads); at one
  // thread a second one would only take time from the process's single CPU share.
  options.prefetch = false;
  const nn::LossFunction base_loss = config.blog_gradient ? nn::LossFunction(blog_cross_entropy<Scalar>)
                                                          : nn::LossFunction([](const Variable& out, const Variable& y) {
                                                              return cross_entropy(out, y);
                                                            });
  // The input-gradient penalty of the current batch, built by the loss and handed to the
  // penalty callback (fit calls the loss, then the penalty, once per batch).
  Variable input_penalty;
  // The data loss of a batch: with mixup, λ·ℓ(y) + (1 − λ)·ℓ(y[π]) over the batch prepare_batch mixed.
  const nn::LossFunction data_loss = [&](const Variable& out, const Variable& y) {
    return mixup ? mixup->loss(base_loss, out, y) : base_loss(out, y);
  };
  if (mixup) {
    options.prepare_batch = [&](Tensor& x, Tensor&) {
      mixup->draw(x.shape()[0], mix_rng);
      mixup->mix_inputs(x);
    };
  }
  if (methods.label_smoothing > 0 || input_leaf || mixup) {
    options.loss = [&](const Variable& out, const Variable& y) {
      Variable targets = y;
      if (methods.label_smoothing > 0) {  // (1 − ε)·y + ε/K
        const double eps = methods.label_smoothing;
        Tensor t = y.value();
        for (std::size_t i = 0; i < t.size(); ++i) t.data()[i] = Scalar((1 - eps) * t.data()[i] + eps / double(classes));
        targets = Variable(t);
      }
      Variable loss = data_loss(out, targets);
      if (!input_leaf) return loss;
      const Variable x = model.last_input();
      if (methods.input_grad > 0) input_penalty = input_gradient_penalty(loss, x, methods.input_grad);
      if (methods.adversarial > 0) {
        // FGSM on the clean batch: x + ε·sign(∂ℓ/∂x), clipped to [−1, 1]; then ½ clean + ½ perturbed.
        const Tensor g = grad({loss}, {x}, {.retain_graph = true})[0].value();
        const Variable perturbed(fgsm_step(x.value(), g, methods.adversarial));
        loss = (loss + data_loss(model(perturbed), targets)) * 0.5;
      }
      return loss;
    };
  } else if (config.blog_gradient) {
    options.loss = blog_cross_entropy<Scalar>;
  }
  // The penalty follows the epoch (start=N): `epoch` is the one being trained, advanced at each
  // epoch's end, where the per-tensor penalties are recorded (one pass over the weights per
  // epoch, not per batch). In mode prox the proximal step runs after each optimizer step.
  const NamedParameters params = model.named_parameters();
  std::size_t epoch = 1;
  const std::uint64_t draw_seed = config.seed * 0x9E3779B97F4A7C15ULL + 5;
  options.penalty = [&](const NamedParameters& p) {
    Variable penalty = reg.penalty_at(p, epoch);
    if (input_penalty.defined()) {
      penalty = penalty + input_penalty;
      input_penalty = Variable();
    }
    return penalty;
  };
  options.after_step = [&] {
    apply_prox(reg, params, optimizer.learning_rate(), epoch);
    if (methods.maxnorm > 0) project_max_norm(params, methods.maxnorm);
  };
  // Early stopping watches the validation accuracy at each epoch's end, before the checkpoint
  // of that epoch is saved (control_run), so the checkpoint holds its state after the epoch.
  std::unique_ptr<nn::EarlyStopping> early;
  bool stop_now = false;
  if (methods.patience > 0) {
    early = std::make_unique<nn::EarlyStopping>(model, methods.patience);
    options.stop_early = [&](const nn::EpochStats&) { return stop_now; };
  }
  options.on_epoch_end = [&](const nn::EpochStats& e) {
    result.tensor_penalties.push_back(reg.active(epoch) ? reg.penalty_terms(params)
                                                        : std::vector<double>(params.size(), 0.0));
    epoch = e.epoch + 1;
    model.reseed(draw_seed + epoch);
    mix_rng.seed(mix_seed + epoch);
    if (!config.quiet) {
      log << fmt::format("[{}] epoch {:>2}/{}  data loss {:.3f}  penalty {:.3f}  loss {:.3f}  test acc {:.4f}  ({:.2f} s train, {:.2f} s eval)\n",
                         result.reg, e.epoch, config.epochs, e.data_loss, e.penalty, e.loss, e.test_accuracy,
                         e.seconds, e.eval_seconds)
          << std::flush;
    }
    if (!early) return;
    nn::EpochStats on_validation = e;
    on_validation.test_accuracy = nn::accuracy(model, validation);
    if (!config.quiet) {
      log << fmt::format("[{}] epoch {:>2} validation acc {:.4f}\n", result.reg, e.epoch, on_validation.test_accuracy);
    }
    stop_now = (*early)(on_validation);
  };
  std::unique_ptr<nn::GradientReducer> reducer;
  if (control.make_reducer) {
    reducer = control.make_reducer(params);
    options.reducer = reducer.get();
    check_data_parallel(methods, int(reducer->shard_count()));  // (session.cpp refuses it before any data is read)
  }
  // Every epoch end saves model, optimizer, rng and the epochs done; resuming restores them,
  // and the penalty's epoch and the draws continue from the epoch after the checkpoint's.
  const auto start_at = [&](std::size_t first) {
    epoch = first;
    model.reseed(draw_seed + epoch);
    mix_rng.seed(mix_seed + epoch);
  };
  start_at(1);
  control_run(control, options, result.tensor_penalties, early.get(), config.quiet ? nullptr : &log,
              [&](std::size_t done) { start_at(done + 1); });
  result.history = fit_run(model, optimizer, *train, &data.test, rng, options);

  result.test_accuracy = result.history.empty() ? 0 : result.history.back().test_accuracy;
  if (early) {
    early->restore_best();
    result.best_epoch = early->best_epoch();
    result.test_accuracy = nn::accuracy(model, data.test);
    if (!config.quiet) {
      log << fmt::format("[{}] early stopping: kept epoch {} (validation acc {:.4f}){}; test acc {:.4f}\n",
                         result.reg, result.best_epoch, early->best_accuracy(),
                         early->stopped() ? ", stopped" : ", all epochs ran", result.test_accuracy);
    }
  }
  result.train_accuracy = nn::accuracy(model, data.train);
  {
    const nn::EvalModeGuard eval(model);
    const auto predict = [&model](const Variable& x) { return model(x); };
    for (const double eps : config.eval_fgsm) {
      result.fgsm_accuracy.push_back(fgsm_accuracy<Scalar>(predict, data.test.inputs, data.test.targets, eps));
    }
  }
  std::vector<double> secs;
  for (const auto& e : result.history) secs.push_back(e.seconds);
  std::sort(secs.begin(), secs.end());
  result.seconds_per_epoch = secs.empty() ? 0 : secs[secs.size() / 2];
  result.sparsity = sparsity_report(model.named_parameters());
  if (!config.quiet) log << "\n[" << result.reg << "] sparsity of the weights\n" << format_sparsity(result.sparsity);
  result.first_layer_weights = model.first_layer_weights();
  // Training's buffers are not needed again: hand them back before the evaluation's own.
  xtgrad::release_cached_buffers();
  evaluate_final_model(model, data, config.seed, result);
  if (!config.quiet) {
    log << fmt::format("[{}] test NLL {:.4f}  ECE {:.4f}  top Hessian eigenvalue {:.4g} ({} iterations, residual {:.2g})  "
                       "dead hidden units {}  weight norm {:.3f}\n",
                       result.reg, result.test_nll, result.ece, result.hessian_top_eigenvalue,
                       result.hessian_iterations, result.hessian_residual, hidden_dead_units(result.weights),
                       weight_norm(result.weights))
        << std::flush;
  }
  // --prune (with --sweep: the accuracy–size path): the model without dead units.
  if (config.prune) {
    result.pruned = std::make_shared<const PruneSummary>(prune_and_time(model, data));
    if (!config.quiet) log << "\n[" << result.reg << "] " << format_prune_summary(*result.pruned) << std::flush;
  }
  return result;
}

void evaluate_final_model(nn::Module& model, const PreparedData& data, std::uint64_t seed, RunResult& result) {
  result.seed = seed;
  const std::vector<std::size_t> labels = nn::argmax_rows(data.test.targets);
  const Tensor log_probs = nn::log_probabilities(model, data.test.inputs);
  result.test_nll = nn::negative_log_likelihood(log_probs, labels);
  const Tensor probs = xt::exp(log_probs);
  result.calibration = nn::calibration_bins(probs, labels, calibration_bin_count);
  result.ece = nn::expected_calibration_error(probs, labels, calibration_bin_count);
  {
    const nn::EvalModeGuard eval(model);
    const std::size_t n = std::min(sharpness_batch, data.train.inputs.shape()[0]);
    const Variable x(Tensor(xt::view(data.train.inputs, xt::range(std::size_t(0), n))));
    const Variable y(Tensor(xt::view(data.train.targets, xt::range(std::size_t(0), n))));
    std::vector<Variable> params;
    for (const auto& p : model.named_parameters()) params.push_back(p.second);
    // f ignores its argument: the model's forward reads the same parameter handles.
    const auto data_loss = [&](const std::vector<Variable>&) { return cross_entropy(model(x), y); };
    PowerIterationOptions options;
    options.iterations = sharpness_iterations;
    options.seed = seed;
    const TopEigen<Scalar> top = hessian_top_eigenvalue(data_loss, params, options);
    result.hessian_top_eigenvalue = top.eigenvalue;
    result.hessian_iterations = top.iterations;
    result.hessian_residual = top.residual;
  }
  result.weights = nn::weight_statistics(model.named_parameters());
}

std::size_t hidden_dead_units(const std::vector<nn::WeightStats>& weights) {
  std::size_t last = weights.size();
  for (std::size_t i = 0; i < weights.size(); ++i) {
    if (weights[i].units > 0) last = i;
  }
  std::size_t dead = 0;
  for (std::size_t i = 0; i < last; ++i) dead += weights[i].dead_units;
  return dead;
}

double weight_norm(const std::vector<nn::WeightStats>& weights) {
  double squares = 0;
  for (const auto& w : weights) {
    if (w.units > 0) squares += w.l2 * w.l2;
  }
  return std::sqrt(squares);
}

}  // namespace mnist_app
