// EarlyStopping: patience counted on the validation accuracy, the best epoch's parameters
// and buffers restored, and the stop through nn::fit.
#include <gtest/gtest.h>

#include <vector>

#include "test_util.hpp"
#include "xtgrad/nn/early_stopping.hpp"
#include "xtgrad/nn/nn.hpp"

namespace {

using xtgrad::Tensor;
using xtgrad::Variable;
using xtgrad::nn::EarlyStopping;
using xtgrad::nn::EpochStats;

EpochStats epoch(std::size_t e, double accuracy) {
  EpochStats s;
  s.epoch = e;
  s.test_accuracy = accuracy;
  return s;
}

TEST(EarlyStopping, StopsAfterPatienceEpochsWithoutGainAndRestoresTheBestValues) {
  xtgrad::Rng rng(1);
  xtgrad::nn::Sequential net;
  net.add(xtgrad::nn::Linear(2, 2, rng)).add(xtgrad::nn::BatchNorm1d(2));
  Variable w = net.at<xtgrad::nn::Linear>(0).weight;
  Variable rm = net.at<xtgrad::nn::BatchNorm1d>(1).running_mean;
  EarlyStopping early(net, 2, 0.01);
  w.mutable_value().fill(1.0);
  EXPECT_FALSE(early(epoch(1, 0.5)));
  w.mutable_value().fill(2.0);
  rm.mutable_value().fill(5.0);
  EXPECT_FALSE(early(epoch(2, 0.7)));  // best
  w.mutable_value().fill(3.0);
  rm.mutable_value().fill(6.0);
  EXPECT_FALSE(early(epoch(3, 0.705)));  // within min_delta: no gain
  w.mutable_value().fill(4.0);
  EXPECT_TRUE(early(epoch(4, 0.69)));  // second epoch without gain: stop
  EXPECT_TRUE(early.stopped());
  EXPECT_EQ(early.best_epoch(), 2u);
  EXPECT_EQ(early.best_accuracy(), 0.7);
  EXPECT_EQ(w.value()(0, 0), 2.0);
  EXPECT_EQ(rm.value()(1), 5.0);
}

TEST(EarlyStopping, NeedsAValidationAccuracy) {
  xtgrad::Rng rng(2);
  xtgrad::nn::Linear fc(1, 1, rng);
  EarlyStopping early(fc, 1);
  xtgrad_test::expect_throws_with<std::invalid_argument>([&] { early(epoch(1, -1)); },
                                                         {"EarlyStopping", "epoch 1", "validation"});
}

TEST(EarlyStopping, EndsFitEarlyWithTheBestEpochsWeights) {
  // An lr so small that the validation accuracy never moves: the first epoch stays the best,
  // and fit stops after 1 + patience epochs with the weights of epoch 1.
  xtgrad::Rng rng(3);
  xtgrad::nn::Linear fc(2, 2, rng);
  xtgrad::nn::Dataset data{xtgrad::randn({40, 2}, rng), Tensor::from_shape({40})};
  for (std::size_t i = 0; i < 40; ++i) data.targets(i) = data.inputs(i, 0) > 0 ? 1.0 : 0.0;
  const auto [train, validation] = xtgrad::nn::split_dataset(data, 0.25, rng);
  xtgrad::nn::SGD sgd(fc.named_parameters(), 1e-9);
  EarlyStopping early(fc, 3);
  Tensor after_first;
  xtgrad::nn::FitOptions options;
  options.epochs = 20;
  options.batch_size = 10;
  options.progress_bar = false;
  options.on_epoch_end = [&](const EpochStats& s) {
    if (s.epoch == 1) after_first = fc.weight.value();
  };
  options.stop_early = [&](const EpochStats& s) { return early(s); };
  const auto history = xtgrad::nn::fit(fc, sgd, train, &validation, rng, options);
  EXPECT_EQ(history.size(), 4u);
  EXPECT_EQ(fc.weight.value(), after_first);
}

}  // namespace

namespace {

// load_state refuses values of another model and leaves the state unchanged.
TEST(EarlyStopping, LoadStateChecksTheModelsShapes) {
  xtgrad::Rng rng(2);
  xtgrad::nn::Linear small(2, 3, rng), large(4, 3, rng);
  EarlyStopping a(small, 2), b(large, 2);
  EXPECT_FALSE(a(epoch(1, 0.5)));
  EXPECT_THROW(b.load_state(a.state()), std::invalid_argument);
  EXPECT_EQ(b.best_epoch(), 0u);
  xtgrad::nn::EarlyStoppingState odd = a.state();
  odd.best_values.clear();  // a best epoch without its values
  EXPECT_THROW(a.load_state(odd), std::invalid_argument);
  EarlyStopping c(small, 2);
  c.load_state(a.state());
  EXPECT_EQ(c.best_epoch(), 1u);
  EXPECT_EQ(c.best_accuracy(), 0.5);
}

}  // namespace
