// Learning-rate schedulers: each schedule's values by hand, per-group base rates, the
// plateau logic, argument checks, and the hook in nn::fit.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "test_util.hpp"
#include "xtgrad/nn/nn.hpp"
#include "xtgrad/nn/schedulers.hpp"

namespace {

using xtgrad::Tensor;
using xtgrad::Variable;
using xtgrad::nn::ParamGroup;
using xtgrad::nn::ParamGroups;
using xtgrad::nn::SGD;
using xtgrad_test::expect_throws_with;

struct Fixture {
  Variable a = Variable::parameter(Tensor({1.0})), b = Variable::parameter(Tensor({1.0}));
  SGD sgd{ParamGroups{ParamGroup({{"a", a}}), ParamGroup({{"b", b}}, 0.01)}, 0.1};
};

// lr of group 0 after each of `epochs` steps, starting with the value at construction.
template <class S>
std::vector<double> trace(S& scheduler, SGD& sgd, int epochs) {
  std::vector<double> out{sgd.group_learning_rate(0)};
  for (int e = 0; e < epochs; ++e) {
    scheduler.step();
    out.push_back(sgd.group_learning_rate(0));
  }
  return out;
}

void expect_near_all(const std::vector<double>& a, const std::vector<double>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i], b[i], 1e-12) << "epoch " << i;
}

TEST(StepLR, DecaysEveryStepSizeEpochsAndScalesEachGroupsOwnRate) {
  Fixture f;
  xtgrad::nn::StepLR s(f.sgd, 2, 0.5);
  expect_near_all(trace(s, f.sgd, 5), {0.1, 0.1, 0.05, 0.05, 0.025, 0.025});
  EXPECT_NEAR(f.sgd.group_learning_rate(1), 0.01 * 0.25, 1e-15);
  EXPECT_EQ(s.epoch(), 5u);
}

TEST(MultiStepLR, DecaysAtEachMilestone) {
  Fixture f;
  xtgrad::nn::MultiStepLR s(f.sgd, {1, 3}, 0.1);
  expect_near_all(trace(s, f.sgd, 4), {0.1, 0.01, 0.01, 0.001, 0.001});
  expect_throws_with<std::invalid_argument>([&] { xtgrad::nn::MultiStepLR(f.sgd, {3, 1}); }, {"MultiStepLR", "increasing"});
}

TEST(ExponentialLR, MultipliesByGammaEveryEpoch) {
  Fixture f;
  xtgrad::nn::ExponentialLR s(f.sgd, 0.9);
  expect_near_all(trace(s, f.sgd, 3), {0.1, 0.09, 0.081, 0.0729});
  expect_throws_with<std::invalid_argument>([&] { xtgrad::nn::ExponentialLR(f.sgd, 1.5); }, {"ExponentialLR", "gamma"});
}

TEST(CosineLR, WarmsUpLinearlyThenFollowsAHalfCosineToTheFloor) {
  Fixture f;
  xtgrad::nn::CosineLR s(f.sgd, 6, 2, 0.1);
  // warm-up (t+1)/3 for t = 0, 1; then 0.1 + 0.9·(1 + cos(π(t−2)/4))/2 for t = 2..6, and the floor.
  std::vector<double> expected{0.1 / 3, 0.2 / 3};
  for (int t = 2; t <= 7; ++t) {
    const double p = std::min(1.0, (t - 2) / 4.0);
    expected.push_back(0.1 * (0.1 + 0.9 * 0.5 * (1 + std::cos(M_PI * p))));
  }
  expect_near_all(trace(s, f.sgd, 7), expected);
  Fixture g;
  xtgrad::nn::CosineLR to_zero(g.sgd, 4);
  for (int e = 0; e < 4; ++e) to_zero.step();
  EXPECT_NEAR(g.sgd.group_learning_rate(0), 0.0, 1e-18);
  expect_throws_with<std::invalid_argument>([&] { xtgrad::nn::CosineLR(f.sgd, 3, 3); }, {"CosineLR", "warmup"});
}

TEST(ReduceLROnPlateau, ReducesAfterPatienceEpochsWithoutImprovementThenCoolsDown) {
  Fixture f;
  xtgrad::nn::ReduceLROnPlateau s(f.sgd, xtgrad::nn::PlateauMode::min, 0.5, /*patience=*/2, 0.0, /*cooldown=*/1);
  const std::vector<double> losses{1.0, 0.9, 0.95, 0.92, 0.91, 0.93, 0.94, 0.95, 0.96, 0.97};
  std::vector<double> lrs;
  for (double l : losses) {
    s.step(l);
    lrs.push_back(f.sgd.group_learning_rate(0));
  }
  // best 0.9 at epoch 2; epochs 3, 4, 5 are bad → reduce after epoch 5; cooldown epoch 6;
  // then epochs 7, 8, 9 bad → reduce after epoch 9.
  expect_near_all(lrs, {0.1, 0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.05, 0.025, 0.025});
  EXPECT_EQ(s.reductions(), 2u);
  EXPECT_NEAR(f.sgd.group_learning_rate(1), 0.0025, 1e-15);
  expect_throws_with<std::invalid_argument>([&] { s.step(std::nan("")); }, {"ReduceLROnPlateau", "metric"});
}

TEST(ReduceLROnPlateau, MaxModeWatchesAnAccuracyAndRespectsTheFloor) {
  Fixture f;
  xtgrad::nn::ReduceLROnPlateau s(f.sgd, xtgrad::nn::PlateauMode::max, 0.1, 0, 0.0, 0, 0.05);
  s.step(0.5);
  s.step(0.6);
  EXPECT_EQ(f.sgd.group_learning_rate(0), 0.1);
  s.step(0.6);  // no gain, patience 0: reduce to max(0.01, 0.05)
  EXPECT_NEAR(f.sgd.group_learning_rate(0), 0.05, 1e-15);
}

TEST(SchedulerInFit, IsSteppedOncePerEpochWithTheChosenMetric) {
  xtgrad::Rng rng(1);
  xtgrad::nn::Sequential net;
  net.add(xtgrad::nn::Linear(2, 2, rng));
  xtgrad::nn::Dataset data{xtgrad::randn({20, 2}, rng), Tensor::from_shape({20})};
  for (std::size_t i = 0; i < 20; ++i) data.targets(i) = double(i % 2);
  SGD sgd(net.named_parameters(), 0.1);
  xtgrad::nn::StepLR step(sgd, 1, 0.5);
  xtgrad::nn::FitOptions options;
  options.epochs = 3;
  options.batch_size = 10;
  options.progress_bar = false;
  std::vector<double> seen;
  options.on_epoch_end = [&](const xtgrad::nn::EpochStats&) { seen.push_back(sgd.learning_rate()); };
  options.scheduler = &step;
  xtgrad::nn::fit(net, sgd, data, nullptr, rng, options);
  expect_near_all(seen, {0.1, 0.05, 0.025});  // each epoch ran with the rate set after the one before
  EXPECT_NEAR(sgd.learning_rate(), 0.0125, 1e-15);

  xtgrad::nn::ReduceLROnPlateau plateau(sgd, xtgrad::nn::PlateauMode::min, 0.5, 0);
  std::vector<double> metrics;
  options.scheduler = &plateau;
  options.scheduler_metric = [&](const xtgrad::nn::EpochStats& s) {
    metrics.push_back(s.loss);
    return 1.0;  // never improves after the first epoch
  };
  options.on_epoch_end = nullptr;
  xtgrad::nn::fit(net, sgd, data, nullptr, rng, options);
  EXPECT_EQ(metrics.size(), 3u);
  EXPECT_EQ(plateau.reductions(), 2u);
}

}  // namespace
