// randn and rand_uniform: reproducible for a seed, right moments, within bounds.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "xtgrad/core/core.hpp"
#include "test_util.hpp"

namespace xtgrad_test {

using namespace xtgrad;  // the names under test; Scalar, Tensor, Variable, ... are this program's (test_util.hpp)

namespace {

struct Moments {
  double mean, stddev;
};

Moments moments(const Tensor& t) {
  double s = 0, s2 = 0;
  for (std::size_t i = 0; i < t.size(); ++i) s += t.data()[i];
  const double mean = s / double(t.size());
  for (std::size_t i = 0; i < t.size(); ++i) s2 += (t.data()[i] - mean) * (t.data()[i] - mean);
  return {mean, std::sqrt(s2 / double(t.size() - 1))};
}

bool equal_tensors(const Tensor& a, const Tensor& b) {
  if (shape_of(a) != shape_of(b)) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a.data()[i] != b.data()[i]) return false;
  }
  return true;
}

TEST(Random, RandnHasTheRequestedShape) {
  Rng rng(1);
  Tensor t = randn<Scalar>({3, 4, 5}, rng);
  EXPECT_EQ(shape_of(t), (Shape{3, 4, 5}));
  Tensor s = randn<Scalar>({}, rng);
  EXPECT_EQ(s.size(), 1u);
}

TEST(Random, RandnSameSeedSameDraws) {
  Rng a(123), b(123);
  EXPECT_TRUE(equal_tensors(randn<Scalar>({10, 10}, a), randn<Scalar>({10, 10}, b)));
  // And the engines stay in step afterwards.
  EXPECT_TRUE(equal_tensors(randn<Scalar>({5}, a), randn<Scalar>({5}, b)));
}

TEST(Random, RandnDifferentSeedDifferentDraws) {
  Rng a(123), b(124);
  EXPECT_FALSE(equal_tensors(randn<Scalar>({10, 10}, a), randn<Scalar>({10, 10}, b)));
}

TEST(Random, SuccessiveDrawsFromOneEngineDiffer) {
  Rng rng(7);
  Tensor first = randn<Scalar>({8}, rng);
  EXPECT_FALSE(equal_tensors(first, randn<Scalar>({8}, rng)));
}

TEST(Random, StandardNormalMomentsOverOneHundredThousandDraws) {
  Rng rng(2024);
  const Moments m = moments(randn<Scalar>({100000}, rng));
  // Standard errors: 1/√n ≈ 0.0032 for the mean, ≈ 0.0022 for the std.
  EXPECT_NEAR(m.mean, 0.0, 0.02);
  EXPECT_NEAR(m.stddev, 1.0, 0.02);
}

TEST(Random, ShiftedAndScaledNormalMoments) {
  Rng rng(5);
  const Moments m = moments(randn<Scalar>({100000}, rng, 3.0, 0.01));
  EXPECT_NEAR(m.mean, 3.0, 0.001);
  EXPECT_NEAR(m.stddev, 0.01, 0.0005);
}

TEST(Random, RandUniformStaysWithinBoundsWithUniformMoments) {
  Rng rng(9);
  const double low = -2.5, high = 1.5;
  Tensor t = rand_uniform<Scalar>({100000}, rng, low, high);
  double lo = t.data()[0], hi = t.data()[0];
  for (std::size_t i = 0; i < t.size(); ++i) {
    ASSERT_GE(t.data()[i], low) << "at " << i;
    ASSERT_LT(t.data()[i], high) << "at " << i;
    lo = std::min<double>(lo, t.data()[i]);
    hi = std::max<double>(hi, t.data()[i]);
  }
  // The range is nearly covered.
  EXPECT_LT(lo, low + 0.01);
  EXPECT_GT(hi, high - 0.01);
  const Moments m = moments(t);
  EXPECT_NEAR(m.mean, (low + high) / 2, 0.02);
  EXPECT_NEAR(m.stddev, (high - low) / std::sqrt(12.0), 0.02);
}

TEST(Random, RandUniformDefaultIsTheUnitInterval) {
  Rng rng(11);
  Tensor t = rand_uniform<Scalar>({1000}, rng);
  for (std::size_t i = 0; i < t.size(); ++i) {
    EXPECT_GE(t.data()[i], 0.0);
    EXPECT_LT(t.data()[i], 1.0);
  }
}

TEST(Random, RandUniformSameSeedSameDraws) {
  Rng a(77), b(77), c(78);
  const Tensor ta = rand_uniform<Scalar>({50}, a), tb = rand_uniform<Scalar>({50}, b), tc = rand_uniform<Scalar>({50}, c);
  EXPECT_TRUE(equal_tensors(ta, tb));
  EXPECT_FALSE(equal_tensors(ta, tc));
}

}  // namespace
}  // namespace xtgrad_test
