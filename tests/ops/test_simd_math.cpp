// exp, softmax, log(softmax), log_softmax, cross_entropy and sigmoid at arguments whose
// exponential is subnormal: the value depends only on the input, never on its position in the
// tensor (xsimd's exp flushed these to 0 while xtensor's scalar tail did not).
#include <cmath>
#include <cstddef>
#include <vector>

#include "test_util.hpp"

namespace xtgrad_test {
namespace {

// A (size) tensor of `fill` with `value` at position `at`.
Tensor one_at(std::size_t size, std::size_t at, double value, double fill = 0.0) {
  Tensor t = filled({size}, fill);
  t(at) = value;
  return t;
}

TEST(ExpPosition, SubnormalResultIsTheSameAtEveryPositionOfEverySize) {
  for (double x : {-708.5, -710.04, -720.0, -744.0}) {
    const double expected = std::exp(x);
    ASSERT_GT(expected, 0.0);
    for (std::size_t size = 1; size <= 33; ++size) {
      for (std::size_t at = 0; at < size; ++at) {
        const Tensor y = xtgrad::exp(Variable(one_at(size, at, x))).value();
        ASSERT_EQ(y(at), expected) << "x " << x << " at " << at << " of " << size;
      }
    }
  }
}

TEST(ExpPosition, AgreesWithStdExpAcrossTheSubnormalThreshold) {
  // 40 lanes: full SIMD batches and a tail; steps of 0.05 around ln(DBL_MIN) ≈ −708.396
  Tensor x = Tensor::from_shape({1000});
  for (std::size_t i = 0; i < x.size(); ++i) x(i) = -745.0 + 0.05 * double(i);
  const Tensor y = xtgrad::exp(Variable(x)).value();
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double e = std::exp(x(i));
    ASSERT_NEAR(y(i), e, 4e-16 * e) << "x = " << x(i);
    ASSERT_EQ(y(i) == 0.0, e == 0.0) << "x = " << x(i);
  }
}

TEST(ExpPosition, OrdinaryArgumentsStillMatchStdExp) {
  const Tensor x = uniform({7, 13}, 1, -50, 50);
  const Tensor y = xtgrad::exp(Variable(x)).value();
  for (std::size_t i = 0; i < x.size(); ++i) EXPECT_NEAR(y.data()[i], std::exp(x.data()[i]), 3e-16 * y.data()[i]);
}

TEST(ExpPosition, GradientOfExpAtASubnormalResultIsThatResult) {
  const Variable x = Variable::parameter(Tensor{-710.04, 0.0, 1.0});
  xtgrad::sum(xtgrad::exp(x)).backward();
  EXPECT_EQ(x.grad()(0), std::exp(-710.04));
}

TEST(LogPosition, SubnormalArgumentGivesTheSameExactLogAtEveryPosition) {
  for (double x : {4.3e-309, 2.2e-308, 5e-324, 1e-310}) {
    for (std::size_t size = 1; size <= 33; ++size) {
      for (std::size_t at = 0; at < size; ++at) {
        const Tensor y = xtgrad::log(Variable(one_at(size, at, x, 1.0))).value();
        ASSERT_EQ(y(at), std::log(x)) << "x " << x << " at " << at << " of " << size;
      }
    }
  }
}

TEST(LogPosition, OrdinaryArgumentsStillMatchStdLog) {
  const Tensor x = uniform({7, 13}, 2, 1e-3, 1e3);
  const Tensor y = xtgrad::log(Variable(x)).value();
  for (std::size_t i = 0; i < x.size(); ++i) EXPECT_NEAR(y.data()[i], std::log(x.data()[i]), 1e-15 * 7);
}

TEST(LogOfSoftmax, TheIssueRowGivesMinus710NotMinusInfinity) {
  // log softmax(146.94, 856.98)₀ = 146.94 − 856.98 − log(1 + e^(146.94 − 856.98)) = −710.04
  const Tensor z{{146.94, 856.98}};
  const Tensor y = xtgrad::log(xtgrad::softmax(Variable(z))).value();
  EXPECT_NEAR(y(0, 0), -710.04, 1e-9);
  EXPECT_EQ(y(0, 1), 0.0);
  expect_tensor_near(xtgrad::log_softmax(Variable(z)).value(), Tensor{{-710.04, 0.0}}, 1e-9);
}

TEST(LogOfSoftmax, IsFiniteForTheSameRowAtEveryPositionOfABatch) {
  for (std::size_t rows = 1; rows <= 9; ++rows) {
    for (std::size_t at = 0; at < rows; ++at) {
      Tensor z = filled({rows, 2}, 1.0);
      z(at, 0) = 146.94;
      z(at, 1) = 856.98;
      const Tensor p = xtgrad::softmax(Variable(z)).value();
      ASSERT_EQ(p(at, 0), std::exp(146.94 - 856.98)) << at << " of " << rows;
      ASSERT_NEAR(xtgrad::log(xtgrad::softmax(Variable(z))).value()(at, 0), -710.04, 1e-9);
      // along axis 0 the same row is a column: (2, rows)
      const Tensor pt = xtgrad::softmax(Variable(xtgrad::transpose(Variable(z)).value()), 0).value();
      ASSERT_EQ(pt(0, at), std::exp(146.94 - 856.98)) << at << " of " << rows;
    }
  }
}

TEST(LogSoftmaxFinite, HugeFiniteLogitsGiveFiniteValuesAndGradients) {
  // |x − max| up to 2e300: representable, so finite (only |x − max| > DBL_MAX overflows)
  const Variable z = Variable::parameter(Tensor{{1e300, -1e300, 0.0}, {-5e299, 7.0, 146.94}});
  const Variable y = xtgrad::log_softmax(z);
  expect_all_finite(y.value());
  EXPECT_EQ(y.value()(0, 1), -2e300);
  xtgrad::sum(y * Variable(Tensor{{1.0, 2.0, 3.0}, {4.0, 5.0, 6.0}})).backward();
  expect_all_finite(z.grad());
}

TEST(CrossEntropyFinite, TheIssueRowGivesAFiniteLossAndTheSubnormalProbability) {
  const Variable z = Variable::parameter(Tensor{{146.94, 856.98}, {0.0, 0.0}, {1.0, 2.0}});
  const Variable loss = xtgrad::cross_entropy(z, std::vector<std::size_t>{0, 1, 0});
  const double row2 = std::log(1 + std::exp(1.0));  // −log softmax(1, 2)₀
  EXPECT_NEAR(loss.item(), (710.04 + std::log(2.0) + row2) / 3, 1e-9);
  loss.backward();
  expect_all_finite(z.grad());
  // dz = (p − onehot)/n; p₀ = e^(−710.04) is subnormal and kept
  EXPECT_EQ(z.grad()(0, 0), (std::exp(146.94 - 856.98) - 1.0) / 3);
  EXPECT_NEAR(z.grad()(0, 1), 1.0 / 3, 1e-15);
}

TEST(CrossEntropyFinite, HugeFiniteLogitsGiveFiniteLossAndGradients) {
  const Variable z = Variable::parameter(Tensor{{1e300, -1e300, 0.0}, {-1e299, 1e299, 3.0}});
  const Variable loss = xtgrad::cross_entropy(z, std::vector<std::size_t>{1, 0});
  EXPECT_TRUE(std::isfinite(loss.item()));
  EXPECT_NEAR(loss.item(), (2e300 + 2e299) / 2, 1e286);
  loss.backward();
  expect_all_finite(z.grad());
}

TEST(SigmoidPosition, DeepNegativeArgumentGivesTheSameSubnormalAtEveryPosition) {
  const double expected = std::exp(-710.0) / (1 + std::exp(-710.0));
  for (std::size_t size = 1; size <= 17; ++size) {
    for (std::size_t at = 0; at < size; ++at) {
      ASSERT_EQ(xtgrad::sigmoid(Variable(one_at(size, at, -710.0))).value()(at), expected) << at << " of " << size;
    }
  }
}

}  // namespace
}  // namespace xtgrad_test
