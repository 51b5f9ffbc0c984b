// The input-space regularizers (double): the input-gradient penalty of double backpropagation
// against per-sample gradients and central differences, the FGSM step and the accuracy under
// it, and the max-norm projection; and their errors.
#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include "test_util.hpp"
#include "xtgrad/ops/activations.hpp"
#include "xtgrad/ops/linalg.hpp"
#include "xtgrad/ops/losses.hpp"
#include "xtgrad/regularizers/input_space.hpp"

namespace xtgrad_test {
namespace {

using xtgrad::grad;
using NamedParameters = xtgrad::NamedParametersOf<Scalar>;

// One-hot rows (n, c).
Tensor one_hot(const std::vector<std::size_t>& labels, std::size_t c) {
  Tensor y = Tensor::from_shape({labels.size(), c});
  y.fill(0);
  for (std::size_t i = 0; i < labels.size(); ++i) y(i, labels[i]) = 1;
  return y;
}

// A tiny net: sigmoid(x·W1 + b1)·W2, cross-entropy (mean over the rows) against y.
Variable tiny_loss(const Variable& x, const Variable& w1, const Variable& b1, const Variable& w2, const Tensor& y) {
  return xtgrad::cross_entropy(xtgrad::matmul(xtgrad::sigmoid(xtgrad::matmul(x, w1) + b1), w2), Variable(y));
}

const Tensor kX = uniform({3, 4}, 1, -1, 1), kW1 = uniform({4, 5}, 2, -1, 1), kB1 = uniform({5}, 3, -0.5, 0.5),
             kW2 = uniform({5, 3}, 4, -1, 1), kY = one_hot({0, 2, 1}, 3);

TEST(InputGradientPenalty, IsLambdaTimesTheMeanOfPerSampleSquaredInputGradients) {
  const double lambd = 0.7;
  const Variable w1(kW1, true), b1(kB1, true), w2(kW2, true);
  const Variable x(kX, true);
  const Variable penalty = xtgrad::input_gradient_penalty(tiny_loss(x, w1, b1, w2, kY), x, lambd);
  // Each sample alone: ℓᵢ from a one-row batch, its input gradient by grad().
  double expected = 0;
  for (std::size_t i = 0; i < 3; ++i) {
    Tensor xi = Tensor::from_shape({1, 4}), yi = Tensor::from_shape({1, 3});
    for (std::size_t j = 0; j < 4; ++j) xi(0, j) = kX(i, j);
    for (std::size_t j = 0; j < 3; ++j) yi(0, j) = kY(i, j);
    const Variable x1(xi, true);
    const Tensor g = grad({tiny_loss(x1, w1, b1, w2, yi)}, {x1})[0].value();
    for (std::size_t j = 0; j < 4; ++j) expected += g(0, j) * g(0, j);
  }
  expected = lambd * expected / 3;
  EXPECT_NEAR(penalty.item(), expected, 1e-12 * std::abs(expected));
  EXPECT_GT(expected, 0);
}

// The penalty's gradient from backward() against central differences of its value, for every
// element of x, W1, b1 and W2. (gradcheck evaluates f under NoGrad, where the penalty cannot
// take its inner gradient, so the differences are taken here with grad mode on.)
TEST(InputGradientPenalty, GradientMatchesCentralDifferences) {
  for (const bool with_loss : {false, true}) {
    const auto f = [&](const std::vector<Tensor>& t, std::vector<Variable>* leaves) {
      std::vector<Variable> v;
      for (const Tensor& x : t) v.emplace_back(x, true);
      const Variable loss = tiny_loss(v[0], v[1], v[2], v[3], kY);
      const Variable penalty = xtgrad::input_gradient_penalty(loss, v[0], 0.5);
      if (leaves) *leaves = v;
      return with_loss ? loss + penalty : penalty;
    };
    const std::vector<Tensor> inputs = {kX, kW1, kB1, kW2};
    std::vector<Variable> leaves;
    f(inputs, &leaves).backward();
    const double h = 1e-6;
    double worst = 0;
    for (std::size_t k = 0; k < inputs.size(); ++k) {
      const Tensor analytic = leaves[k].grad();
      for (std::size_t i = 0; i < inputs[k].size(); ++i) {
        std::vector<Tensor> plus = inputs, minus = inputs;
        plus[k].data()[i] += h;
        minus[k].data()[i] -= h;
        const double numeric = (f(plus, nullptr).item() - f(minus, nullptr).item()) / (2 * h);
        const double a = analytic.data()[i];
        EXPECT_NEAR(a, numeric, 1e-7 + 1e-5 * std::abs(numeric)) << "input " << k << " element " << i;
        worst = std::max(worst, std::abs(numeric));
      }
    }
    EXPECT_GT(worst, 1e-3);  // the gradients are not all (near) zero
  }
}

TEST(InputGradientPenalty, RejectsAnInputWithoutGrad) {
  const Variable w1(kW1, true), b1(kB1, true), w2(kW2, true);
  const Variable x(kX);
  EXPECT_THROW(xtgrad::input_gradient_penalty(tiny_loss(x, w1, b1, w2, kY), x, 1.0), std::invalid_argument);
  const Variable xg(kX, true);
  EXPECT_THROW(xtgrad::input_gradient_penalty(tiny_loss(xg, w1, b1, w2, kY), xg, -1.0), std::invalid_argument);
}

TEST(FgsmStep, StepsBySignAndClipsToTheRange) {
  Tensor x = Tensor::from_shape({1, 4}), g = Tensor::from_shape({1, 4});
  x(0, 0) = 0.5, x(0, 1) = 0.95, x(0, 2) = -0.95, x(0, 3) = 0.2;
  g(0, 0) = -3, g(0, 1) = 1e-9, g(0, 2) = -2, g(0, 3) = 0;
  const Tensor y = xtgrad::fgsm_step(x, g, 0.1);
  EXPECT_DOUBLE_EQ(y(0, 0), 0.4);
  EXPECT_DOUBLE_EQ(y(0, 1), 1.0);   // clipped
  EXPECT_DOUBLE_EQ(y(0, 2), -1.0);  // clipped
  EXPECT_DOUBLE_EQ(y(0, 3), 0.2);   // sign(0) = 0
}

TEST(MaxNorm, ScalesOnlyUnitsAboveTheBound) {
  // a Linear weight (out, in): each row is one unit's incoming weights
  Tensor w = Tensor::from_shape({3, 2});
  w(0, 0) = 3, w(0, 1) = 4;  // norm 5 → 2
  w(1, 0) = 1, w(1, 1) = 1;  // norm √2 < 2: untouched
  w(2, 0) = 0, w(2, 1) = -6;
  const NamedParameters params = {{"fc.weight", Variable(w, true)}, {"fc.bias", Variable(uniform({3}, 5, 5, 9), true)}};
  EXPECT_EQ(xtgrad::project_max_norm(params, 2.0), 2u);
  const Tensor& p = params[0].second.value();
  EXPECT_NEAR(p(0, 0), 1.2, 1e-12);
  EXPECT_NEAR(p(0, 1), 1.6, 1e-12);
  EXPECT_EQ(p(1, 0), 1);
  EXPECT_NEAR(p(2, 1), -2, 1e-12);
  EXPECT_GE(params[1].second.value()(0), 5);  // biases are not weights
}

TEST(MaxNorm, ScalesEachOutputFilterOfAConvolution) {
  Tensor w = Tensor::from_shape({2, 1, 2, 2});  // filter 0: norm 4 → 1; filter 1: norm 0.4, kept
  for (std::size_t i = 0; i < 4; ++i) w.data()[i] = 2, w.data()[4 + i] = 0.2;
  const NamedParameters params = {{"conv.weight", Variable(w, true)}};
  EXPECT_EQ(xtgrad::project_max_norm(params, 1.0), 1u);
  for (std::size_t i = 0; i < 4; ++i) {
    EXPECT_NEAR(params[0].second.value().data()[i], 0.5, 1e-12);
    EXPECT_EQ(params[0].second.value().data()[4 + i], 0.2);
  }
}

TEST(FgsmStep, NamesBothShapesWhenTheyDiffer) {
  expect_throws_with<std::invalid_argument>(
      [] { xtgrad::fgsm_step(Tensor::from_shape({2, 3}), Tensor::from_shape({3, 2}), 0.1); },
      {"fgsm_step", "(2, 3)", "(3, 2)"});
}

// A linear model y = x·W on 2 classes whose inputs sit 0.3 from the decision boundary: eps = 0
// keeps every prediction, eps = 0.5 (one step against the gradient's sign) flips every one.
TEST(FgsmAccuracy, ZeroStepKeepsPredictionsAndALargeStepFlipsThem) {
  Tensor w = Tensor::from_shape({2, 2});
  w(0, 0) = 1, w(0, 1) = -1, w(1, 0) = 0, w(1, 1) = 0;  // logit difference 2·x₀
  const Variable wv(w);
  const auto model = [&](const Variable& x) { return xtgrad::matmul(x, wv); };
  Tensor x = Tensor::from_shape({4, 2});
  const double x0[] = {0.3, -0.3, 0.3, -0.3};
  for (std::size_t i = 0; i < 4; ++i) x(i, 0) = x0[i], x(i, 1) = 0;
  Tensor labels = Tensor::from_shape({4});
  for (std::size_t i = 0; i < 4; ++i) labels(i) = x0[i] > 0 ? 0 : 1;
  EXPECT_EQ(xtgrad::fgsm_accuracy<Scalar>(model, x, labels, 0.0, 3), 1.0);
  EXPECT_EQ(xtgrad::fgsm_accuracy<Scalar>(model, x, labels, 0.5, 3), 0.0);
  EXPECT_EQ(xtgrad::fgsm_accuracy<Scalar>(model, x, one_hot({0, 1, 0, 1}, 2), 0.5), 0.0);  // one-hot targets
  expect_throws_with<std::invalid_argument>(
      [&] { xtgrad::fgsm_accuracy<Scalar>(model, x, Tensor::from_shape({3}), 0.1); },
      {"fgsm_accuracy", "targets (3)", "inputs (4, 2)"});
}

TEST(MaxNorm, RejectsANonPositiveBound) {
  const NamedParameters params = {{"fc.weight", Variable(uniform({2, 2}, 1, -1, 1), true)}};
  expect_throws_with<std::invalid_argument>([&] { xtgrad::project_max_norm(params, 0.0); },
                                            {"project_max_norm", "c must be"});
}

}  // namespace
}  // namespace xtgrad_test
