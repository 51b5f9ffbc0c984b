// Mixup: the mixed inputs and the two-target loss against hand computations, a gradient check
// through both in double, the equivalence with mixed soft targets for cross-entropy, the
// Beta(α, α) draws against known distributions, and bad input.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <vector>

#include "test_util.hpp"
#include "xtgrad/core/core.hpp"
#include "xtgrad/ops/ops.hpp"
#include "xtgrad/regularizers/mixup.hpp"

namespace {

using Tensor = xtgrad::TensorOf<double>;
using Variable = xtgrad::BasicVariable<double>;
using Mixup = xtgrad::BasicMixup<double>;
using xtgrad_test::expect_throws_with;
using xtgrad_test::uniform;

Variable ce(const Variable& z, const Variable& y) { return xtgrad::cross_entropy(z, y); }

// mean over rows of −Σ_k y_k·log softmax(z)_k, by hand
double ce_by_hand(const Tensor& z, const Tensor& y) {
  const std::size_t n = z.shape()[0], c = z.shape()[1];
  double total = 0;
  for (std::size_t i = 0; i < n; ++i) {
    double m = z(i, 0);
    for (std::size_t k = 1; k < c; ++k) m = std::max(m, z(i, k));
    double s = 0;
    for (std::size_t k = 0; k < c; ++k) s += std::exp(z(i, k) - m);
    for (std::size_t k = 0; k < c; ++k) total -= y(i, k) * (z(i, k) - m - std::log(s));
  }
  return total / double(n);
}

Tensor one_hot_rows(const std::vector<std::size_t>& labels, std::size_t classes) {
  Tensor t = Tensor::from_shape({labels.size(), classes});
  std::fill(t.begin(), t.end(), 0.0);
  for (std::size_t i = 0; i < labels.size(); ++i) t(i, labels[i]) = 1.0;
  return t;
}

TEST(Mixup, MixedInputsAreTheConvexCombinationWithThePermutedRows) {
  Mixup mixup(0.2);
  mixup.set(0.3, {2, 0, 1});
  const Tensor x = {{1.0, 2.0}, {3.0, 5.0}, {-1.0, 0.5}};
  Tensor mixed = x;
  mixup.mix_inputs(mixed);
  // row i: 0.3·x[i] + 0.7·x[π(i)]
  const Tensor expected = {{0.3 * 1 + 0.7 * -1, 0.3 * 2 + 0.7 * 0.5},
                           {0.3 * 3 + 0.7 * 1, 0.3 * 5 + 0.7 * 2},
                           {0.3 * -1 + 0.7 * 3, 0.3 * 0.5 + 0.7 * 5}};
  for (std::size_t i = 0; i < x.size(); ++i) EXPECT_NEAR(mixed.data()[i], expected.data()[i], 1e-15);
  const Tensor graph = mixup.mix(Variable(x)).value();  // the graph form: the same numbers
  for (std::size_t i = 0; i < x.size(); ++i) EXPECT_NEAR(graph.data()[i], expected.data()[i], 1e-15);
}

TEST(Mixup, LossIsTheLambdaWeightedSumOfTheLossesOnBothTargets) {
  Mixup mixup(1.0);
  mixup.set(0.35, {1, 3, 0, 2});
  const Tensor z = uniform({4, 3}, 11, -2, 2);
  const std::vector<std::size_t> labels = {0, 2, 1, 1}, permuted = {2, 1, 0, 1};  // labels[π(i)]
  const Tensor y = one_hot_rows(labels, 3);
  const double loss = mixup.loss(ce, Variable(z), Variable(y)).item();
  const double by_hand = 0.35 * ce_by_hand(z, y) + 0.65 * ce_by_hand(z, one_hot_rows(permuted, 3));
  EXPECT_NEAR(loss, by_hand, 1e-14);
  // class-index targets (n) are permuted the same way
  const Tensor indices = {0.0, 2.0, 1.0, 1.0};
  const auto ce_index = [](const Variable& out, const Variable& t) {
    std::vector<std::size_t> k(t.value().size());
    for (std::size_t i = 0; i < k.size(); ++i) k[i] = std::size_t(t.value()(i));
    return xtgrad::cross_entropy(out, k);
  };
  EXPECT_NEAR(mixup.loss(ce_index, Variable(z), Variable(indices)).item(), by_hand, 1e-14);
}

TEST(Mixup, ForCrossEntropyTheLossEqualsTheLossOnMixedTargets) {
  Mixup mixup(0.4);
  xtgrad::Rng rng(3);
  mixup.draw(5, rng);
  const Tensor z = uniform({5, 4}, 12, -2, 2);
  const Tensor y = one_hot_rows({3, 0, 1, 1, 2}, 4);
  Tensor soft = y;
  mixup.mix_inputs(soft);  // λ·y + (1 − λ)·y[π], the same pairing
  EXPECT_NEAR(mixup.loss(ce, Variable(z), Variable(y)).item(), ce_by_hand(z, soft), 1e-13);
}

TEST(Mixup, GradcheckThroughTheMixedInputsAndTheLoss) {
  Mixup mixup(0.2);
  mixup.set(0.7, {3, 2, 0, 1});
  const Tensor y = one_hot_rows({1, 0, 2, 1}, 3);
  // loss(x, W) = λ·ce(mix(x)·Wᵀ, y) + (1 − λ)·ce(mix(x)·Wᵀ, y[π])
  const auto f = [&](const std::vector<Variable>& in) {
    const Variable out = xtgrad::matmul(mixup.mix(in[0]), xtgrad::transpose(in[1]));
    return mixup.loss(ce, out, Variable(y));
  };
  xtgrad_test::expect_gradcheck(f, {uniform({4, 5}, 21, -1, 1), uniform({3, 5}, 22, -1, 1)});
}

TEST(Mixup, DrawsAPermutationAndTheSameOnesFromTheSameSeed) {
  Mixup a(0.2), b(0.2);
  xtgrad::Rng r1(9), r2(9);
  a.draw(100, r1);
  b.draw(100, r2);
  EXPECT_EQ(a.lambda(), b.lambda());
  EXPECT_EQ(a.permutation(), b.permutation());
  std::vector<std::size_t> sorted = a.permutation();
  std::sort(sorted.begin(), sorted.end());
  std::vector<std::size_t> identity(100);
  std::iota(identity.begin(), identity.end(), 0);
  EXPECT_EQ(sorted, identity);
  EXPECT_NE(a.permutation(), identity);
  EXPECT_GE(a.lambda(), 0.0);
  EXPECT_LE(a.lambda(), 1.0);
}

// Kolmogorov–Smirnov distance of `xs` from the CDF F.
template <class F>
double ks_distance(std::vector<double> xs, F cdf) {
  std::sort(xs.begin(), xs.end());
  double d = 0;
  const double n = double(xs.size());
  for (std::size_t i = 0; i < xs.size(); ++i) {
    d = std::max({d, std::abs(cdf(xs[i]) - double(i) / n), std::abs(double(i + 1) / n - cdf(xs[i]))});
  }
  return d;
}

TEST(SampleBeta, FollowsBetaDistributions) {
  xtgrad::Rng rng(2024);
  const std::size_t n = 20000;
  const double ks_limit = 1.95 / std::sqrt(double(n));  // the KS test's 0.1% critical value
  std::vector<double> xs(n);
  // Beta(1, 1) is uniform; Beta(2, 2) has CDF 3x² − 2x³
  for (double& x : xs) x = xtgrad::sample_beta(1.0, 1.0, rng);
  EXPECT_LT(ks_distance(xs, [](double x) { return x; }), ks_limit);
  for (double& x : xs) x = xtgrad::sample_beta(2.0, 2.0, rng);
  EXPECT_LT(ks_distance(xs, [](double x) { return 3 * x * x - 2 * x * x * x; }), ks_limit);
  // Beta(0.5, 0.5) (arcsine law): CDF (2/π)·asin(√x)
  for (double& x : xs) x = xtgrad::sample_beta(0.5, 0.5, rng);
  EXPECT_LT(ks_distance(xs, [](double x) { return 2 / M_PI * std::asin(std::sqrt(x)); }), ks_limit);
  // Beta(0.2, 0.2), mixup's usual α: mean ½, variance 1/(4(2α + 1)) = 1/5.6, all in [0, 1]
  double sum = 0, sum_sq = 0;
  for (double& x : xs) {
    x = xtgrad::sample_beta(0.2, 0.2, rng);
    ASSERT_TRUE(x >= 0 && x <= 1) << x;
    sum += x;
    sum_sq += x * x;
  }
  const double mean = sum / double(n), var = sum_sq / double(n) - mean * mean;
  EXPECT_NEAR(mean, 0.5, 5 * std::sqrt(1 / 5.6 / double(n)));
  EXPECT_NEAR(var, 1 / 5.6, 0.01);
  // Beta(3, 1): CDF x³ (asymmetric shapes keep their order)
  for (double& x : xs) x = xtgrad::sample_beta(3.0, 1.0, rng);
  EXPECT_LT(ks_distance(xs, [](double x) { return x * x * x; }), ks_limit);
}

TEST(Mixup, BadArgumentsAreRefusedNamingMixup) {
  for (const double alpha : {0.0, -0.2, std::numeric_limits<double>::quiet_NaN(), double(INFINITY)}) {
    expect_throws_with<std::invalid_argument>([&] { Mixup m(alpha); }, {"mixup: alpha must be finite and > 0"});
  }
  xtgrad::Rng rng(1);
  expect_throws_with<std::invalid_argument>([&] { xtgrad::sample_beta(0.0, 1.0, rng); }, {"sample_beta", "a = 0"});
  Mixup m(0.2);
  expect_throws_with<std::invalid_argument>([&] { m.set(1.5, {0, 1}); }, {"mixup: lambda must be in [0, 1]"});
  expect_throws_with<std::invalid_argument>([&] { m.set(0.5, {0, 0}); }, {"not a permutation", "entry 1 is 0"});
  expect_throws_with<std::invalid_argument>([&] { m.set(0.5, {0, 2}); }, {"not a permutation"});
  m.set(0.5, {1, 0});
  Tensor three_rows = uniform({3, 2}, 1, 0, 1);
  expect_throws_with<std::invalid_argument>([&] { m.mix_inputs(three_rows); }, {"mixup: inputs (3, 2)", "2 rows"});
  expect_throws_with<std::invalid_argument>(
      [&] { m.loss(ce, Variable(three_rows), Variable(three_rows)); }, {"mixup: targets (3, 2)"});
}

}  // namespace
