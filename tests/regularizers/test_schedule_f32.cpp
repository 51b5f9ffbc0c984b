// Penalty schedules: start=N switches a penalty (and its proximal step) on at epoch N,
// 1-based. Checked on the regularizer alone and through nn::fit, wired as the app wires it:
// the penalty and the proximal step both ask the regularizer whether the epoch is active.
// In float, the precision the app trains in (xg::L1, nn::Linear, ... are the float ones).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "test_util.hpp"
#include "xtgrad/nn/nn.hpp"
#include "xtgrad/regularizers/regularizers.hpp"

namespace xg = xtgrad;
using xg::Tensor;
using xg::Variable;

namespace {

xg::NamedParameters one_weight(const Tensor& value) {
  return {{"fc.weight", Variable::parameter(value, "fc.weight")}};
}

// Two blobs at ±(2, 2) in 2-d, one-hot over 2 classes.
xg::nn::Dataset blobs(std::size_t n) {
  xg::Rng rng(7);
  const Tensor noise = xg::randn({n, 2}, rng, 0.0, 0.7);
  xg::nn::Dataset d{xg::nn::zeros({n, 2}), xg::nn::zeros({n, 2})};
  for (std::size_t i = 0; i < n; ++i) {
    const double s = (i % 2) ? 1.0 : -1.0;
    d.inputs(i, 0) = 2 * s + noise(i, 0);
    d.inputs(i, 1) = 2 * s + noise(i, 1);
    d.targets(i, i % 2) = 1.0;
  }
  return d;
}

struct TrainedRun {
  xg::nn::History history;
  std::vector<Tensor> weights_after_epoch;  // the first layer's weight after each epoch
};

// Trains a 2-16-2 tanh net for `epochs` with `reg` (nullptr: none), the app's wiring: the
// penalty is reg.penalty_at(params, epoch), the proximal step runs after each optimizer step
// through apply_prox with the epoch, and the epoch advances in on_epoch_end.
TrainedRun train(const xg::Regularizer* reg, std::size_t epochs) {
  const xg::nn::Dataset data = blobs(64);
  xg::Rng rng(3);
  xg::nn::Sequential net;
  net.add(xg::nn::Linear(2, 16, rng)).add(xg::nn::Tanh()).add(xg::nn::Linear(16, 2, rng));
  const xg::NamedParameters params = net.named_parameters();
  xg::nn::SGD sgd(params, 0.1);
  TrainedRun run;
  xg::nn::FitOptions options;
  options.epochs = epochs;
  options.batch_size = 16;
  options.progress_bar = false;
  std::size_t epoch = options.first_epoch;
  if (reg != nullptr) {
    options.penalty = [&](const xg::NamedParameters& p) { return reg->penalty_at(p, epoch); };
    options.after_step = [&] { xg::apply_prox(*reg, params, sgd.learning_rate(), epoch); };
  }
  options.on_epoch_end = [&](const xg::nn::EpochStats& e) {
    epoch = e.epoch + 1;
    run.weights_after_epoch.push_back(params[0].second.value());
  };
  run.history = xg::nn::fit(net, sgd, data, nullptr, rng, options);
  return run;
}

std::size_t zeros(const Tensor& t) {
  std::size_t n = 0;
  for (std::size_t i = 0; i < t.size(); ++i) n += t.data()[i] == 0;
  return n;
}

}  // namespace

TEST(Schedule, PenaltyIsZeroBeforeStartAndTheFullValueFromStartOn) {
  const auto params = one_weight(Tensor{1.0, -3.0});
  for (const auto& reg : {xg::make_regularizer("l1(lambd=0.5, start=3)"),
                          xg::make_regularizer("l2(lambd=0.5, start=3)"),
                          xg::make_regularizer("l1_l2(l1=0.5, l2=0.5, start=3)")}) {
    const double full = reg->penalty(params).item();
    EXPECT_GT(full, 0) << reg->describe();
    for (std::size_t epoch : {1, 2}) {
      const Variable p = reg->penalty_at(params, epoch);
      EXPECT_EQ(p.item(), 0.0) << reg->describe() << " epoch " << epoch;
      EXPECT_FALSE(p.requires_grad()) << reg->describe() << " epoch " << epoch;
      EXPECT_FALSE(reg->active(epoch));
    }
    for (std::size_t epoch : {3, 4, 100}) {
      EXPECT_EQ(reg->penalty_at(params, epoch).item(), full) << reg->describe() << " epoch " << epoch;
      EXPECT_TRUE(reg->active(epoch));
    }
  }
}

TEST(Schedule, DefaultStartIsTheFirstEpoch) {
  const auto params = one_weight(Tensor{1.0, -3.0});
  const xg::L1 reg(0.5);
  EXPECT_EQ(reg.start(), 1u);
  EXPECT_EQ(reg.penalty_at(params, 1).item(), 2.0);
  EXPECT_EQ(xg::NoPenalty().start(), 1u);
}

TEST(Schedule, StartZeroIsRejected) {
  xtgrad_test::expect_throws_with<std::invalid_argument>([] { xg::L1(0.5, {}, xg::L1Mode::subgradient, 0); },
                                                         {"start", "got 0"});
  xtgrad_test::expect_throws_with<std::invalid_argument>([] { xg::L2(0.5, {}, 0); }, {"start"});
}

TEST(Schedule, DescribeCarriesStartAndReadsBack) {
  const auto reg = xg::make_regularizer(" l1 ( lambd = 1e-4 , start = 10 , mode = prox ) ");
  EXPECT_EQ(reg->describe(), "l1(lambd=1e-4, mode=prox, start=10)");
  EXPECT_EQ(xg::make_regularizer(reg->describe())->describe(), reg->describe());
  EXPECT_EQ(xg::make_regularizer("l2(lambd=0.01, start=1)")->describe(), "l2(lambd=0.01)");
  EXPECT_EQ(xg::make_regularizer("l1_l2(l1=1, l2=2, start=2)")->describe(), "l1_l2(l1=1, l2=2, start=2)");
}

TEST(Schedule, CoverageAndEquivalentsStateTheStart) {
  const auto reg = xg::make_regularizer("l2(lambd=0.01, start=10)");
  const auto rows = reg->coverage(one_weight(Tensor{1.0}));
  EXPECT_EQ(rows.at(0).start, 10u);
  const std::string text = xg::format_equivalents(*reg);
  EXPECT_NE(text.find("on from epoch 10"), std::string::npos) << text;
}

TEST(Schedule, FitBeforeStartEqualsAnUnpenalizedRunThenDiverges) {
  const xg::L1 late(0.05, {}, xg::L1Mode::subgradient, 3);
  const TrainedRun plain = train(nullptr, 4);
  const TrainedRun scheduled = train(&late, 4);
  ASSERT_EQ(scheduled.history.size(), 4u);
  for (std::size_t e = 0; e < 2; ++e) {
    EXPECT_EQ(scheduled.history[e].penalty, 0.0) << "epoch " << e + 1;
    EXPECT_EQ(scheduled.history[e].data_loss, plain.history[e].data_loss) << "epoch " << e + 1;
    xtgrad_test::expect_tensor_near(scheduled.weights_after_epoch[e], plain.weights_after_epoch[e], 0.0);
  }
  for (std::size_t e = 2; e < 4; ++e) EXPECT_GT(scheduled.history[e].penalty, 0.0) << "epoch " << e + 1;
  double moved = 0;
  const Tensor &a = scheduled.weights_after_epoch[2], &b = plain.weights_after_epoch[2];
  for (std::size_t i = 0; i < a.size(); ++i) moved = std::max(moved, std::abs(double(a.data()[i]) - double(b.data()[i])));
  EXPECT_GT(moved, 1e-6) << "from epoch 3 the penalty changes the weights";
}

TEST(Schedule, ProxStepWaitsForStartThenMakesExactZeros) {
  // λ large enough that one epoch of proximal steps zeroes much of the first layer.
  const xg::L1 late(0.05, {}, xg::L1Mode::prox, 3);
  const TrainedRun run = train(&late, 4);
  EXPECT_EQ(zeros(run.weights_after_epoch[0]), 0u);
  EXPECT_EQ(zeros(run.weights_after_epoch[1]), 0u);
  EXPECT_GT(zeros(run.weights_after_epoch[3]), 0u);
  // The reported penalty is 0 before start and λ·Σ|w| (a positive number) after.
  EXPECT_EQ(run.history[1].penalty, 0.0);
  EXPECT_GT(run.history[2].penalty, 0.0);
}
