// Initializers: statistics of a (300, 400) draw, bounds, reproducibility, names and errors;
// float by default, double when asked (he_normal<double>).
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "test_util.hpp"
#include "xtgrad/core/core.hpp"
#include "xtgrad/nn/init.hpp"

namespace {

using xtgrad::Rng;
using xtgrad::Shape;
using Tensor = xtgrad::TensorOf<float>;
using xtgrad_test::expect_throws_with;
namespace nn = xtgrad::nn;

const Shape shape = {300, 400};  // a Linear weight (out, in): fan_in 400, fan_out 300, 120,000 draws

struct Stats {
  double mean, std, min, max;
};

template <class T>
Stats stats_of(const xtgrad::TensorOf<T>& t) {
  double sum = 0, sum_sq = 0, lo = INFINITY, hi = -INFINITY;
  for (double x : t) {
    sum += x;
    lo = std::min(lo, x);
    hi = std::max(hi, x);
  }
  const double mean = sum / static_cast<double>(t.size());
  for (double x : t) sum_sq += (x - mean) * (x - mean);
  return {mean, std::sqrt(sum_sq / static_cast<double>(t.size() - 1)), lo, hi};
}

// Mean within 0.02σ of 0 (the sample mean's sd is σ/√120000 ≈ 0.003σ), std within 3%.
template <class T>
void expect_stats(const xtgrad::TensorOf<T>& t, double target_std) {
  ASSERT_EQ(xtgrad::shape_str(t), "(300, 400)");
  const Stats s = stats_of(t);
  EXPECT_NEAR(s.mean, 0.0, 0.02 * target_std);
  EXPECT_NEAR(s.std, target_std, 0.03 * target_std);
}

// Uniform U(−a, a): every draw in [−a, a] (a draw just below a may round to T's nearest
// value of a), the extremes close to ±a, std a/√3.
template <class T>
void expect_uniform(const xtgrad::TensorOf<T>& t, double a) {
  expect_stats(t, a / std::sqrt(3.0));
  const Stats s = stats_of(t);
  EXPECT_GE(s.min, static_cast<double>(static_cast<T>(-a)));
  EXPECT_LE(s.max, static_cast<double>(static_cast<T>(a)));
  EXPECT_LT(s.min, -0.99 * a);
  EXPECT_GT(s.max, 0.99 * a);
}

TEST(Init, StdNormalIsGainTimesStandardNormal) {
  Rng rng(1);
  expect_stats(nn::std_normal(shape, rng, 0.01), 0.01);
  expect_stats(nn::std_normal(shape, rng, 1.0), 1.0);
}

TEST(Init, StdNormalTakesAnyShape) {
  Rng rng(1);
  EXPECT_EQ(xtgrad::shape_str(nn::std_normal({7}, rng, 0.5)), "(7)");
  EXPECT_EQ(xtgrad::shape_str(nn::std_normal({2, 3, 4}, rng, 0.5)), "(2, 3, 4)");
}

TEST(Init, HeNormalHasVarianceTwoOverFanIn) {
  Rng rng(2);
  expect_stats(nn::he_normal(shape, rng), std::sqrt(2.0 / 400));
}

TEST(Init, HeUniformIsBoundedBySqrtSixOverFanIn) {
  Rng rng(3);
  expect_uniform(nn::he_uniform(shape, rng), std::sqrt(6.0 / 400));
}

TEST(Init, GlorotNormalHasVarianceTwoOverFanSum) {
  Rng rng(4);
  expect_stats(nn::glorot_normal(shape, rng), std::sqrt(2.0 / 700));
}

TEST(Init, GlorotUniformIsBoundedBySqrtSixOverFanSum) {
  Rng rng(5);
  expect_uniform(nn::glorot_uniform(shape, rng), std::sqrt(6.0 / 700));
}

TEST(Init, ZerosHasTheShapeAndNothingElse) {
  const Tensor z = nn::zeros({3, 4});
  EXPECT_EQ(xtgrad::shape_str(z), "(3, 4)");
  for (double x : z) EXPECT_EQ(x, 0.0);
  EXPECT_EQ(xtgrad::shape_str(nn::zeros({5})), "(5)");
}

TEST(Init, SameSeedSameTensorOtherSeedOtherTensor) {
  for (const char* name : {"std_normal", "he_normal", "he_uniform", "glorot_normal", "glorot_uniform"}) {
    SCOPED_TRACE(name);
    const nn::Initializer init = nn::initializer_from_name(name);
    Rng a(42), b(42), c(43);
    const Tensor ta = init({20, 10}, a);
    const Tensor tb = init({20, 10}, b);
    const Tensor tc = init({20, 10}, c);
    xtgrad_test::expect_tensor_near(tb, ta, 0.0);
    EXPECT_NE(ta(0, 0), tc(0, 0));
    // The engine advanced: a second draw from the same Rng differs.
    EXPECT_NE(init({20, 10}, a)(0, 0), ta(0, 0));
  }
}

TEST(Init, NamesGiveTheSameDrawsAsTheFunctions) {
  const auto same = [](const std::string& name, Tensor (*direct)(const Shape&, Rng&)) {
    Rng a(7), b(7);
    xtgrad_test::expect_tensor_near(nn::initializer_from_name(name)({30, 20}, a), direct({30, 20}, b), 0.0);
  };
  same("he_normal", nn::he_normal);
  same("he_uniform", nn::he_uniform);
  same("glorot_normal", nn::glorot_normal);
  same("glorot_uniform", nn::glorot_uniform);
  Rng a(7), b(7);
  xtgrad_test::expect_tensor_near(nn::initializer_from_name("std_normal")({30, 20}, a),
                                  nn::std_normal({30, 20}, b, 0.01), 0.0);  // the seed's gain
}

TEST(Init, UnknownNameListsTheValidOnes) {
  expect_throws_with<std::invalid_argument>(
      [] { nn::initializer_from_name("xavier"); },
      {"'xavier'", "std_normal", "he_normal", "he_uniform", "glorot_normal", "glorot_uniform"});
}

TEST(Init, FanBasedRulesNeedATwoDimensionalShape) {
  Rng rng(1);
  expect_throws_with<std::invalid_argument>([&] { nn::he_normal({10}, rng); }, {"he_normal", "2-d", "(10)"});
  expect_throws_with<std::invalid_argument>([&] { nn::glorot_uniform({2, 3, 4}, rng); },
                                            {"glorot_uniform", "(2, 3, 4)"});
  expect_throws_with<std::invalid_argument>([&] { nn::he_uniform({0, 3}, rng); }, {"he_uniform", "(0, 3)"});
  const nn::Fans f = nn::fans_of({300, 400});  // a Linear weight (out, in), as PyTorch counts
  EXPECT_EQ(f.in, 400u);
  EXPECT_EQ(f.out, 300u);
  expect_throws_with<std::invalid_argument>([] { nn::fans_of({}); }, {"()"});
}

TEST(Init, DoubleDrawsFollowTheSameRules) {
  Rng rng(8);
  const xtgrad::TensorOf<double> w = nn::he_normal<double>(shape, rng);
  expect_stats(w, std::sqrt(2.0 / 400));
  expect_uniform(nn::glorot_uniform<double>(shape, rng), std::sqrt(6.0 / 700));
  Rng a(9), b(9);
  xtgrad_test::expect_tensor_near(nn::initializer_from_name<double>("he_uniform")({30, 20}, a),
                                  nn::he_uniform<double>({30, 20}, b), 0.0);
  for (double x : nn::zeros<double>({2, 2})) EXPECT_EQ(x, 0.0);
}

}  // namespace
