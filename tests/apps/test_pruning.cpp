// --prune in the app (apps/mnist_regularization/pruning.cpp): a trained-looking model with dead
// units, pruned, checked on a test set and timed; its summary.json object; the sweep's columns.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "pruning.hpp"
#include "run_transfer.hpp"
#include "sweep.hpp"
#include "test_util.hpp"

namespace {

using xtgrad::Tensor;

// A small "test set": n rows of 784 in [−1, 1] with one-hot labels of 10 classes.
mnist_app::PreparedData data_of(std::size_t n) {
  xtgrad::Rng rng(3);
  mnist_app::PreparedData d;
  d.test.inputs = xtgrad::rand_uniform<float>({n, 784}, rng, -1.0, 1.0);
  d.test.targets = Tensor::from_shape({n, 10});
  std::fill(d.test.targets.data(), d.test.targets.data() + d.test.targets.size(), 0.0f);
  for (std::size_t i = 0; i < n; ++i) d.test.targets(i, i % 10) = 1;
  d.train = d.test;
  return d;
}

TEST(PruneAndTime, TheMlpWithoutItsDeadUnitsPredictsTheSame) {
  xtgrad::Rng rng(1);
  mnist_app::TwoLayerNet net(784, 30, 10, rng);
  auto w = net.get<xtgrad::nn::Linear>("fc1").weight;
  for (std::size_t u = 0; u < 30; u += 3) std::fill_n(w.mutable_value().data() + u * 784, 784, 0.0f);  // 10 dead units
  const mnist_app::PruneSummary s = mnist_app::prune_and_time(net, data_of(300));
  EXPECT_EQ(s.report.hidden_units_before, 30u);
  EXPECT_EQ(s.report.hidden_units_after, 20u);
  EXPECT_EQ(xtgrad::shape_str(s.state.at("fc2.weight")), "(10, 20)");
  EXPECT_EQ(s.state.size(), 4u);  // fc1 and fc2, weight and bias
  EXPECT_EQ(s.changed_predictions, 0u);
  EXPECT_EQ(s.test_accuracy, s.unpruned_test_accuracy);
  EXPECT_LT(s.max_logit_difference, 1e-5);
  ASSERT_EQ(s.timing.size(), 2u);  // batch 1 and 256 (300 test rows hold one batch of 256)
  EXPECT_EQ(s.timing[1].batch, 256u);
  EXPECT_GT(s.timing[1].pruned_us, 0.0);
  EXPECT_GT(s.timing[1].unpruned_us, 0.0);
  const auto j = mnist_app::prune_json(s);
  EXPECT_EQ(j["hidden_units"]["pruned"], 20);
  EXPECT_EQ(j["parameters"]["pruned"], 20 * 785 + 10 * 21);
  EXPECT_TRUE(j["inference_us_per_image"].contains("batch_1"));
  EXPECT_TRUE(j["inference_us_per_image"].contains("batch_256"));
  // the sweep's columns come from it
  mnist_app::RunResult run;
  run.pruned = std::make_shared<const mnist_app::PruneSummary>(s);
  const auto rows = mnist_app::sweep_rows({{"group_lasso(mode=prox)", 1e-3, "group_lasso(lambd=0.001, mode=prox)"}}, {run});
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].remaining_units, 20u);
  EXPECT_EQ(rows[0].hidden_units, 30u);
  EXPECT_EQ(rows[0].us_pruned, s.timing[1].pruned_us);
}

TEST(PruneAndTime, LeNetKeepsItsSampleShapeAndATestSetSmallerThanABatchIsNotTimedAtIt) {
  xtgrad::Rng rng(2);
  mnist_app::LeNet net(10, rng);
  auto w = net.get<xtgrad::nn::Conv2d>("conv2").weight;
  std::fill_n(w.mutable_value().data(), 6 * 25, 0.0f);  // filter 0 of conv2 dead
  const mnist_app::PruneSummary s = mnist_app::prune_and_time(net, data_of(40));
  EXPECT_EQ(xtgrad::shape_str(s.state.at("fc1.weight")), "(120, 375)");
  EXPECT_EQ(s.changed_predictions, 0u);
  ASSERT_EQ(s.timing.size(), 1u);
  EXPECT_EQ(s.timing[0].batch, 1u);
}

}  // namespace

// --sweep or --seeds over MPI ranks: a run trained on another rank reaches rank 0 through
// encode_runs/decode_runs, its pruning summary and pruned model included (pruned.npz is written
// from the state rank 0 receives).
TEST(PruneAndTime, ARunSentToRankZeroKeepsItsPrunedModel) {
  xtgrad::Rng rng(4);
  mnist_app::TwoLayerNet net(784, 12, 10, rng);
  auto w = net.get<xtgrad::nn::Linear>("fc1").weight;
  std::fill_n(w.mutable_value().data(), 784 * 5, 0.0f);  // units 0..4 dead
  mnist_app::RunResult run;
  run.reg = "group_lasso(lambd=0.001, mode=prox)";
  run.first_layer_weights = w.value();
  run.pruned = std::make_shared<const mnist_app::PruneSummary>(mnist_app::prune_and_time(net, data_of(260)));
  const auto back = mnist_app::decode_runs(mnist_app::encode_runs({{7, run}}));
  ASSERT_EQ(back.size(), 1u);
  EXPECT_EQ(back[0].first, 7u);
  ASSERT_TRUE(back[0].second.pruned);
  const mnist_app::PruneSummary& a = *run.pruned;
  const mnist_app::PruneSummary& b = *back[0].second.pruned;
  EXPECT_EQ(mnist_app::prune_json(b), mnist_app::prune_json(a));
  ASSERT_EQ(b.state.size(), a.state.size());
  for (const auto& [name, t] : a.state) {
    ASSERT_TRUE(b.state.count(name)) << name;
    EXPECT_EQ(xtgrad::shape_str(b.state.at(name)), xtgrad::shape_str(t)) << name;
    EXPECT_TRUE(std::equal(t.data(), t.data() + t.size(), b.state.at(name).data())) << name;
  }
  // a run without --prune stays without
  run.pruned.reset();
  EXPECT_FALSE(mnist_app::decode_runs(mnist_app::encode_runs({{0, run}}))[0].second.pruned);
}
