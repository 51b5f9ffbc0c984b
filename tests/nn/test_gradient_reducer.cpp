// nn::fit with a GradientReducer (FitOptions::reducer), without MPI: when it is called, what
// it sees, that its loss decides divergence, and that a shard of a batch is what is trained.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "xtgrad/core/defaults.hpp"  // test_models.hpp names xtgrad::Variable
#include "test_models.hpp"
#include "test_util.hpp"
#include "xtgrad/nn/nn.hpp"

namespace {

using xtgrad::Rng;
using xtgrad::Tensor;
using xtgrad::nn::Dataset;
using xtgrad::nn::FitOptions;

// Shard `index` of `count`; records each step; finish_step scales the gradients by `scale`
// and returns the local loss times `loss_factor`.
struct RecordingReducer : xtgrad::nn::GradientReducer {
  std::size_t index = 0, count = 1;
  double scale = 1, loss_factor = 1;
  xtgrad::NamedParameters params;
  std::vector<std::pair<std::size_t, std::size_t>> begun;  // (rows, batch_rows)
  std::size_t finished = 0;
  bool grads_present_at_finish = true;
  std::size_t shard_index() const override { return index; }
  std::size_t shard_count() const override { return count; }
  void begin_step(std::size_t rows, std::size_t batch_rows) override { begun.emplace_back(rows, batch_rows); }
  double finish_step(double local_loss) override {
    ++finished;
    for (auto& [name, p] : params) {
      if (!p.has_grad()) {
        grads_present_at_finish = false;
        continue;
      }
      for (auto& g : p.mutable_grad()) g *= xtgrad::Scalar(scale);
    }
    return local_loss * loss_factor;
  }
  double sum(double value) override { return value; }
};

Dataset task(std::size_t n) {
  Rng rng(3);
  Dataset d{xtgrad::rand_uniform({n, 4}, rng, -1, 1), xtgrad::nn::zeros({n, 2})};
  for (std::size_t i = 0; i < n; ++i) d.targets(i, d.inputs(i, 0) > 0 ? 1 : 0) = 1;
  return d;
}

FitOptions options(std::size_t batch) {
  FitOptions o;
  o.epochs = 1;
  o.batch_size = batch;
  o.progress_bar = false;
  return o;
}

TEST(GradientReducer, CalledAroundEveryBackwardWithTheShardsRows) {
  const Dataset data = task(50);  // batches of 16: 16, 16, 16, 2; shard 2 of 3: 5, 5, 5, 0 rows
  Rng rng(1);
  xtgrad_test::SigmoidNet net(4, 3, 2, rng);
  xtgrad::nn::SGD sgd(net.named_parameters(), 0.1);
  RecordingReducer reducer;
  reducer.index = 2;
  reducer.count = 3;
  reducer.params = net.named_parameters();
  FitOptions o = options(16);
  o.reducer = &reducer;
  xtgrad::nn::fit(net, sgd, data, nullptr, rng, o);
  const std::vector<std::pair<std::size_t, std::size_t>> expected = {{5, 16}, {5, 16}, {5, 16}, {0, 2}};
  EXPECT_EQ(reducer.begun, expected);
  EXPECT_EQ(reducer.finished, 4u);
  // The last step had no rows here: no backward, so no gradient yet when finish_step ran.
  EXPECT_FALSE(reducer.grads_present_at_finish);
}

TEST(GradientReducer, ItsGradientsAreWhatTheOptimizerApplies) {
  // Halving the gradients with lr 0.2 is lr 0.1 without a reducer, step for step.
  const Dataset data = task(64);
  Rng rng_a(1), rng_b(1);
  xtgrad_test::SigmoidNet a(4, 3, 2, rng_a), b(4, 3, 2, rng_b);
  xtgrad::nn::SGD sgd_a(a.named_parameters(), 0.1), sgd_b(b.named_parameters(), 0.2);
  RecordingReducer halve;
  halve.scale = 0.5;
  halve.params = b.named_parameters();
  xtgrad::nn::fit(a, sgd_a, data, nullptr, rng_a, options(16));
  FitOptions o = options(16);
  o.reducer = &halve;
  const Dataset test = task(37);
  const auto history = xtgrad::nn::fit(b, sgd_b, data, &test, rng_b, o);
  const auto pa = a.named_parameters(), pb = b.named_parameters();
  for (std::size_t k = 0; k < pa.size(); ++k) xtgrad_test::expect_tensor_near(pb[k].second.value(), pa[k].second.value(), 1e-12);
  // The test accuracy through the reducer's sum (one shard: the whole test set) is accuracy()'s.
  EXPECT_DOUBLE_EQ(history.back().test_accuracy, xtgrad::nn::accuracy(b, test));
}

TEST(GradientReducer, ItsLossDecidesDivergence) {
  // Every process must stop at the same batch: the reduced loss, not the local one, is checked.
  const Dataset data = task(32);
  Rng rng(1);
  xtgrad_test::SigmoidNet net(4, 3, 2, rng);
  xtgrad::nn::SGD sgd(net.named_parameters(), 0.1);
  RecordingReducer reducer;
  reducer.loss_factor = std::numeric_limits<double>::quiet_NaN();
  reducer.params = net.named_parameters();
  FitOptions o = options(16);
  o.reducer = &reducer;
  xtgrad_test::expect_throws_with<xtgrad::DivergenceError>([&] { xtgrad::nn::fit(net, sgd, data, nullptr, rng, o); },
                                                           {"epoch 1, batch 1"});
}

}  // namespace
