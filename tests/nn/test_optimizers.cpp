// Optimizers: each against hand-computed steps, state checkpoints, validation, allocation-free
// steps and a small convergence run, in double through the BasicX<double> types (exact numbers
// to 1e-12); at the end the float optimizers users train with follow the double ones.
#include <gtest/gtest.h>

#include <cmath>
#include <cstddef>
#include <cstdlib>
#include <functional>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "test_util.hpp"
#include "xtgrad/core/core.hpp"
#include "xtgrad/nn/optimizers.hpp"
#include "xtgrad/ops/ops.hpp"

#include "malloc_counter.hpp"  // counts this program's heap allocations

namespace {

using NamedParameters = xtgrad::NamedParametersOf<double>;
using Tensor = xtgrad::TensorOf<double>;
using Variable = xtgrad::BasicVariable<double>;
using Adam = xtgrad::nn::BasicAdam<double>;
using AdamW = xtgrad::nn::BasicAdamW<double>;
using Optimizer = xtgrad::nn::BasicOptimizer<double>;
using OptimizerState = xtgrad::nn::OptimizerStateOf<double>;
using RMSProp = xtgrad::nn::BasicRMSProp<double>;
using SGD = xtgrad::nn::BasicSGD<double>;
using xtgrad_test::expect_throws_with;

// Same shape, and every element within `tol` of the expected one (in double).
void expect_tensor_near(const Tensor& actual, const Tensor& expected, double tol = 1e-12) {
  ASSERT_EQ(xtgrad::shape_str(xtgrad::Shape(actual.shape().begin(), actual.shape().end())),
            xtgrad::shape_str(xtgrad::Shape(expected.shape().begin(), expected.shape().end())));
  for (std::size_t i = 0; i < actual.size(); ++i) {
    EXPECT_NEAR(actual.data()[i], expected.data()[i], tol) << "at flat index " << i;
  }
}

// The two gradients every hand-computed test feeds: g1 on step 1, g2 on step 2, w0 = [1, −2].
const Tensor w0 = {1.0, -2.0};
const Tensor g1 = {0.5, -1.0};
const Tensor g2 = {0.25, 2.0};

// Gives leaf `w` exactly the gradient `g` through the engine (a fresh backward).
void set_grad(const Variable& w, const Tensor& g) {
  Variable handle = w;
  handle.zero_grad();
  w.backward(g);
}

NamedParameters one_param(const Variable& w) { return {{"w", w}}; }

// Runs two steps with gradients g1, g2 and returns w after each.
std::vector<Tensor> two_steps(Optimizer& opt, const Variable& w) {
  std::vector<Tensor> out;
  set_grad(w, g1);
  opt.step();
  out.push_back(w.value());
  set_grad(w, g2);
  opt.step();
  out.push_back(w.value());
  return out;
}

// Two steps (g1, g2) of an Opt(one_param(w), args...) from w = w0: w after each, and the state.
struct TwoSteps {
  std::vector<Tensor> ws;
  OptimizerState state;
};
template <class Opt, class... Args>
TwoSteps run_two_steps(Args... args) {
  Variable w = Variable::parameter(w0);
  Opt opt(one_param(w), args...);
  TwoSteps r;
  r.ws = two_steps(opt, w);
  r.state = opt.state();
  return r;
}

// ---- SGD -----------------------------------------------------------------------------------

TEST(SGD, PlainTwoStepsMatchHandComputed) {
  const TwoSteps r = run_two_steps<SGD>(0.1);
  expect_tensor_near(r.ws[0], Tensor{0.95, -1.9});   // w0 − 0.1·g1
  expect_tensor_near(r.ws[1], Tensor{0.925, -2.1});  // w1 − 0.1·g2
  EXPECT_TRUE(r.state.empty());                      // no momentum: no state
}

TEST(SGD, MomentumFirstStepIsPlainGradientThenAccumulates) {
  const TwoSteps r = run_two_steps<SGD>(0.1, 0.9);
  // v1 = g1 = [0.5, −1] (not (1−μ)·g1); w1 = w0 − 0.1·v1
  expect_tensor_near(r.ws[0], Tensor{0.95, -1.9});
  // v2 = 0.9·v1 + g2 = [0.7, 1.1]; w2 = w1 − 0.1·v2
  expect_tensor_near(r.ws[1], Tensor{0.88, -2.01});
  const OptimizerState& st = r.state;
  ASSERT_EQ(st.size(), 1u);
  EXPECT_EQ(st[0].first, "w.momentum");
  expect_tensor_near(st[0].second, Tensor{0.7, 1.1});
}

TEST(SGD, NesterovTwoStepsMatchHandComputed) {
  const TwoSteps r = run_two_steps<SGD>(0.1, 0.9, /*nesterov=*/true);
  // v1 = g1; d1 = g1 + 0.9·v1 = [0.95, −1.9]; w1 = w0 − 0.1·d1
  expect_tensor_near(r.ws[0], Tensor{0.905, -1.81});
  // v2 = [0.7, 1.1]; d2 = g2 + 0.9·v2 = [0.88, 2.99]; w2 = w1 − 0.1·d2
  expect_tensor_near(r.ws[1], Tensor{0.817, -2.109});
}

TEST(SGD, WeightDecayWithMomentumTwoSteps) {
  const TwoSteps r = run_two_steps<SGD>(0.1, 0.9, false, /*weight_decay=*/0.1);
  // g1' = g1 + 0.1·w0 = [0.6, −1.2] = v1; w1 = w0 − 0.1·v1
  expect_tensor_near(r.ws[0], Tensor{0.94, -1.88});
  // g2' = g2 + 0.1·w1 = [0.344, 1.812]; v2 = 0.9·v1 + g2' = [0.884, 0.732]; w2 = w1 − 0.1·v2
  expect_tensor_near(r.ws[1], Tensor{0.8516, -1.9532});
}

// ---- Adam, AdamW ---------------------------------------------------------------------------

TEST(Adam, TwoStepsMatchHandComputed) {
  const TwoSteps r = run_two_steps<Adam>(0.1);  // β₁ 0.9, β₂ 0.999, ε 1e-8
  // m1 = [0.05, −0.1], v1 = [0.00025, 0.001]; m̂ = g1, √v̂ = |g1|: w1 = w0 − 0.1·g1/(|g1| + 1e-8)
  expect_tensor_near(r.ws[0], Tensor{1.0 - 0.1 * 0.5 / (0.5 + 1e-8), -2.0 + 0.1 * 1.0 / (1.0 + 1e-8)});
  expect_tensor_near(r.ws[0], Tensor{0.90000000199999997, -1.900000001});
  // m2 = [0.07, 0.11], v2 = [0.00031225, 0.004999], 1−β₁² = 0.19, 1−β₂² = 0.001999:
  // w2 = w1 − 0.1·(m2/0.19)/(√(v2/0.001999) + 1e-8)
  expect_tensor_near(r.ws[1], Tensor{0.80678204047746171, -1.9366103534720751});
  const OptimizerState& st = r.state;
  ASSERT_EQ(st.size(), 3u);
  EXPECT_EQ(st[0].first, "w.exp_avg");
  EXPECT_EQ(st[1].first, "w.exp_avg_sq");
  EXPECT_EQ(st[2].first, "w.step");
  expect_tensor_near(st[0].second, Tensor{0.07, 0.11});
  expect_tensor_near(st[1].second, Tensor{0.00031225, 0.004999});
  EXPECT_EQ(st[2].second.dimension(), 0u);
  EXPECT_EQ(st[2].second(), 2.0);
}

TEST(Adam, L2WeightDecayIsFoldedIntoTheGradient) {
  Variable w = Variable::parameter(w0);
  Adam opt(one_param(w), 0.1, 0.9, 0.999, 1e-8, /*weight_decay=*/0.1);
  set_grad(w, g1);
  opt.step();
  // g' = g1 + 0.1·w0 = [0.6, −1.2]; first step: w1 = w0 − 0.1·g'/(|g'| + 1e-8)
  expect_tensor_near(w.value(), Tensor{1.0 - 0.1 * 0.6 / (0.6 + 1e-8), -2.0 + 0.1 * 1.2 / (1.2 + 1e-8)});
  expect_tensor_near(w.value(), Tensor{0.9000000016666666, -1.9000000008333333});
}

TEST(AdamW, TwoStepsMatchHandComputed) {
  const TwoSteps r = run_two_steps<AdamW>(0.1, 0.9, 0.999, 1e-8, /*weight_decay=*/0.1);
  // w ← (1 − 0.1·0.1)·w0 = [0.99, −1.98], then the Adam step of g1 (unchanged by the decay)
  expect_tensor_near(r.ws[0], Tensor{0.99 - 0.1 * 0.5 / (0.5 + 1e-8), -1.98 + 0.1 * 1.0 / (1.0 + 1e-8)});
  expect_tensor_near(r.ws[0], Tensor{0.89000000199999996, -1.880000001});
  // w ← 0.99·w1, then the same second Adam step as without decay (m2, v2 as in Adam's test)
  expect_tensor_near(r.ws[1], Tensor{0.78788204045746169, -1.8978103534620752});
}

TEST(AdamW, DiffersFromAdamWithTheSameWeightDecay) {
  const Tensor a = run_two_steps<Adam>(0.1, 0.9, 0.999, 1e-8, 0.1).ws[1];
  const Tensor b = run_two_steps<AdamW>(0.1, 0.9, 0.999, 1e-8, 0.1).ws[1];
  for (std::size_t i = 0; i < 2; ++i) EXPECT_GT(std::abs(a(i) - b(i)), 1e-3) << "at " << i;
}

TEST(AdamW, EqualsAdamWithoutWeightDecay) {
  const Tensor a = run_two_steps<Adam>(0.1, 0.9, 0.999, 1e-8, 0.0).ws[1];
  const Tensor b = run_two_steps<AdamW>(0.1, 0.9, 0.999, 1e-8, 0.0).ws[1];
  expect_tensor_near(b, a, 0.0);
}

TEST(AdamW, DefaultWeightDecayIsOneHundredth) {
  const Tensor defaults = run_two_steps<AdamW>().ws[1];
  const Tensor explicit_wd = run_two_steps<AdamW>(1e-3, 0.9, 0.999, 1e-8, 1e-2).ws[1];
  expect_tensor_near(defaults, explicit_wd, 0.0);
}

TEST(AdamW, WeightDecayByNameEqualsThePositionalForm) {
  // issue 22 §3.4: AdamWOptions(lr).weight_decay(wd) instead of a positional argument after betas and eps
  const Tensor positional = run_two_steps<AdamW>(0.1, 0.9, 0.999, 1e-8, 0.1).ws[1];
  const Tensor named = run_two_steps<AdamW>(xtgrad::nn::AdamWOptions(0.1).weight_decay(0.1)).ws[1];
  expect_tensor_near(named, positional, 0.0);
  const Tensor defaults = run_two_steps<AdamW>(xtgrad::nn::AdamWOptions()).ws[1];
  expect_tensor_near(defaults, run_two_steps<AdamW>().ws[1], 0.0);
  const Tensor adam = run_two_steps<Adam>(xtgrad::nn::AdamOptions(0.1).betas(0.8, 0.99).eps(1e-6).weight_decay(0.1)).ws[1];
  expect_tensor_near(adam, run_two_steps<Adam>(0.1, 0.8, 0.99, 1e-6, 0.1).ws[1], 0.0);
  const xtgrad::nn::AdamWOptions o = xtgrad::nn::AdamWOptions().lr(0.5).weight_decay(0.2);
  EXPECT_EQ(o.lr(), 0.5);
  EXPECT_EQ(o.weight_decay(), 0.2);
  EXPECT_EQ(xtgrad::nn::AdamWOptions().weight_decay(), 1e-2);  // PyTorch's default
  EXPECT_EQ(xtgrad::nn::AdamOptions().weight_decay(), 0.0);
}

// ---- Decoupled weight decay (issue 23): SGD and Adam ---------------------------------------

// n steps of `opt` on loss(w) = c·w + ½·l2·‖w‖² from w0 (c = g1, so ∇ = g1 + l2·w): w after them.
// The penalty is a node of the loss, as the regularizers add it (d/dw ½λ‖w‖² = λw).
Tensor steps_on_linear_loss(Optimizer& opt, const Variable& w, double l2, int n) {
  for (int k = 0; k < n; ++k) {
    Variable loss = xtgrad::sum(w * Variable(g1));
    if (l2 > 0) loss = loss + xtgrad::sum(w * w) * (0.5 * l2);
    opt.zero_grad();
    loss.backward();
    opt.step();
  }
  return w.value();
}

TEST(SGD, DecoupledWeightDecayWithoutMomentumIsTheStepOfAnL2Penalty) {
  // w − lr·(g + λw) = (1 − lr·λ)·w − lr·g: l2 with the same λ as weight_decay (½λ‖w‖² has gradient λw)
  const double lr = 0.1, lambda = 0.1;
  Variable a = Variable::parameter(w0), b = Variable::parameter(w0), c = Variable::parameter(w0);
  SGD penalised(one_param(a), lr);
  SGD decoupled(one_param(b), xtgrad::nn::SGDOptions(lr).weight_decay(lambda).decoupled_weight_decay(true));
  SGD coupled(one_param(c), lr, 0.0, false, lambda);
  EXPECT_TRUE(decoupled.decoupled_weight_decay());
  EXPECT_FALSE(coupled.decoupled_weight_decay());
  // one step by hand: 0.99·[1, −2] − 0.1·[0.5, −1] = [0.94, −1.88]
  expect_tensor_near(steps_on_linear_loss(decoupled, b, 0, 1), Tensor{0.94, -1.88});
  steps_on_linear_loss(penalised, a, lambda, 1);
  steps_on_linear_loss(coupled, c, 0, 1);
  expect_tensor_near(a.value(), b.value());
  // and stays so over more steps (to rounding: the three order their products differently)
  const Tensor wa = steps_on_linear_loss(penalised, a, lambda, 9);
  expect_tensor_near(steps_on_linear_loss(decoupled, b, 0, 9), wa, 1e-13);
  expect_tensor_near(steps_on_linear_loss(coupled, c, 0, 9), wa, 1e-13);
}

TEST(SGD, DecoupledWeightDecayWithMomentumKeepsTheDecayOutOfTheVelocity) {
  const TwoSteps r = run_two_steps<SGD>(
      xtgrad::nn::SGDOptions(0.1).momentum(0.9).weight_decay(0.1).decoupled_weight_decay(true));
  // w ← 0.99·w0 = [0.99, −1.98]; v1 = g1; w1 = w − 0.1·v1
  expect_tensor_near(r.ws[0], Tensor{0.94, -1.88});
  // w ← 0.99·w1 = [0.9306, −1.8612]; v2 = 0.9·g1 + g2 = [0.7, 1.1]; w2 = w − 0.1·v2
  expect_tensor_near(r.ws[1], Tensor{0.8606, -1.9712});
  ASSERT_EQ(r.state.size(), 1u);
  expect_tensor_near(r.state[0].second, Tensor{0.7, 1.1});  // the decay never enters v
  // coupled decay (WeightDecayWithMomentumTwoSteps) ends elsewhere: [0.8516, −1.9532]
  const TwoSteps coupled = run_two_steps<SGD>(0.1, 0.9, false, 0.1);
  EXPECT_GT(std::abs(coupled.ws[1](0) - r.ws[1](0)), 5e-3);
}

TEST(SGD, OptionsByNameEqualThePositionalForm) {
  const Tensor positional = run_two_steps<SGD>(0.1, 0.9, true, 0.01).ws[1];
  const Tensor named =
      run_two_steps<SGD>(xtgrad::nn::SGDOptions(0.1).momentum(0.9).nesterov(true).weight_decay(0.01)).ws[1];
  expect_tensor_near(named, positional, 0.0);
  const xtgrad::nn::SGDOptions o = xtgrad::nn::SGDOptions(0.5).decoupled_weight_decay(true);
  EXPECT_EQ(o.lr(), 0.5);
  EXPECT_EQ(o.momentum(), 0.0);
  EXPECT_TRUE(o.decoupled_weight_decay());
  EXPECT_FALSE(xtgrad::nn::SGDOptions(0.5).decoupled_weight_decay());
}

TEST(Adam, DecoupledWeightDecayOptionTakesAdamWsSteps) {
  const TwoSteps adam = run_two_steps<Adam>(xtgrad::nn::AdamOptions(0.1).weight_decay(0.1).decoupled_weight_decay(true));
  const TwoSteps adamw = run_two_steps<AdamW>(0.1, 0.9, 0.999, 1e-8, 0.1);
  expect_tensor_near(adam.ws[0], adamw.ws[0], 0.0);
  expect_tensor_near(adam.ws[1], adamw.ws[1], 0.0);
  ASSERT_EQ(adam.state.size(), adamw.state.size());
  for (std::size_t k = 0; k < adam.state.size(); ++k) expect_tensor_near(adam.state[k].second, adamw.state[k].second, 0.0);
}

TEST(Adam, AnL2PenaltyIsRescaledByTheSecondMomentAndDecoupledDecayIsNot) {
  // Under Adam the penalty's gradient λw is divided by √v̂ like the rest: with no data
  // gradient the first step moves each weight by lr whatever λ is; decoupled decay moves it by lr·λ·w.
  const double lr = 0.1, lambda = 0.1, eps = 1e-8;
  Variable a = Variable::parameter(w0), b = Variable::parameter(w0);
  Adam penalised(one_param(a), xtgrad::nn::AdamOptions(lr));
  Adam decoupled(one_param(b), xtgrad::nn::AdamOptions(lr).weight_decay(lambda).decoupled_weight_decay(true));
  for (Adam* opt : {&penalised, &decoupled}) {
    const Variable& w = opt == &penalised ? a : b;
    Variable loss = xtgrad::sum(w * Variable(Tensor{0.0, 0.0}));
    if (opt == &penalised) loss = loss + xtgrad::sum(w * w) * (0.5 * lambda);
    opt->zero_grad();
    loss.backward();
    opt->step();
  }
  // penalised: g = λw0 = [0.1, −0.2], m̂ = g, √v̂ = |g|: w1 = w0 − lr·g/(|g| + ε) ≈ w0 − lr·sign(w0)
  expect_tensor_near(a.value(), Tensor{1 - lr * 0.1 / (0.1 + eps), -2 + lr * 0.2 / (0.2 + eps)});
  // decoupled: w1 = (1 − lr·λ)·w0 = [0.99, −1.98] (the zero data gradient moves nothing)
  expect_tensor_near(b.value(), Tensor{0.99, -1.98});
  // and with plain SGD the two would both give [0.99, −1.98] (DecoupledWeightDecayWithoutMomentum...)
}

// PyTorch 1.13 in float64 (tests/data/make_weight_decay_reference.py): four steps from w0 with
// gradients g1, g2, g1, g2, lr 0.1, weight decay 0.1. SGD's decoupled reference is torch's SGD
// without decay after w *= 1 − lr·wd by hand (torch's SGD has no such option).
TEST(Optimizers, WeightDecayMatchesPyTorch) {
  const auto four_steps = [](Optimizer& opt, const Variable& w) {
    for (int k = 0; k < 4; ++k) {
      set_grad(w, k % 2 ? g2 : g1);
      opt.step();
    }
    return w.value();
  };
  Variable a = Variable::parameter(w0), b = Variable::parameter(w0), c = Variable::parameter(w0),
           d = Variable::parameter(w0), e = Variable::parameter(w0);
  SGD sgd(one_param(a), 0.1, 0.9, false, 0.1);
  SGD sgd_decoupled(one_param(b), xtgrad::nn::SGDOptions(0.1).momentum(0.9).weight_decay(0.1).decoupled_weight_decay(true));
  Adam adam(one_param(c), 0.1, 0.9, 0.999, 1e-8, 0.1);
  AdamW adamw(one_param(d), 0.1, 0.9, 0.999, 1e-8, 0.1);
  Adam adam_decoupled(one_param(e), xtgrad::nn::AdamOptions(0.1).weight_decay(0.1).decoupled_weight_decay(true));
  expect_tensor_near(four_steps(sgd, a), Tensor{0.55712036, -2.03226572}, 1e-14);
  expect_tensor_near(four_steps(sgd_decoupled, b), Tensor{0.60490406, -2.13008312}, 1e-14);
  expect_tensor_near(four_steps(adam, c), Tensor{0.6131032776301568, -1.936357221094205}, 1e-14);
  expect_tensor_near(four_steps(adamw, d), Tensor{0.5836521347714131, -1.8963959641191404}, 1e-14);
  expect_tensor_near(four_steps(adam_decoupled, e), Tensor{0.5836521347714131, -1.8963959641191404}, 1e-14);
}

TEST(Optimizers, StepWithIgnoresTheRecomputeForOneGradientOptimizers) {
  Variable a = Variable::parameter(w0), b = Variable::parameter(w0);
  Adam one(one_param(a), 0.1), two(one_param(b), 0.1);
  set_grad(a, g1);
  set_grad(b, g1);
  int calls = 0;
  one.step();
  two.step_with([&calls] { ++calls; });
  EXPECT_EQ(calls, 0);
  expect_tensor_near(b.value(), a.value(), 0.0);
}

// ---- RMSProp -------------------------------------------------------------------------------

TEST(RMSProp, TwoStepsMatchHandComputed) {
  const TwoSteps r = run_two_steps<RMSProp>(0.01);  // α 0.99, ε 1e-8
  // s1 = 0.01·g1² = [0.0025, 0.01]; w1 = w0 − 0.01·g1/(√s1 + 1e-8)
  expect_tensor_near(r.ws[0], Tensor{1.0 - 0.01 * 0.5 / (0.05 + 1e-8), -2.0 + 0.01 * 1.0 / (0.1 + 1e-8)});
  // s2 = 0.99·s1 + 0.01·g2² = [0.0031, 0.0499]; w2 = w1 − 0.01·g2/(√s2 + 1e-8)
  expect_tensor_near(r.ws[1], Tensor{0.85509870255781695, -1.9895323021991522});
  const OptimizerState& st = r.state;
  ASSERT_EQ(st.size(), 1u);
  EXPECT_EQ(st[0].first, "w.square_avg");
  expect_tensor_near(st[0].second, Tensor{0.0031, 0.0499});
}

TEST(RMSProp, MomentumTwoStepsMatchHandComputed) {
  const TwoSteps r = run_two_steps<RMSProp>(0.01, 0.99, 1e-8, /*momentum=*/0.9);
  // b1 = g1/(√s1 + 1e-8) = [9.999998000000399, −9.9999990000001]; w1 = w0 − 0.01·b1
  expect_tensor_near(r.ws[0], Tensor{0.90000001999999601, -1.900000009999999});
  // b2 = 0.9·b1 + g2/(√s2 + 1e-8) = [13.490129944218264, −0.046769880084770787]; w2 = w1 − 0.01·b2
  expect_tensor_near(r.ws[1], Tensor{0.76509872055781336, -1.8995323111991513});
  const OptimizerState& st = r.state;
  ASSERT_EQ(st.size(), 2u);
  EXPECT_EQ(st[1].first, "w.momentum");
  expect_tensor_near(st[1].second, Tensor{13.490129944218264, -0.046769880084770787}, 1e-10);
}

// ---- Shared behaviour ----------------------------------------------------------------------

// One optimizer of each kind (with every state buffer in use) over `params`.
std::vector<std::pair<std::string, std::function<std::unique_ptr<Optimizer>(NamedParameters)>>> every_kind() {
  return {
      {"SGD", [](NamedParameters p) { return std::make_unique<SGD>(std::move(p), 0.1); }},
      {"SGD momentum", [](NamedParameters p) { return std::make_unique<SGD>(std::move(p), 0.1, 0.9, false, 0.01); }},
      {"SGD nesterov", [](NamedParameters p) { return std::make_unique<SGD>(std::move(p), 0.1, 0.9, true); }},
      {"Adam", [](NamedParameters p) { return std::make_unique<Adam>(std::move(p), 0.1, 0.9, 0.999, 1e-8, 0.01); }},
      {"AdamW", [](NamedParameters p) { return std::make_unique<AdamW>(std::move(p), 0.1); }},
      {"RMSProp",
       [](NamedParameters p) { return std::make_unique<RMSProp>(std::move(p), 0.01, 0.99, 1e-8, 0.9, 0.01); }},
  };
}

// fc1.weight (2, 3) and fc1.bias (3), as a module would give them.
NamedParameters two_params(const Tensor& weight, const Tensor& bias) {
  return {{"fc1.weight", Variable::parameter(weight)}, {"fc1.bias", Variable::parameter(bias)}};
}
const Tensor weight0 = {{0.5, -1.0, 2.0}, {1.5, 0.25, -0.75}};
const Tensor bias0 = {0.1, -0.2, 0.3};
const Tensor weight_grads[3] = {{{0.3, -0.1, 0.2}, {-0.4, 0.5, 0.05}},
                                {{-0.2, 0.6, 0.1}, {0.3, -0.3, 0.7}},
                                {{0.9, 0.2, -0.5}, {0.1, 0.15, -0.25}}};
const Tensor bias_grads[3] = {{0.2, -0.1, 0.05}, {-0.3, 0.4, 0.2}, {0.1, 0.1, -0.6}};

void set_grads(const NamedParameters& params, int k) {
  set_grad(params[0].second, weight_grads[k]);
  set_grad(params[1].second, bias_grads[k]);
}

TEST(Optimizers, ParametersWithoutGradAreSkipped) {
  for (const auto& [kind, make] : every_kind()) {
    SCOPED_TRACE(kind);
    NamedParameters params = two_params(weight0, bias0);
    auto opt = make(params);
    set_grad(params[0].second, weight_grads[0]);  // the bias never gets a gradient
    opt->step();
    opt->step();
    expect_tensor_near(params[1].second.value(), bias0, 0.0);
    EXPECT_GT(std::abs(params[0].second.value()(0, 0) - weight0(0, 0)), 1e-6);
    for (const auto& [name, t] : opt->state()) EXPECT_EQ(name.rfind("fc1.weight.", 0), 0u) << name;
  }
}

TEST(Optimizers, ZeroGradClearsEveryGradient) {
  for (const auto& [kind, make] : every_kind()) {
    SCOPED_TRACE(kind);
    NamedParameters params = two_params(weight0, bias0);
    auto opt = make(params);
    set_grads(params, 0);
    ASSERT_TRUE(params[0].second.has_grad());
    opt->zero_grad();
    EXPECT_FALSE(params[0].second.has_grad());
    EXPECT_FALSE(params[1].second.has_grad());
    opt->step();  // nothing to do
    expect_tensor_near(params[0].second.value(), weight0, 0.0);
  }
}

TEST(Optimizers, UpdatesTheCallersHandlesInPlace) {
  Variable w = Variable::parameter(w0);
  const Variable alias = w;  // as a module holds it
  SGD opt(one_param(w), 0.1);
  set_grad(w, g1);
  opt.step();
  expect_tensor_near(alias.value(), Tensor{0.95, -1.9});
  EXPECT_EQ(opt.parameters()[0].second.node(), alias.node());
}

TEST(Optimizers, StateRoundTripContinuesIdentically) {
  for (const auto& [kind, make] : every_kind()) {
    SCOPED_TRACE(kind);
    NamedParameters a = two_params(weight0, bias0);
    auto first = make(a);
    for (int k = 0; k < 2; ++k) {
      set_grads(a, k);
      first->step();
    }
    // A fresh process: same names and values, new optimizer, state restored.
    NamedParameters b = two_params(a[0].second.value(), a[1].second.value());
    auto second = make(b);
    second->load_state(first->state());
    set_grads(a, 2);
    set_grads(b, 2);
    first->step();
    second->step();
    expect_tensor_near(b[0].second.value(), a[0].second.value(), 0.0);
    expect_tensor_near(b[1].second.value(), a[1].second.value(), 0.0);
    const OptimizerState sa = first->state();
    const OptimizerState sb = second->state();
    ASSERT_EQ(sa.size(), sb.size());
    for (std::size_t i = 0; i < sa.size(); ++i) {
      EXPECT_EQ(sa[i].first, sb[i].first);
      expect_tensor_near(sb[i].second, sa[i].second, 0.0);
    }
  }
}

TEST(Optimizers, StateIsNamedByParameter) {
  NamedParameters params = two_params(weight0, bias0);
  SGD sgd(params, 0.1, 0.9);
  EXPECT_TRUE(sgd.state().empty());  // allocated lazily, on the first step
  set_grads(params, 0);
  sgd.step();
  const OptimizerState st = sgd.state();
  ASSERT_EQ(st.size(), 2u);
  EXPECT_EQ(st[0].first, "fc1.weight.momentum");
  EXPECT_EQ(st[1].first, "fc1.bias.momentum");
  EXPECT_EQ(st[0].second.shape(), (std::vector<std::size_t>{2, 3}));
}

TEST(Optimizers, WithoutStateALoadedCheckpointStartsAfresh) {
  // Loading an empty state resets: the next momentum step is again v = g.
  Variable w = Variable::parameter(w0);
  SGD opt(one_param(w), 0.1, 0.9);
  set_grad(w, g1);
  opt.step();
  opt.load_state({});
  EXPECT_TRUE(opt.state().empty());
  set_grad(w, g2);
  opt.step();
  expect_tensor_near(w.value(), Tensor{0.95 - 0.025, -1.9 - 0.2});  // w1 − 0.1·g2
}

TEST(Optimizers, LoadStateRejectsMismatchesAndKeepsItsState) {
  NamedParameters params = two_params(weight0, bias0);
  Adam opt(params, 0.1);
  set_grads(params, 0);
  opt.step();
  const OptimizerState good = opt.state();
  ASSERT_EQ(good.size(), 6u);

  OptimizerState unknown = good;
  unknown[0].first = "fc2.weight.exp_avg";
  expect_throws_with<std::invalid_argument>([&] { opt.load_state(unknown); },
                                            {"Adam", "unknown entry 'fc2.weight.exp_avg'", "exp_avg_sq"});
  OptimizerState misshapen = good;
  misshapen[0].second = Tensor{{1.0, 2.0}};
  expect_throws_with<std::invalid_argument>([&] { opt.load_state(misshapen); },
                                            {"Adam", "'fc1.weight.exp_avg'", "(1, 2)", "(2, 3)"});
  OptimizerState duplicate = good;
  duplicate.push_back(good[1]);
  expect_throws_with<std::invalid_argument>([&] { opt.load_state(duplicate); },
                                            {"duplicate", "'fc1.weight.exp_avg_sq'"});
  OptimizerState partial = good;
  partial.erase(partial.begin() + 1);
  expect_throws_with<std::invalid_argument>([&] { opt.load_state(partial); },
                                            {"fc1.weight.exp_avg_sq", "lacks"});
  OptimizerState bad_step = good;
  bad_step[2].second = Tensor(1.5);
  expect_throws_with<std::invalid_argument>([&] { opt.load_state(bad_step); }, {"'fc1.weight.step'", "1.5"});
  bad_step[2].second = Tensor{1.0, 2.0};
  expect_throws_with<std::invalid_argument>([&] { opt.load_state(bad_step); }, {"'fc1.weight.step'", "(2)"});

  SGD plain(params, 0.1);
  expect_throws_with<std::invalid_argument>([&] { plain.load_state(good); }, {"SGD", "keeps no state"});

  // Every failure left the state as it was.
  const OptimizerState after = opt.state();
  ASSERT_EQ(after.size(), good.size());
  for (std::size_t i = 0; i < good.size(); ++i) {
    EXPECT_EQ(after[i].first, good[i].first);
    expect_tensor_near(after[i].second, good[i].second, 0.0);
  }
  // A (1,) step counter is accepted too.
  OptimizerState one_d = good;
  one_d[2].second = Tensor{1.0};
  EXPECT_NO_THROW(opt.load_state(one_d));
}

TEST(Optimizers, InvalidHyperparametersNameTheOptimizerAndValue) {
  const auto p = [] { return one_param(Variable::parameter(w0)); };
  const double nan = std::nan("");
  expect_throws_with<std::invalid_argument>([&] { SGD(p(), 0.0); }, {"SGD", "learning rate", "got 0"});
  expect_throws_with<std::invalid_argument>([&] { SGD(p(), -0.1); }, {"SGD", "learning rate", "-0.1"});
  expect_throws_with<std::invalid_argument>([&] { SGD(p(), nan); }, {"SGD", "learning rate", "nan"});
  expect_throws_with<std::invalid_argument>([&] { SGD(p(), 0.1, -0.5); }, {"SGD", "momentum", "-0.5"});
  expect_throws_with<std::invalid_argument>([&] { SGD(p(), 0.1, 0.0, true); }, {"SGD", "nesterov", "got 0"});
  expect_throws_with<std::invalid_argument>([&] { SGD(p(), 0.1, 0.0, false, -1.0); }, {"SGD", "weight_decay", "-1"});
  expect_throws_with<std::invalid_argument>([&] { Adam(p(), 0.0); }, {"Adam", "learning rate"});
  expect_throws_with<std::invalid_argument>([&] { Adam(p(), 1e-3, 1.0); }, {"Adam", "beta1", "[0, 1)", "got 1"});
  expect_throws_with<std::invalid_argument>([&] { Adam(p(), 1e-3, 0.9, -0.1); }, {"Adam", "beta2", "-0.1"});
  expect_throws_with<std::invalid_argument>([&] { Adam(p(), 1e-3, 0.9, nan); }, {"Adam", "beta2", "nan"});
  expect_throws_with<std::invalid_argument>([&] { Adam(p(), 1e-3, 0.9, 0.999, -1e-8); }, {"Adam", "eps", "-1e-08"});
  expect_throws_with<std::invalid_argument>([&] { AdamW(p(), 1e-3, 0.9, 1.5); }, {"AdamW", "beta2", "1.5"});
  expect_throws_with<std::invalid_argument>([&] { AdamW(p(), -1.0); }, {"AdamW", "learning rate", "-1"});
  expect_throws_with<std::invalid_argument>([&] { RMSProp(p(), 0.01, 1.0); }, {"RMSProp", "alpha", "got 1"});
  expect_throws_with<std::invalid_argument>([&] { RMSProp(p(), 0.01, 0.99, 1e-8, -0.9); },
                                            {"RMSProp", "momentum", "-0.9"});

  SGD opt(p(), 0.1);
  expect_throws_with<std::invalid_argument>([&] { opt.set_learning_rate(-2.0); }, {"SGD", "learning rate", "-2"});
  EXPECT_EQ(opt.learning_rate(), 0.1);
  opt.set_learning_rate(0.05);
  EXPECT_EQ(opt.learning_rate(), 0.05);
}

TEST(Optimizers, SetLearningRateTakesEffectOnTheNextStep) {
  Variable w = Variable::parameter(w0);
  SGD opt(one_param(w), 0.1);
  opt.set_learning_rate(0.5);
  set_grad(w, g1);
  opt.step();
  expect_tensor_near(w.value(), Tensor{0.75, -1.5});  // w0 − 0.5·g1
}

TEST(Optimizers, ParameterListIsChecked) {
  Variable w = Variable::parameter(w0);
  expect_throws_with<std::invalid_argument>([] { SGD(NamedParameters{}, 0.1); }, {"SGD", "empty parameter list"});
  expect_throws_with<std::invalid_argument>([&] { Adam({{"a", w}, {"b", w}}, 0.1); },
                                            {"Adam", "'b'", "same variable", "'a'"});
  expect_throws_with<std::invalid_argument>([&] { Adam({{"a", w}, {"a", w}}, 0.1); }, {"Adam", "same variable"});
  expect_throws_with<std::invalid_argument>([&] { Adam({{"a", Variable()}}, 0.1); }, {"Adam", "'a'", "empty"});
}

// issue 22 §3.6: two modules both have a "weight" and a "bias"; identity decides, not names.
TEST(Optimizers, TwoModulesParametersWithTheSameNamesAreBothUpdated) {
  Variable wa = Variable::parameter(w0), wb = Variable::parameter(Tensor{3.0, 4.0});
  NamedParameters a = {{"weight", wa}}, b = {{"weight", wb}};
  NamedParameters both = a;
  both.insert(both.end(), b.begin(), b.end());
  Adam opt(both, 0.1);
  set_grad(wa, g1);
  set_grad(wb, g2);
  opt.step();
  // each moved by Adam's first step, −lr·sign(g) (to ε)
  expect_tensor_near(wa.value(), Tensor{0.9, -1.9}, 1e-7);
  expect_tensor_near(wb.value(), Tensor{2.9, 3.9}, 1e-7);
  // the state keeps both, the second under a numbered key, and round-trips
  const OptimizerState st = opt.state();
  ASSERT_EQ(st.size(), 6u);
  EXPECT_EQ(st[0].first, "weight.exp_avg");
  EXPECT_EQ(st[3].first, "weight#2.exp_avg");
  Adam copy(both, 0.1);
  copy.load_state(st);
  EXPECT_EQ(copy.state().size(), 6u);
  expect_tensor_near(copy.state()[3].second, st[3].second, 0.0);
  // plain parameter vectors work too, and the same tensor twice is refused naming both entries
  SGD plain(std::vector<Variable>{wa, wb}, 0.1);
  EXPECT_EQ(plain.parameters()[1].first, "param1");
  AdamW plain_w(std::vector<Variable>{wa, wb}, xtgrad::nn::AdamWOptions(0.01));
  EXPECT_EQ(plain_w.parameters().size(), 2u);
  expect_throws_with<std::invalid_argument>([&] { SGD(std::vector<Variable>{wa, wa}, 0.1); },
                                            {"SGD", "'param1'", "same variable", "'param0'"});
}

#if MALLOC_COUNTER_AVAILABLE
TEST(Optimizers, StepAllocatesNothingAfterTheFirst) {
  using malloc_counter::g_allocs;
  using malloc_counter::g_counting;
  // The counter sees xtensor's allocations (else the test below would prove nothing).
  std::uint64_t before = g_allocs;
  g_counting = true;
  const Tensor copy = weight0;
  g_counting = false;
  ASSERT_GE(g_allocs - before, 1u);
  for (const auto& [kind, make] : every_kind()) {
    SCOPED_TRACE(kind);
    NamedParameters params = two_params(weight0, bias0);
    auto opt = make(params);
    set_grads(params, 0);
    opt->step();  // allocates the state
    before = g_allocs;
    g_counting = true;
    opt->step();
    opt->step();
    g_counting = false;
    EXPECT_EQ(g_allocs - before, 0u);
  }
}
#else
TEST(Optimizers, StepAllocatesNothingAfterTheFirst) {
  GTEST_SKIP() << "allocation counting replaces malloc, which AddressSanitizer interposes itself";
}
#endif

// ---- Convergence: minimise f(w) = Σ(w − 3)² built with ops --------------------------------

double minimise(Optimizer& opt, Variable& w, int steps) {
  for (int i = 0; i < steps; ++i) {
    opt.zero_grad();
    Variable loss = xtgrad::sum(xtgrad::square(w - 3.0));
    loss.backward();
    opt.step();
  }
  return xtgrad::sum(xtgrad::square(w - 3.0)).item();
}

TEST(Optimizers, SGDMinimisesAQuadratic) {
  Variable w = Variable::parameter(Tensor{{0.0, -1.0}, {5.0, 10.0}});
  SGD opt(one_param(w), 0.1, 0.5);
  minimise(opt, w, 200);
  for (double x : w.value()) EXPECT_NEAR(x, 3.0, 1e-3);
}

TEST(Optimizers, AdamMinimisesAQuadratic) {
  Variable w = Variable::parameter(Tensor{{0.0, -1.0}, {5.0, 10.0}});
  Adam opt(one_param(w), 0.1);
  // Adam's steps are ~lr in size, so it needs a few hundred to travel 7 and settle.
  minimise(opt, w, 2000);
  for (double x : w.value()) EXPECT_NEAR(x, 3.0, 1e-3);
}

}  // namespace

// ---- parameter groups ----------------------------------------------------------------------

namespace {

using ParamGroup = xtgrad::nn::BasicParamGroup<double>;
using ParamGroups = xtgrad::nn::BasicParamGroups<double>;

TEST(ParamGroups, EachGroupStepsWithItsOwnLearningRateAndWeightDecay) {
  // SGD: w ← w − lr·(g + wd·w). Group 0 inherits lr 0.1 and wd 0; group 1 has lr 0.5, wd 0.2.
  const Variable a = Variable::parameter(w0), b = Variable::parameter(w0);
  SGD opt(ParamGroups{ParamGroup({{"a", a}}), ParamGroup({{"b", b}}, 0.5, 0.2)}, 0.1);
  EXPECT_EQ(opt.group_count(), 2u);
  EXPECT_EQ(opt.group_learning_rate(0), 0.1);
  EXPECT_EQ(opt.group_learning_rate(1), 0.5);
  EXPECT_EQ(opt.group_weight_decay(0), 0.0);
  EXPECT_EQ(opt.group_weight_decay(1), 0.2);
  set_grad(a, g1);
  set_grad(b, g1);
  opt.step();
  expect_tensor_near(a.value(), Tensor({1 - 0.1 * 0.5, -2 - 0.1 * -1.0}), 1e-12);
  expect_tensor_near(b.value(), Tensor({1 - 0.5 * (0.5 + 0.2 * 1), -2 - 0.5 * (-1.0 + 0.2 * -2)}), 1e-12);
  EXPECT_EQ(opt.parameters().size(), 2u);
  EXPECT_EQ(opt.parameters()[1].first, "b");
}

TEST(ParamGroups, AdamAndAdamWAndRMSPropEqualSeparateOptimizersPerGroup) {
  // Two groups in one optimizer step exactly like one optimizer per group.
  auto check = [](auto make_grouped, auto make_single) {
    const Variable a = Variable::parameter(w0), b = Variable::parameter(w0);
    const Variable a2 = Variable::parameter(w0), b2 = Variable::parameter(w0);
    auto grouped = make_grouped(a, b);
    auto sa = make_single(a2, 0.01, 0.0);
    auto sb = make_single(b2, 0.3, 0.05);
    for (const Tensor* g : {&g1, &g2}) {
      for (const Variable* v : {&a, &b, &a2, &b2}) set_grad(*v, *g);
      grouped->step();
      sa->step();
      sb->step();
    }
    expect_tensor_near(a.value(), a2.value(), 1e-14);
    expect_tensor_near(b.value(), b2.value(), 1e-14);
  };
  check([](const Variable& a, const Variable& b) {
          return std::make_unique<Adam>(ParamGroups{ParamGroup({{"a", a}}), ParamGroup({{"b", b}}, 0.3, 0.05)}, 0.01);
        },
        [](const Variable& w, double lr, double wd) {
          return std::make_unique<Adam>(one_param(w), lr, 0.9, 0.999, 1e-8, wd);
        });
  check([](const Variable& a, const Variable& b) {
          return std::make_unique<AdamW>(ParamGroups{ParamGroup({{"a", a}}, -1, 0.0), ParamGroup({{"b", b}}, 0.3, 0.05)},
                                         0.01);
        },
        [](const Variable& w, double lr, double wd) {
          return std::make_unique<AdamW>(one_param(w), lr, 0.9, 0.999, 1e-8, wd);
        });
  check([](const Variable& a, const Variable& b) {
          return std::make_unique<RMSProp>(ParamGroups{ParamGroup({{"a", a}}), ParamGroup({{"b", b}}, 0.3, 0.05)}, 0.01,
                                           0.99, 1e-8, 0.5);
        },
        [](const Variable& w, double lr, double wd) {
          return std::make_unique<RMSProp>(one_param(w), lr, 0.99, 1e-8, 0.5, wd);
        });
}

TEST(ParamGroups, SetLearningRateSetsEveryGroupAndGroupsCanBeSetAlone) {
  const Variable a = Variable::parameter(w0), b = Variable::parameter(w0);
  SGD opt(ParamGroups{ParamGroup({{"a", a}}), ParamGroup({{"b", b}}, 0.5)}, 0.1);
  opt.set_group_learning_rate(1, 0.25);
  EXPECT_EQ(opt.group_learning_rate(1), 0.25);
  EXPECT_EQ(opt.learning_rate(), 0.1);
  opt.set_learning_rate(0.05);
  EXPECT_EQ(opt.group_learning_rate(0), 0.05);
  EXPECT_EQ(opt.group_learning_rate(1), 0.05);
  opt.set_group_learning_rate(0, 0.0);  // a schedule may end at 0
  EXPECT_THROW(opt.group_learning_rate(2), std::out_of_range);
  expect_throws_with<std::invalid_argument>([&] { opt.set_group_learning_rate(1, -1.0); }, {"SGD", "-1"});
}

TEST(ParamGroups, BadGroupsAreRejectedNamingTheGroup) {
  const Variable a = Variable::parameter(w0), b = Variable::parameter(w0);
  expect_throws_with<std::invalid_argument>(
      [&] { SGD(ParamGroups{ParamGroup({{"a", a}}), ParamGroup({}, 0.1)}, 0.1); }, {"SGD", "group 1", "empty"});
  EXPECT_NO_THROW(SGD(ParamGroups{ParamGroup({{"a", a}}), ParamGroup({{"a", b}})}, 0.1));  // identity decides
  expect_throws_with<std::invalid_argument>(
      [&] { SGD(ParamGroups{ParamGroup({{"a", a}}), ParamGroup({{"b", a}})}, 0.1); }, {"SGD", "same variable"});
  expect_throws_with<std::invalid_argument>(
      [&] { Adam(ParamGroups{ParamGroup({{"a", a}}, std::nan(""))}, 0.1); }, {"Adam", "group 0", "learning rate"});
  expect_throws_with<std::invalid_argument>([&] { SGD(ParamGroups{}, 0.1); }, {"SGD", "no parameter groups"});
}

TEST(ParamGroups, GroupedStepsMakeNoHeapAllocationAfterTheFirst) {
  if (!MALLOC_COUNTER_AVAILABLE) GTEST_SKIP() << "AddressSanitizer replaces malloc: nothing to count";
  const Variable a = Variable::parameter(w0), b = Variable::parameter(w0);
  Adam opt(ParamGroups{ParamGroup({{"a", a}}), ParamGroup({{"b", b}}, 0.3, 0.05)}, 0.01);
  set_grad(a, g1);
  set_grad(b, g1);
  opt.step();
  const std::uint64_t before = malloc_counter::g_allocs.load();
  malloc_counter::g_counting = true;
  for (int i = 0; i < 10; ++i) opt.step();
  malloc_counter::g_counting = false;
  EXPECT_EQ(malloc_counter::g_allocs.load() - before, 0u);
}

}  // namespace

// ---- float: the optimizers users train with ------------------------------------------------

namespace {

// Three steps of the float optimizer `kind` and of its double twin from the same values and
// gradients end within float rounding of each other, and the float steps allocate nothing.
template <class Float, class Double, class... Args>
void expect_float_follows_double(const char* kind, Args... args) {
  SCOPED_TRACE(kind);
  const xtgrad::TensorOf<float> w32 = {{0.5f, -1.0f, 2.0f}, {1.5f, 0.25f, -0.75f}};
  auto p32 = xtgrad::BasicVariable<float>::parameter(w32);
  auto p64 = xtgrad::BasicVariable<double>::parameter(xtgrad::TensorOf<double>(weight0));
  Float f32({{"w", p32}}, args...);
  Double f64({{"w", p64}}, args...);
  for (int k = 0; k < 3; ++k) {
    p32.zero_grad();
    p32.backward(xtgrad::TensorOf<float>(weight_grads[k]));
    set_grad(p64, weight_grads[k]);
    if (k == 2 && MALLOC_COUNTER_AVAILABLE) {
      const std::uint64_t before = malloc_counter::g_allocs.load();
      malloc_counter::g_counting = true;
      f32.step();
      malloc_counter::g_counting = false;
      EXPECT_EQ(malloc_counter::g_allocs.load() - before, 0u);
    } else {
      f32.step();
    }
    f64.step();
  }
  for (std::size_t i = 0; i < w32.size(); ++i) {
    EXPECT_NEAR(p32.value().data()[i], p64.value().data()[i], 1e-5) << "at flat index " << i;
  }
  const auto s32 = f32.state();
  const auto s64 = f64.state();
  ASSERT_EQ(s32.size(), s64.size());
  for (std::size_t i = 0; i < s32.size(); ++i) EXPECT_EQ(s32[i].first, s64[i].first);
}

TEST(FloatOptimizers, FollowTheDoubleOnesToFloatRounding) {
  using namespace xtgrad::nn;
  expect_float_follows_double<xtgrad::nn::SGD, BasicSGD<double>>("SGD", 0.1, 0.9, true, 0.01);
  expect_float_follows_double<xtgrad::nn::Adam, BasicAdam<double>>("Adam", 0.1, 0.9, 0.999, 1e-8, 0.01);
  expect_float_follows_double<xtgrad::nn::AdamW, BasicAdamW<double>>("AdamW", 0.1);
  expect_float_follows_double<xtgrad::nn::RMSProp, BasicRMSProp<double>>("RMSProp", 0.01, 0.99, 1e-8, 0.9, 0.01);
}

TEST(FloatOptimizers, TheFloatNamesAreTheBasicFloatTemplates) {
  static_assert(std::is_same_v<xtgrad::nn::Optimizer, xtgrad::nn::BasicOptimizer<float>>);
  static_assert(std::is_same_v<xtgrad::nn::SGD, xtgrad::nn::BasicSGD<float>>);
  static_assert(std::is_same_v<xtgrad::nn::OptimizerState, xtgrad::nn::OptimizerStateOf<float>>);
  static_assert(std::is_base_of_v<xtgrad::nn::OptimizerBase, xtgrad::nn::BasicAdam<double>>);
  SUCCEED();
}

}  // namespace
