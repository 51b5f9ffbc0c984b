// nn::fit, accuracy and argmax_rows: learning small synthetic tasks, the history, the
// penalty, the callback, divergence, and evaluation without a graph.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "test_util.hpp"
#include "xtgrad/nn/nn.hpp"

namespace {

using xtgrad::Rng;
using xtgrad::Tensor;
using xtgrad::Variable;
using xtgrad::nn::Dataset;
using xtgrad::nn::FitOptions;
using xtgrad::nn::Linear;
using xtgrad::nn::Sequential;
using xtgrad_test::expect_throws_with;
using xtgrad_test::reshaped;

// n points in 2-d, one-hot over 2 classes. xor = false: two blobs at ±(2, 2) (linearly
// separable); xor = true: four blobs at (±2, ±2), class 1 where the signs agree.
Dataset blobs(std::size_t n, bool xor_task, std::uint64_t seed) {
  Rng rng(seed);
  const Tensor noise = xtgrad::randn({n, 2}, rng, 0.0, xor_task ? 0.4 : 0.7);
  Dataset d{xtgrad::nn::zeros({n, 2}), xtgrad::nn::zeros({n, 2})};
  for (std::size_t i = 0; i < n; ++i) {
    const double sx = (i % 2) ? 1.0 : -1.0;
    const double sy = xor_task ? ((i / 2) % 2 ? 1.0 : -1.0) : sx;
    d.inputs(i, 0) = 2 * sx + noise(i, 0);
    d.inputs(i, 1) = 2 * sy + noise(i, 1);
    d.targets(i, sx == sy ? 1 : 0) = 1.0;
  }
  return d;
}

Sequential mlp(std::size_t hidden, Rng& rng) {
  Sequential net;
  net.add(Linear(2, hidden, rng)).add(xtgrad::nn::Tanh()).add(Linear(hidden, 2, rng));
  return net;
}

FitOptions quiet_options(std::size_t epochs, std::size_t batch_size) {
  FitOptions o;
  o.epochs = epochs;
  o.batch_size = batch_size;
  o.progress_bar = false;
  return o;
}

// mlp(hidden) drawn from Rng(rng_seed), with SGD(lr) over its parameters, to fit on
// blobs(n, false, data_seed).
struct BlobsRun {
  Dataset train;
  Rng rng;
  Sequential net;
  xtgrad::nn::SGD sgd;
  BlobsRun(std::size_t n, std::uint64_t data_seed, std::uint64_t rng_seed, std::size_t hidden, double lr)
      : train(blobs(n, false, data_seed)), rng(rng_seed), net(mlp(hidden, rng)), sgd(net.named_parameters(), lr) {}
  xtgrad::nn::History fit(const Dataset* test, const FitOptions& options) {
    return xtgrad::nn::fit(net, sgd, train, test, rng, options);
  }
};

TEST(Fit, SeparableBlobsReachOver95PercentInAFewEpochs) {
  BlobsRun run(200, 1, 2, 8, 0.1);
  const auto history = run.fit(nullptr, quiet_options(5, 16));
  EXPECT_GT(xtgrad::nn::accuracy(run.net, run.train), 0.95);
  EXPECT_LT(history.back().data_loss, history.front().data_loss);
}

TEST(Fit, PrepareBatchChangesEachTrainingBatchBeforeItsForwardPass) {
  // (issue 23: mixup's hook) every batch's targets set to class 0 in place: the loss sees only
  // those, once per batch, and the evaluation's data is untouched
  BlobsRun run(40, 1, 2, 4, 0.5);
  const Dataset original = run.train;
  FitOptions options = quiet_options(10, 16);
  std::size_t prepared = 0, losses = 0;
  options.prepare_batch = [&prepared](Tensor& x, Tensor& y) {
    ++prepared;
    EXPECT_EQ(x.shape()[0], y.shape()[0]);
    for (std::size_t i = 0; i < y.shape()[0]; ++i) {
      y(i, 0) = 1;
      y(i, 1) = 0;
    }
  };
  options.loss = [&losses](const Variable& out, const Variable& y) {
    ++losses;
    for (std::size_t i = 0; i < y.value().shape()[0]; ++i) EXPECT_EQ(y.value()(i, 0), 1.0f);
    return xtgrad::cross_entropy(out, y);
  };
  run.fit(nullptr, options);
  EXPECT_EQ(prepared, 10u * 3u);  // 40 rows in batches of 16: 3 per epoch
  EXPECT_EQ(losses, prepared);
  EXPECT_EQ(xtgrad::nn::argmax_rows(run.train.targets), xtgrad::nn::argmax_rows(original.targets));
  // it learned the prepared targets: every training point is now called class 0
  for (const std::size_t k : xtgrad::nn::argmax_rows(run.net(Variable(run.train.inputs)).value())) EXPECT_EQ(k, 0u);
}

TEST(Fit, XorNeedsTheHiddenLayerAndLearnsIt) {
  const Dataset train = blobs(200, true, 3);
  const Dataset test = blobs(400, true, 4);
  Rng rng(5);
  Sequential net = mlp(16, rng);
  xtgrad::nn::Adam adam(net.named_parameters(), 0.05);
  const auto history = xtgrad::nn::fit(net, adam, train, &test, rng, quiet_options(10, 20));
  EXPECT_GT(xtgrad::nn::accuracy(net, train), 0.95);
  EXPECT_GT(history.back().test_accuracy, 0.95);
  EXPECT_DOUBLE_EQ(history.back().test_accuracy, xtgrad::nn::accuracy(net, test));
}

TEST(Fit, HistoryHasOneTimedRecordPerEpoch) {
  BlobsRun run(200, 6, 8, 4, 0.05);
  const Dataset test = blobs(50, false, 7);
  FitOptions options = quiet_options(3, 32);
  options.first_epoch = 5;  // resuming
  const auto history = run.fit(&test, options);
  ASSERT_EQ(history.size(), 3u);
  for (std::size_t i = 0; i < history.size(); ++i) {
    EXPECT_EQ(history[i].epoch, 5 + i);
    EXPECT_GT(history[i].seconds, 0.0);
    EXPECT_GE(history[i].eval_seconds, 0.0);
    EXPECT_TRUE(std::isfinite(history[i].data_loss));
    EXPECT_EQ(history[i].penalty, 0.0);
    EXPECT_EQ(history[i].loss, history[i].data_loss);
    EXPECT_GE(history[i].test_accuracy, 0.0);
    EXPECT_LE(history[i].test_accuracy, 1.0);
  }
  // Without a test set the accuracy is the −1 marker.
  const auto no_test = run.fit(nullptr, quiet_options(2, 32));
  ASSERT_EQ(no_test.size(), 2u);
  EXPECT_EQ(no_test[0].epoch, 1u);
  EXPECT_EQ(no_test[1].test_accuracy, -1.0);
}

TEST(Fit, PrefetchTrainsBitIdentically) {
  BlobsRun plain(203, 9, 10, 6, 0.1), prefetched(203, 9, 10, 6, 0.1);  // 203: a partial last batch
  FitOptions options = quiet_options(3, 16);
  const auto a = plain.fit(nullptr, options);
  options.prefetch = true;
  const auto b = prefetched.fit(nullptr, options);
  for (std::size_t e = 0; e < a.size(); ++e) EXPECT_EQ(a[e].data_loss, b[e].data_loss);
  const auto pa = plain.net.named_parameters(), pb = prefetched.net.named_parameters();
  for (std::size_t i = 0; i < pa.size(); ++i) EXPECT_EQ(pa[i].second.value(), pb[i].second.value()) << pa[i].first;
}

TEST(Fit, PenaltyIsAddedToTheRecordedLoss) {
  BlobsRun run(64, 9, 10, 4, 0.01);
  FitOptions options = quiet_options(2, 16);
  std::size_t calls = 0;
  options.penalty = [&](const xtgrad::NamedParameters& params) {
    ++calls;
    EXPECT_EQ(params.size(), 4u);
    EXPECT_EQ(params[0].first, "0.weight");
    return Variable::scalar(0.25);
  };
  const auto history = run.fit(nullptr, options);
  EXPECT_EQ(calls, 2u * 4u);  // once per batch
  for (const auto& e : history) {
    EXPECT_NEAR(e.penalty, 0.25, 1e-12);
    EXPECT_NEAR(e.loss, e.data_loss + e.penalty, 1e-12);
    EXPECT_GT(e.data_loss, 0.0);
  }
}

TEST(Fit, PenaltyIsPartOfTheGradient) {
  // A data loss with zero gradient, and penalty Σ w²: one SGD step is w ← w − lr·2w = 0.8·w.
  const Dataset train = blobs(8, false, 11);
  Rng rng(12);
  Linear fc(2, 2, rng);
  const Tensor w0 = fc.weight.value();
  xtgrad::nn::SGD sgd(fc.named_parameters(), 0.1);
  FitOptions options = quiet_options(1, 8);
  options.loss = [](const Variable& out, const Variable&) { return xtgrad::sum(out) * 0.0; };
  options.penalty = [](const xtgrad::NamedParameters& params) {
    return xtgrad::sum(xtgrad::square(params[0].second));
  };
  const auto history = xtgrad::nn::fit(fc, sgd, train, nullptr, rng, options);
  xtgrad_test::expect_tensor_near(fc.weight.value(), Tensor(0.8 * w0), 1e-6);  // float rounding
  double sq = 0;
  for (std::size_t i = 0; i < w0.size(); ++i) sq += double(w0.data()[i]) * double(w0.data()[i]);
  EXPECT_NEAR(history[0].penalty, sq, 1e-5 * sq);
  EXPECT_NEAR(history[0].loss, sq, 1e-5 * sq);
}

TEST(Fit, OnEpochEndIsCalledOncePerEpochWithThatEpochsStats) {
  BlobsRun run(100, 13, 15, 4, 0.05);
  const Dataset test = blobs(20, false, 14);
  FitOptions options = quiet_options(4, 25);
  std::vector<xtgrad::nn::EpochStats> seen;
  options.on_epoch_end = [&](const xtgrad::nn::EpochStats& e) { seen.push_back(e); };
  const auto history = run.fit(&test, options);
  ASSERT_EQ(seen.size(), 4u);
  for (std::size_t i = 0; i < seen.size(); ++i) {
    EXPECT_EQ(seen[i].epoch, i + 1);
    EXPECT_EQ(seen[i].loss, history[i].loss);
    EXPECT_EQ(seen[i].test_accuracy, history[i].test_accuracy);  // called after the evaluation
  }
}

TEST(Fit, ExplodingLearningRateThrowsDivergenceNamingEpochAndBatch) {
  // Least squares with lr = 1e6: every step multiplies the error by ~1e6 until it overflows.
  const Dataset train = blobs(200, false, 16);
  Rng rng(17);
  Linear fc(2, 2, rng);
  xtgrad::nn::SGD sgd(fc.named_parameters(), 1e6);
  FitOptions options = quiet_options(50, 10);
  options.loss = [](const Variable& out, const Variable& y) { return xtgrad::mse(out, y); };
  try {
    xtgrad::nn::fit(fc, sgd, train, nullptr, rng, options);
    FAIL() << "did not diverge";
  } catch (const xtgrad::DivergenceError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("epoch "), std::string::npos) << message;
    EXPECT_NE(message.find("batch "), std::string::npos) << message;
  }
}

TEST(Fit, NanLossThrowsDivergenceAtThatEpochAndBatch) {
  BlobsRun run(40, 18, 19, 4, 0.01);  // 4 batches of 10 per epoch
  FitOptions options = quiet_options(5, 10);
  std::size_t calls = 0;
  std::size_t epochs_ended = 0;
  options.on_epoch_end = [&](const xtgrad::nn::EpochStats&) { ++epochs_ended; };
  options.loss = [&](const Variable& out, const Variable& y) {
    const Variable l = xtgrad::cross_entropy(out, y);
    // The 7th batch overall: epoch 2, batch 3.
    return ++calls == 7 ? l * std::numeric_limits<double>::quiet_NaN() : l;
  };
  expect_throws_with<xtgrad::DivergenceError>([&] { run.fit(nullptr, options); }, {"epoch 2", "batch 3"});
  EXPECT_EQ(epochs_ended, 1u);
  // The bad step was not applied: every parameter is still finite.
  for (const auto& [name, p] : run.net.named_parameters()) xtgrad_test::expect_all_finite(p.value());
}

TEST(Fit, NanPenaltyAlsoDiverges) {
  BlobsRun run(20, 20, 21, 4, 0.01);
  FitOptions options = quiet_options(1, 10);
  options.penalty = [](const xtgrad::NamedParameters&) {
    return Variable::scalar(std::numeric_limits<xtgrad::Scalar>::infinity());
  };
  expect_throws_with<xtgrad::DivergenceError>([&] { run.fit(nullptr, options); }, {"epoch 1", "batch 1"});
}

TEST(Fit, AnEpochRangeThatOverflowsIsRefusedBeforeTraining) {
  // first_epoch + epochs wrapped around to 1: no epoch ran and the history came back empty.
  BlobsRun run(20, 30, 31, 4, 0.01);
  FitOptions options = quiet_options(std::numeric_limits<std::size_t>::max(), 10);
  options.first_epoch = 2;
  std::size_t epochs_ended = 0;
  options.on_epoch_end = [&](const xtgrad::nn::EpochStats&) { ++epochs_ended; };
  expect_throws_with<std::invalid_argument>([&] { run.fit(nullptr, options); }, {"fit", "epochs"});
  EXPECT_EQ(epochs_ended, 0u);
  options.first_epoch = 0;  // epochs are 1-based
  options.epochs = 1;
  expect_throws_with<std::invalid_argument>([&] { run.fit(nullptr, options); }, {"first_epoch"});
}

// Every 10th sample of the run's blobs given the other class: no weights classify them all,
// so once the logits grow huge the misclassified samples' cross-entropy is huge too.
void flip_every_tenth_label(BlobsRun& run) {
  Tensor& y = run.train.targets;
  for (std::size_t i = 0; i < y.shape()[0]; i += 10) std::swap(y(i, 0), y(i, 1));
}

TEST(Fit, AFiniteLossFarAboveItsStartDivergesWhenTheRuleIsOn) {
  // Cross-entropy stays finite however large the logits: with lr = 1e8 and labels no model fits
  // exactly, the loss climbs by orders of magnitude without ever overflowing, which only the
  // ratio rule catches.
  FitOptions options = quiet_options(3, 10);
  {
    BlobsRun run(200, 32, 33, 4, 1e8);
    flip_every_tenth_label(run);
    EXPECT_NO_THROW(run.fit(nullptr, options));  // off by default: a finite loss is not checked
  }
  BlobsRun run(200, 32, 33, 4, 1e8);
  flip_every_tenth_label(run);
  options.divergence_factor = 10;
  options.divergence_floor = std::log(2.0);
  std::size_t epochs_ended = 0;
  options.on_epoch_end = [&](const xtgrad::nn::EpochStats&) { ++epochs_ended; };
  expect_throws_with<xtgrad::DivergenceError>([&] { run.fit(nullptr, options); },
                                              {"epoch 1", "mean data loss", "10 times"});
  EXPECT_EQ(epochs_ended, 0u);  // the diverged epoch is never reported (nor checkpointed)
}

TEST(Fit, TheRuleLeavesAHealthyRunAlone) {
  BlobsRun run(200, 34, 35, 8, 0.1);
  FitOptions options = quiet_options(5, 10);
  options.divergence_factor = 10;
  options.divergence_floor = std::log(2.0);
  EXPECT_EQ(run.fit(nullptr, options).size(), 5u);
}

TEST(Fit, ANonFiniteParameterAfterAnEpochDiverges) {
  BlobsRun run(20, 36, 37, 4, 0.01);  // 2 batches of 10
  FitOptions options = quiet_options(2, 10);
  std::size_t steps = 0;
  options.after_step = [&] {
    if (++steps == 2) run.net.named_parameters()[0].second.mutable_value().data()[0] = std::nanf("");
  };
  expect_throws_with<xtgrad::DivergenceError>([&] { run.fit(nullptr, options); }, {"epoch 1", "parameter"});
}

TEST(Fit, RejectsZeroBatchSizeAndMismatchedRows) {
  BlobsRun run(20, 23, 22, 4, 0.01);
  EXPECT_THROW(run.fit(nullptr, quiet_options(1, 0)), std::invalid_argument);
  run.train.targets = xtgrad::nn::zeros({19, 2});
  expect_throws_with<std::invalid_argument>([&] { run.fit(nullptr, quiet_options(1, 4)); }, {"(20, 2)", "(19, 2)"});
}

TEST(ArgmaxRows, TiesGoToTheFirstIndex) {
  const Tensor x = reshaped(Tensor({1, 1, 0, 0, 2, 2, 3, 3, 3, -1, -5, -1, 0, 0, 7}), {5, 3});
  EXPECT_EQ(xtgrad::nn::argmax_rows(x), (std::vector<std::size_t>{0, 1, 0, 0, 2}));
}

TEST(ArgmaxRows, RejectsOtherRanks) {
  EXPECT_THROW(xtgrad::nn::argmax_rows(Tensor({1.0, 2.0})), std::invalid_argument);
}

// Identity model that records whether it was run with grad mode on and what it returned.
struct Spy : xtgrad::nn::Module {
  Variable w;
  std::vector<bool> grad_enabled;
  std::vector<Variable> outputs;
  Spy() { w = register_parameter("w", Tensor({1.0, 1.0, 1.0})); }
  Variable forward(const Variable& x) override {
    grad_enabled.push_back(xtgrad::is_grad_enabled());
    outputs.push_back(x * w);
    return outputs.back();
  }
};

TEST(Accuracy, CountsArgmaxMatchesAcrossPartialBatches) {
  Spy spy;
  Dataset d;
  d.inputs = reshaped(Tensor({0.9, 0.1, 0.0,  // → 0
                              0.2, 0.5, 0.3,  // → 1
                              0.4, 0.4, 0.2,  // tie → 0
                              0.0, 0.0, 1.0,  // → 2
                              0.3, 0.6, 0.1}),  // → 1
                     {5, 3});
  d.targets = reshaped(Tensor({1, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 1, 1, 0, 0}), {5, 3});
  EXPECT_DOUBLE_EQ(xtgrad::nn::accuracy(spy, d, 2), 3.0 / 5.0);
  EXPECT_EQ(spy.outputs.size(), 3u);  // batches of 2, 2 and 1 rows
}

TEST(Accuracy, RecordsNoGraph) {
  Spy spy;
  Dataset d{reshaped(Tensor({1, 2, 3, 3, 2, 1}), {2, 3}), reshaped(Tensor({0, 0, 1, 1, 0, 0}), {2, 3})};
  ASSERT_TRUE(xtgrad::is_grad_enabled());
  EXPECT_DOUBLE_EQ(xtgrad::nn::accuracy(spy, d), 1.0);
  ASSERT_EQ(spy.grad_enabled.size(), 1u);
  EXPECT_FALSE(spy.grad_enabled[0]);
  EXPECT_FALSE(spy.outputs[0].requires_grad());
  EXPECT_TRUE(spy.outputs[0].node()->parents.empty());
  EXPECT_FALSE(spy.outputs[0].node()->backward_fn);
  EXPECT_TRUE(xtgrad::is_grad_enabled());  // restored afterwards
  // With grad mode on, the same forward does record (the spy can tell).
  spy(Variable(d.inputs));
  EXPECT_TRUE(spy.outputs.back().requires_grad());
}

}  // namespace

// ---- train/eval mode, class-index targets --------------------------------------------------

namespace {

// A linear layer that records the mode of every forward call, with and without grad mode.
struct ModeSpy : xtgrad::nn::Module {
  Linear fc;
  std::vector<std::pair<bool, bool>> calls;  // (is_training, grad enabled)
  explicit ModeSpy(Rng& rng) : fc(register_module("fc", Linear(2, 2, rng))) {}
  Variable forward(const Variable& x) override {
    calls.emplace_back(fc.is_training(), xtgrad::is_grad_enabled());
    return fc(x);
  }
};

TEST(FitMode, TrainsInTrainingModeEvaluatesInEvalModeAndRestoresTheMode) {
  const Dataset train = blobs(40, false, 30), test = blobs(10, false, 31);
  Rng rng(32);
  ModeSpy spy(rng);
  spy.eval();  // the caller's mode, to be restored
  xtgrad::nn::SGD sgd(spy.named_parameters(), 0.1);
  xtgrad::nn::fit(spy, sgd, train, &test, rng, quiet_options(2, 20));
  ASSERT_EQ(spy.calls.size(), 2u * (2 + 1));  // per epoch: 2 training batches, 1 evaluation batch
  for (const auto& [training, grad] : spy.calls) EXPECT_EQ(training, grad);
  EXPECT_FALSE(spy.is_training());
  EXPECT_FALSE(spy.fc.is_training());
  spy.train();
  spy.calls.clear();
  xtgrad::nn::fit(spy, sgd, train, &test, rng, quiet_options(1, 20));
  EXPECT_TRUE(spy.fc.is_training());
}

TEST(Accuracy, EvaluatesInEvalModeAndRestoresEachModule) {
  Rng rng(33);
  ModeSpy spy(rng);
  const Dataset d = blobs(6, false, 34);
  xtgrad::nn::accuracy(spy, d);
  ASSERT_EQ(spy.calls.size(), 1u);
  EXPECT_FALSE(spy.calls[0].first);
  EXPECT_TRUE(spy.is_training());
}

// The one-hot data set as class indices (n).
Dataset as_indices(const Dataset& d) {
  Dataset out{d.inputs, Tensor::from_shape({d.targets.shape()[0]})};
  const auto classes = xtgrad::nn::argmax_rows(d.targets);
  for (std::size_t i = 0; i < classes.size(); ++i) out.targets(i) = double(classes[i]);
  return out;
}

TEST(FitIndexTargets, TrainExactlyAsOneHotTargets) {
  BlobsRun one_hot(100, 40, 41, 4, 0.1), indices(100, 40, 41, 4, 0.1);
  indices.train = as_indices(one_hot.train);
  const Dataset test = blobs(30, false, 42);
  const auto a = one_hot.fit(&test, quiet_options(3, 16));
  const Dataset test_indices = as_indices(test);
  const auto b = indices.fit(&test_indices, quiet_options(3, 16));
  for (std::size_t e = 0; e < a.size(); ++e) {
    EXPECT_NEAR(a[e].data_loss, b[e].data_loss, 1e-12) << "epoch " << e + 1;
    EXPECT_EQ(a[e].test_accuracy, b[e].test_accuracy) << "epoch " << e + 1;
  }
}

TEST(FitIndexTargets, NonIntegerOrNegativeIndicesAreRejected) {
  BlobsRun run(20, 43, 44, 4, 0.1);
  run.train = as_indices(run.train);
  run.train.targets(3) = 0.5;
  expect_throws_with<std::invalid_argument>([&] { run.fit(nullptr, quiet_options(1, 20)); }, {"row 3", "0.5"});
  run.train.targets(3) = -1;
  expect_throws_with<std::invalid_argument>([&] { xtgrad::nn::accuracy(run.net, run.train); }, {"row 3"});
  run.train.targets(3) = 7;  // out of range for 2 classes: cross_entropy says so
  expect_throws_with<std::invalid_argument>([&] { run.fit(nullptr, quiet_options(1, 20)); }, {"label 7"});
}

}  // namespace
