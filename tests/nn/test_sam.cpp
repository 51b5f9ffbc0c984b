// nn::SAM: one step on a quadratic against the hand computation, around SGD and Adam; a zero
// gradient; the shared learning rate and state; misuse; and training through nn::fit (two
// forward/backward passes of the same batch per step). In double through BasicSAM<double>.
#include <gtest/gtest.h>

#include <cmath>
#include <cstddef>
#include <vector>

#include "test_util.hpp"
#include "xtgrad/core/core.hpp"
#include "xtgrad/nn/layers.hpp"
#include "xtgrad/nn/module.hpp"
#include "xtgrad/nn/optimizers.hpp"
#include "xtgrad/nn/sam.hpp"
#include "xtgrad/nn/train.hpp"
#include "xtgrad/ops/ops.hpp"

namespace {

using Tensor = xtgrad::TensorOf<double>;
using Variable = xtgrad::BasicVariable<double>;
using NamedParameters = xtgrad::NamedParametersOf<double>;
using SAM = xtgrad::nn::BasicSAM<double>;
using SGD = xtgrad::nn::BasicSGD<double>;
using Adam = xtgrad::nn::BasicAdam<double>;
using xtgrad_test::expect_throws_with;

void expect_tensor_near(const Tensor& actual, const Tensor& expected, double tol = 1e-12) {
  ASSERT_EQ(actual.size(), expected.size());
  for (std::size_t i = 0; i < actual.size(); ++i) EXPECT_NEAR(actual.data()[i], expected.data()[i], tol) << "at " << i;
}

// L(w) = ½·Σ aᵢwᵢ² − Σ bᵢwᵢ, a = [1, 3], b = [0.5, −1]: ∇L = a∘w − b.
const Tensor a_coef = {1.0, 3.0};
const Tensor b_coef = {0.5, -1.0};
Variable quadratic(const Variable& w) {
  return xtgrad::sum(Variable(a_coef) * w * w) * 0.5 - xtgrad::sum(Variable(b_coef) * w);
}
Tensor quadratic_grad(const Tensor& w) { return Tensor{a_coef(0) * w(0) - b_coef(0), a_coef(1) * w(1) - b_coef(1)}; }

// One SAM step from w as nn::fit makes it: the gradient at w, then step_with a recompute.
void sam_step(SAM& sam, const Variable& w) {
  sam.zero_grad();
  quadratic(w).backward();
  sam.step_with([&w] { quadratic(w).backward(); });
}

TEST(SAM, OneStepOnAQuadraticMatchesTheHandComputation) {
  Variable w = Variable::parameter(Tensor{1.0, -2.0});
  SGD sgd(NamedParameters{{"w", w}}, 0.1);
  SAM sam(sgd, 0.05);
  sam_step(sam, w);
  // g = a∘w − b = [0.5, −5], ‖g‖ = √25.25 = 5.024937810560445
  // ε = 0.05·g/‖g‖ = [0.004975185951049946, −0.04975185951049946]
  // g' = a∘(w + ε) − b = [0.5049751859510498, −5.149255578531498]
  // w ← w − 0.1·g' (from w, not from w + ε)
  expect_tensor_near(w.value(), Tensor{0.949502481404895, -1.4850744421468502});
}

TEST(SAM, AroundAdamStepsAdamWithTheGradientAtThePerturbedWeights) {
  const double rho = 0.2;
  Variable w = Variable::parameter(Tensor{1.0, -2.0});
  Variable reference = Variable::parameter(Tensor{1.0, -2.0});
  Adam adam(NamedParameters{{"w", w}}, 0.01);
  Adam plain(NamedParameters{{"w", reference}}, 0.01);
  SAM sam(adam, rho);
  for (int step = 0; step < 3; ++step) {
    // the hand version: g at w, ε = ρ·g/‖g‖, Adam fed g' = ∇L(w + ε)
    const Tensor g = quadratic_grad(reference.value());
    const double norm = std::sqrt(g(0) * g(0) + g(1) * g(1));
    const Tensor g_at_eps = quadratic_grad(Tensor{reference.value()(0) + rho * g(0) / norm,
                                                  reference.value()(1) + rho * g(1) / norm});
    plain.zero_grad();
    reference.backward(g_at_eps);
    plain.step();
    sam_step(sam, w);
    expect_tensor_near(w.value(), reference.value());
  }
  // its state is Adam's, advanced once per step
  const auto state = sam.state();
  const auto expected = plain.state();
  ASSERT_EQ(state.size(), expected.size());
  for (std::size_t k = 0; k < state.size(); ++k) {
    EXPECT_EQ(state[k].first, expected[k].first);
    expect_tensor_near(state[k].second, expected[k].second);
  }
}

TEST(SAM, AZeroGradientPerturbsNothingAndDividesByNothing) {
  Variable w = Variable::parameter(Tensor{0.5, -2.0});
  SGD sgd(NamedParameters{{"w", w}}, xtgrad::nn::SGDOptions(0.1).weight_decay(0.5).decoupled_weight_decay(true));
  SAM sam(sgd, 0.05);
  const auto zero_loss = [&w] { return xtgrad::sum(w * Variable(Tensor{0.0, 0.0})); };
  sam.zero_grad();
  zero_loss().backward();
  EXPECT_EQ(sam.first_step(), 0.0);  // ‖g‖ = 0: ε = 0
  expect_tensor_near(w.value(), Tensor{0.5, -2.0}, 0.0);
  sam.zero_grad();
  zero_loss().backward();
  sam.second_step();
  // only the decay acted: (1 − 0.1·0.5)·w, every value finite
  expect_tensor_near(w.value(), Tensor{0.475, -1.9});
}

TEST(SAM, FirstStepReturnsTheGradientNormAndSecondStepRestoresExactly) {
  Variable w = Variable::parameter(Tensor{1.0, -2.0});
  SGD sgd(NamedParameters{{"w", w}}, 0.1);
  SAM sam(sgd, 0.3);
  quadratic(w).backward();
  EXPECT_NEAR(sam.first_step(), std::sqrt(25.25), 1e-12);
  EXPECT_NEAR(w.value()(0), 1.0 + 0.3 * 0.5 / std::sqrt(25.25), 1e-12);
  // with a zero gradient now, the base step moves nothing: w is back at exactly w0
  sam.zero_grad();
  xtgrad::sum(w * Variable(Tensor{0.0, 0.0})).backward();
  sam.second_step();
  expect_tensor_near(w.value(), Tensor{1.0, -2.0}, 0.0);
}

TEST(SAM, StateRoundTripContinuesIdentically) {
  // (a checkpoint saves state() and a resumed run load_state()s it: SAM forwards both to Adam)
  Variable w = Variable::parameter(Tensor{1.0, -2.0});
  Adam adam(NamedParameters{{"w", w}}, 0.01);
  SAM sam(adam, 0.1);
  for (int k = 0; k < 2; ++k) sam_step(sam, w);
  Variable resumed = Variable::parameter(w.value());
  Adam adam2(NamedParameters{{"w", resumed}}, 0.01);
  SAM sam2(adam2, 0.1);
  sam2.load_state(sam.state());
  EXPECT_EQ(adam2.state().size(), 3u);  // exp_avg, exp_avg_sq, step
  for (int k = 0; k < 2; ++k) {
    sam_step(sam, w);
    sam_step(sam2, resumed);
  }
  expect_tensor_near(resumed.value(), w.value(), 0.0);
}

TEST(SAM, LearningRateIsSharedWithTheBaseOptimizer) {
  Variable w = Variable::parameter(Tensor{1.0, -2.0});
  SGD sgd(NamedParameters{{"w", w}}, 0.1);
  SAM sam(sgd, 0.05);
  EXPECT_EQ(sam.learning_rate(), 0.1);
  sam.set_learning_rate(0.02);  // (a scheduler holds the SAM)
  EXPECT_EQ(sgd.learning_rate(), 0.02);
  sgd.set_group_learning_rate(0, 0.03);
  EXPECT_EQ(sam.learning_rate(), 0.03);
  EXPECT_EQ(sam.group_count(), sgd.group_count());
}

TEST(SAM, MisuseIsRefusedNamingSAM) {
  Variable w = Variable::parameter(Tensor{1.0, -2.0});
  SGD sgd(NamedParameters{{"w", w}}, 0.1);
  for (const double rho : {0.0, -0.1, std::nan(""), double(INFINITY)}) {
    expect_throws_with<std::invalid_argument>([&] { SAM bad(sgd, rho); }, {"SAM", "rho must be finite and > 0"});
  }
  SAM sam(sgd, 0.05);
  quadratic(w).backward();
  expect_throws_with<std::logic_error>([&] { sam.step(); }, {"SAM", "step_with"});
  expect_throws_with<std::logic_error>([&] { sam.second_step(); }, {"SAM", "without a first_step"});
}

TEST(SAM, FitRunsTwoPassesOfTheSameBatchPerStepAndLearns) {
  // 2-class blobs at ±(2, 2); a linear model; every loss call records its batch's inputs
  xtgrad::Rng rng(7);
  const std::size_t n = 64;
  const Tensor noise = xtgrad::randn<double>({n, 2}, rng, 0.0, 0.7);
  xtgrad::nn::BasicDataset<double> data{Tensor::from_shape({n, 2}), Tensor::from_shape({n, 2})};
  for (std::size_t i = 0; i < n; ++i) {
    const double s = (i % 2) ? 1.0 : -1.0;
    data.inputs(i, 0) = 2 * s + noise(i, 0);
    data.inputs(i, 1) = 2 * s + noise(i, 1);
    data.targets(i, 0) = s < 0;
    data.targets(i, 1) = s > 0;
  }
  xtgrad::nn::BasicLinear<double> model(2, 2, rng);
  SGD sgd(model.named_parameters(), 0.5);
  SAM sam(sgd, 0.05);
  std::vector<Tensor> seen;
  xtgrad::nn::BasicFitOptions<double> options;
  options.epochs = 3;
  options.batch_size = 16;
  options.progress_bar = false;
  // (the model's output determines nothing about the batch: record the targets, which fit reorders)
  options.loss = [&seen](const Variable& out, const Variable& y) {
    seen.push_back(y.value());
    return xtgrad::cross_entropy(out, y);
  };
  const auto history = xtgrad::nn::fit(model, sam, data, &data, rng, options);
  ASSERT_EQ(seen.size(), 2u * 3u * (n / 16));
  for (std::size_t k = 0; k < seen.size(); k += 2) expect_tensor_near(seen[k + 1], seen[k], 0.0);
  EXPECT_GT(history.back().test_accuracy, 0.95);
}

}  // namespace
