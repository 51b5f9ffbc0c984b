// nn/metrics: calibration bins and ECE on hand-made predictions, NLL against log_softmax,
// weight statistics, Student's t quantiles against closed forms and published table values, and
// the confidence intervals built on them.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "test_util.hpp"
#include "xtgrad/nn/layers.hpp"
#include "xtgrad/nn/metrics.hpp"

namespace xtgrad_test {
namespace {

using namespace xtgrad::nn;
using xtgrad_test::make_tensor;

// ---- calibration ----

TEST(CalibrationBins, PutsEachPredictionInTheBinOfItsConfidenceWithRightClosedEdges) {
  // confidences 0.95 (right), 0.6 (wrong: predicts 1, label 0), 0.6 (right), 0.2 exactly on an
  // edge of 5 bins: (0, 0.2] → bin 0
  const Tensor p = make_tensor({4, 5}, {0.95, 0.05, 0, 0, 0,   //
                                        0.4, 0.6, 0, 0, 0,     //
                                        0.6, 0.4, 0, 0, 0,     //
                                        0.2, 0.2, 0.2, 0.2, 0.2});
  const std::vector<CalibrationBin> bins = calibration_bins(p, {0, 0, 0, 3}, 5);
  ASSERT_EQ(bins.size(), 5u);
  EXPECT_EQ(bins[0].count, 1u);  // 0.2: ties go to the first class, 0 ≠ 3
  EXPECT_DOUBLE_EQ(bins[0].confidence, 0.2);
  EXPECT_DOUBLE_EQ(bins[0].accuracy, 0.0);
  EXPECT_EQ(bins[1].count, 0u);
  EXPECT_EQ(bins[2].count, 2u);  // (0.4, 0.6]
  EXPECT_DOUBLE_EQ(bins[2].confidence, 0.6);
  EXPECT_DOUBLE_EQ(bins[2].accuracy, 0.5);
  EXPECT_EQ(bins[4].count, 1u);
  EXPECT_DOUBLE_EQ(bins[4].lower, 0.8);
  EXPECT_DOUBLE_EQ(bins[4].upper, 1.0);
}

TEST(ExpectedCalibrationError, IsTheCountWeightedGapBetweenAccuracyAndConfidence) {
  const Tensor p = make_tensor({4, 2}, {0.9, 0.1, 0.9, 0.1, 0.7, 0.3, 0.3, 0.7});
  // 15 bins: 0.9 ×2 in (0.8667, 0.9333], one right one wrong → |0.5 − 0.9|; 0.7 ×2 in
  // (0.6667, 0.7333], both right → |1 − 0.7|
  const double ece = expected_calibration_error(p, {0, 1, 0, 1});
  EXPECT_NEAR(ece, 0.5 * 0.4 + 0.5 * 0.3, 1e-15);
}

TEST(ExpectedCalibrationError, IsZeroWhenConfidenceMatchesAccuracyAndOneWhenSureAndAlwaysWrong) {
  // four predictions at confidence 0.75, three of them right
  const Tensor calibrated = make_tensor({4, 2}, {0.75, 0.25, 0.75, 0.25, 0.75, 0.25, 0.25, 0.75});
  EXPECT_NEAR(expected_calibration_error(calibrated, {0, 0, 0, 0}), 0.0, 1e-15);
  const Tensor sure = make_tensor({2, 2}, {1, 0, 0, 1});
  EXPECT_DOUBLE_EQ(expected_calibration_error(sure, {1, 0}), 1.0);
}

TEST(ExpectedCalibrationError, WorksInFloat) {
  xtgrad::TensorOf<float> p = xtgrad::TensorOf<float>::from_shape({2, 2});
  const float values[] = {0.9f, 0.1f, 0.2f, 0.8f};
  std::copy(values, values + 4, p.data());
  EXPECT_NEAR(expected_calibration_error(p, {0, 0}), 0.5 * 0.1 + 0.5 * 0.8, 1e-6);
}

TEST(ExpectedCalibrationError, RefusesBadShapesLabelsAndBins) {
  const Tensor p = make_tensor({2, 2}, {0.9, 0.1, 0.2, 0.8});
  expect_throws_with<std::invalid_argument>([&] { expected_calibration_error(p, {0}); },
                                            {"calibration_bins", "(2, 2)", "1 labels"});
  expect_throws_with<std::invalid_argument>([&] { expected_calibration_error(p, {0, 2}); },
                                            {"calibration_bins", "label 2", "row 1"});
  expect_throws_with<std::invalid_argument>([&] { expected_calibration_error(p, {0, 1}, 0); },
                                            {"calibration_bins", "bins"});
  expect_throws_with<std::invalid_argument>([&] { expected_calibration_error(make_tensor({2}, {1, 0}), {0, 1}); },
                                            {"calibration_bins", "(2)"});
}

TEST(NegativeLogLikelihood, IsTheMeanOfMinusTheLabelsLogProbability) {
  const Tensor logits = make_tensor({3, 3}, {2, 1, 0, 0, 0, 0, -1, 3, 0.5});
  const Tensor lp = xtgrad::log_softmax(Variable(logits), -1).value();
  const std::vector<std::size_t> labels{0, 2, 1};
  const double expected = -(std::log(std::exp(2.0) / (std::exp(2.0) + std::exp(1.0) + 1)) + std::log(1.0 / 3) +
                            std::log(std::exp(3.0) / (std::exp(-1.0) + std::exp(3.0) + std::exp(0.5)))) /
                          3;
  EXPECT_NEAR(negative_log_likelihood(lp, labels), expected, 1e-14);
  // the same number as the cross-entropy of the logits against one-hot labels
  const Tensor one_hot = make_tensor({3, 3}, {1, 0, 0, 0, 0, 1, 0, 1, 0});
  EXPECT_NEAR(negative_log_likelihood(lp, labels), xtgrad::cross_entropy(Variable(logits), Variable(one_hot)).item(),
              1e-14);
  expect_throws_with<std::invalid_argument>([&] { negative_log_likelihood(lp, {0, 3, 1}); },
                                            {"negative_log_likelihood", "label 3"});
}

TEST(LogProbabilities, IsLogSoftmaxOfTheModelBatchByBatchInEvalModeWithoutAGraph) {
  xtgrad::Rng rng(7);
  BasicLinear<Scalar> model(4, 3, rng);
  model.train();
  const Tensor x = uniform({5, 4}, 8, -1, 1);
  const Tensor whole = xtgrad::log_softmax(model(Variable(x)), -1).value();
  const Tensor batched = log_probabilities(model, x, 2);  // batches of 2, 2, 1
  expect_tensor_near(batched, whole, 1e-14);
  EXPECT_TRUE(model.is_training());  // its mode restored
  EXPECT_FALSE(model.weight.has_grad());
  expect_throws_with<std::invalid_argument>([&] { log_probabilities(model, x, 0); }, {"log_probabilities", "batch"});
}

// ---- weights ----

TEST(WeightStatistics, CountsZerosNormsAndDeadUnitsPerTensor) {
  const Variable w = Variable::parameter(make_tensor({3, 2}, {0, 0, 3, -4, 0, 1}));  // (out, in): unit 0 dead
  const Variable b = Variable::parameter(make_tensor({3}, {0, 1, 0}));
  const Variable conv = Variable::parameter(make_tensor({2, 1, 1, 2}, {0, 0, 0, 0}));  // both filters dead
  const std::vector<WeightStats> s = weight_statistics<Scalar>({{"fc.weight", w}, {"fc.bias", b}, {"conv.weight", conv}});
  ASSERT_EQ(s.size(), 3u);
  EXPECT_EQ(s[0].name, "fc.weight");
  EXPECT_EQ(s[0].shape, (Shape{3, 2}));
  EXPECT_EQ(s[0].count, 6u);
  EXPECT_EQ(s[0].exact_zeros, 3u);
  EXPECT_DOUBLE_EQ(s[0].l1, 8.0);
  EXPECT_DOUBLE_EQ(s[0].l2, std::sqrt(26.0));
  EXPECT_DOUBLE_EQ(s[0].max_abs, 4.0);
  EXPECT_EQ(s[0].units, 3u);
  EXPECT_EQ(s[0].dead_units, 1u);
  EXPECT_EQ(s[1].units, 0u);  // a bias has no units
  EXPECT_EQ(s[1].dead_units, 0u);
  EXPECT_EQ(s[1].exact_zeros, 2u);
  EXPECT_EQ(s[2].units, 2u);
  EXPECT_EQ(s[2].dead_units, 2u);
}

// ---- Student's t ----

TEST(StudentT, QuantileMatchesTheClosedFormsForOneAndTwoDegreesOfFreedom) {
  const double pi = std::acos(-1.0);
  for (const double p : {0.6, 0.9, 0.975, 0.995, 0.3, 0.01}) {
    SCOPED_TRACE(p);
    EXPECT_NEAR(student_t_quantile(p, 1), std::tan(pi * (p - 0.5)), 1e-11 * std::abs(std::tan(pi * (p - 0.5))));
    const double two = (2 * p - 1) / std::sqrt(2 * p * (1 - p));
    EXPECT_NEAR(student_t_quantile(p, 2), two, 1e-11 * std::abs(two));
  }
  EXPECT_EQ(student_t_quantile(0.5, 3), 0.0);
}

TEST(StudentT, QuantileMatchesPublishedTableValues) {
  // two-sided 95% (p = 0.975), 90% (0.95) and 99% (0.995) critical values, to 9 or 10 digits
  EXPECT_NEAR(student_t_quantile(0.975, 4), 2.776445105, 1e-9);
  EXPECT_NEAR(student_t_quantile(0.975, 2), 4.302652730, 1e-9);
  EXPECT_NEAR(student_t_quantile(0.975, 9), 2.262157163, 1e-9);
  EXPECT_NEAR(student_t_quantile(0.975, 30), 2.042272456, 1e-9);
  EXPECT_NEAR(student_t_quantile(0.95, 10), 1.812461123, 1e-9);
  EXPECT_NEAR(student_t_quantile(0.995, 5), 4.032142984, 1e-9);
  // towards the normal's 1.959963985 as the degrees of freedom grow
  EXPECT_NEAR(student_t_quantile(0.975, 1e7), 1.959963985, 1e-6);
}

TEST(StudentT, CdfIsSymmetricAndInvertsTheQuantile) {
  for (const double dof : {1.0, 3.0, 4.5, 29.0}) {
    EXPECT_NEAR(student_t_cdf(1.3, dof) + student_t_cdf(-1.3, dof), 1.0, 1e-14);
    EXPECT_EQ(student_t_cdf(0, dof), 0.5);
    for (const double p : {0.025, 0.2, 0.8, 0.975}) EXPECT_NEAR(student_t_cdf(student_t_quantile(p, dof), dof), p, 1e-13);
  }
  EXPECT_NEAR(student_t_cdf(1.0, 1), 0.75, 1e-15);  // Cauchy: ½ + atan(1)/π
}

TEST(StudentT, RefusesBadArguments) {
  expect_throws_with<std::invalid_argument>([] { student_t_quantile(1.0, 3); }, {"student_t_quantile", "p"});
  expect_throws_with<std::invalid_argument>([] { student_t_quantile(0.0, 3); }, {"student_t_quantile", "p"});
  expect_throws_with<std::invalid_argument>([] { student_t_quantile(0.9, 0); }, {"student_t_quantile", "degrees"});
  expect_throws_with<std::invalid_argument>([] { student_t_cdf(0.9, NAN); }, {"student_t_cdf", "degrees"});
}

// ---- intervals ----

TEST(MeanConfidenceInterval, IsTheMeanPlusMinusTTimesTheStandardError) {
  const std::vector<double> v{0.97, 0.975, 0.972, 0.969, 0.974};
  const ConfidenceInterval ci = mean_confidence_interval(v);
  const double mean = 0.972;
  double ss = 0;
  for (double x : v) ss += (x - mean) * (x - mean);
  const double se = std::sqrt(ss / 4 / 5);
  EXPECT_NEAR(ci.mean, mean, 1e-15);
  EXPECT_NEAR(ci.half_width, 2.776445105 * se, 1e-9 * se);
  EXPECT_NEAR(ci.lower, mean - ci.half_width, 1e-15);
  EXPECT_NEAR(ci.upper, mean + ci.half_width, 1e-15);
  EXPECT_EQ(ci.n, 5u);
  EXPECT_TRUE(ci.excludes_zero());
  // 90%: narrower
  EXPECT_LT(mean_confidence_interval(v, 0.9).half_width, ci.half_width);
}

TEST(MeanConfidenceInterval, RefusesFewerThanTwoValuesNonFiniteValuesAndBadLevels) {
  expect_throws_with<std::invalid_argument>([] { mean_confidence_interval({0.5}); }, {"at least 2", "got 1"});
  expect_throws_with<std::invalid_argument>([] { mean_confidence_interval({0.5, NAN}); }, {"value 1", "not finite"});
  expect_throws_with<std::invalid_argument>([] { mean_confidence_interval({0.5, 0.6}, 1.0); }, {"level"});
}

TEST(PairedDifferenceInterval, CancelsWhatBothRunsOfASeedShare) {
  // b = a + 0.001 with seed-to-seed spread far larger than 0.001: the paired interval is exact
  // (zero width) and excludes 0, while the unpaired intervals overlap.
  const std::vector<double> a{0.95, 0.97, 0.93, 0.96}, b{0.951, 0.971, 0.931, 0.961};
  const ConfidenceInterval d = paired_difference_interval(b, a);
  EXPECT_NEAR(d.mean, 0.001, 1e-12);
  EXPECT_NEAR(d.half_width, 0.0, 1e-9);
  EXPECT_TRUE(d.excludes_zero());
  EXPECT_LT(mean_confidence_interval(b).lower, mean_confidence_interval(a).upper);
  // differences 0.01, −0.01, 0.02, −0.02: centred on 0
  const ConfidenceInterval e = paired_difference_interval({0.96, 0.96, 0.95, 0.94}, {0.95, 0.97, 0.93, 0.96});
  EXPECT_NEAR(e.mean, 0.0, 1e-12);
  EXPECT_FALSE(e.excludes_zero());
  expect_throws_with<std::invalid_argument>([] { paired_difference_interval({1, 2, 3}, {1, 2}); },
                                            {"paired_difference_interval", "3 values against 2"});
}

TEST(ComparePaired, EveryMethodGetsItsIntervalAndItsPairedDifferenceFromTheBaseline) {
  // three methods over four seeds; method 1 = method 0 + 0.001 exactly, method 2 unrelated
  const std::vector<std::vector<double>> acc{{0.95, 0.97, 0.93, 0.96}, {0.951, 0.971, 0.931, 0.961},
                                             {0.96, 0.96, 0.95, 0.94}};
  const auto table = compare_paired(acc, 0);
  ASSERT_EQ(table.size(), 3u);
  EXPECT_FALSE(table[0].difference.has_value());  // the baseline itself
  ASSERT_TRUE(table[1].difference.has_value());
  EXPECT_NEAR(table[1].difference->mean, 0.001, 1e-12);
  EXPECT_TRUE(table[1].difference->excludes_zero());
  EXPECT_NEAR(table[2].difference->mean, 0.0, 1e-12);
  EXPECT_FALSE(table[2].difference->excludes_zero());
  for (std::size_t m = 0; m < 3; ++m) {
    EXPECT_EQ(table[m].values, acc[m]);
    EXPECT_EQ(table[m].interval.mean, mean_confidence_interval(acc[m]).mean);
    EXPECT_EQ(table[m].interval.half_width, mean_confidence_interval(acc[m]).half_width);
  }
  // the baseline is a choice: against method 2, method 0's difference is −(2's against 0)
  EXPECT_NEAR(compare_paired(acc, 2)[0].difference->mean, -table[2].difference->mean, 1e-15);
  // no baseline: no differences
  for (const auto& row : compare_paired(acc, std::size_t(-1))) EXPECT_FALSE(row.difference.has_value());
  expect_throws_with<std::invalid_argument>([] { compare_paired({{1, 2, 3}, {1, 2, 3}, {1, 2}}, 0); },
                                            {"compare_paired", "method 2 has 2 values, method 0 has 3"});
  expect_throws_with<std::invalid_argument>([] { compare_paired({{1}, {2}}, 0); }, {"2"});
}

}  // namespace
}  // namespace xtgrad_test
