// Activations and softmax / log-softmax: values, gradient checks, extreme inputs, axis errors.
#include <cmath>
#include <limits>
#include <stdexcept>

#include "test_util.hpp"

namespace xtgrad_test {
namespace {

using Vars = std::vector<Variable>;

// A regression matrix for an xtensor bug (Debian bookworm's xtensor; upstream xtensor#2737): a
// lazy keep_dims reducer inside a broadcast, `a - xt::amax(a, {1}, xt::keep_dims)`, gives wrong
// rows for it at -O2 (and a heap over-read under ASan); softmax's `exp(x - amax(...))` is hit too.
const Tensor kProbe{{1.0, 5.0, 2.0}, {7.0, 0.0, 3.0}, {2.0, 2.0, 9.0}};
const Tensor kHuge{{1000.0, -1000.0, 0.0}, {-1000.0, 1000.0, 999.0}};

// ---- sigmoid ------------------------------------------------------------------------------

TEST(Sigmoid, MatchesHandValues) {
  // σ(0) = 1/2, σ(2) = 1/(1+e⁻²), σ(−2) = 1 − σ(2)
  expect_tensor_near(xtgrad::sigmoid(Variable(Tensor{0.0, 2.0, -2.0})).value(),
                     Tensor{0.5, 0.8807970779778823, 0.11920292202211755}, 1e-15);
}

TEST(Sigmoid, SaturatesExactlyAtPlusMinus1000WithoutNaN) {
  const Variable x = Variable::parameter(Tensor{1000.0, -1000.0, 800.0, -800.0});
  const Variable y = xtgrad::sigmoid(x);
  EXPECT_EQ(y.value()(0), 1.0);
  EXPECT_EQ(y.value()(1), 0.0);
  EXPECT_EQ(y.value()(2), 1.0);
  EXPECT_EQ(y.value()(3), 0.0);
  xtgrad::sum(y).backward();
  expect_all_finite(x.grad());
  expect_tensor_near(x.grad(), Tensor{0.0, 0.0, 0.0, 0.0}, 0.0);
}

TEST(Sigmoid, PassesGradcheck) {
  expect_gradcheck([](const Vars& v) { return xtgrad::sigmoid(v[0]); }, {uniform({2, 3}, 1, -4, 4)});
}

// ---- tanh ---------------------------------------------------------------------------------

TEST(Tanh, MatchesHandValues) {
  expect_tensor_near(xtgrad::tanh(Variable(Tensor{0.0, 0.5, -1.0})).value(),
                     Tensor{0.0, 0.46211715726000974, -0.7615941559557649}, 1e-15);
}

TEST(Tanh, PassesGradcheck) {
  expect_gradcheck([](const Vars& v) { return xtgrad::tanh(v[0]); }, {uniform({2, 3}, 2, -2, 2)});
}

// ---- relu ---------------------------------------------------------------------------------

TEST(Relu, MatchesHandValuesWithZeroSubgradientAtZero) {
  const Variable x = Variable::parameter(Tensor{-1.0, 0.0, 2.0, 0.5});
  const Variable y = xtgrad::relu(x);
  expect_tensor_near(y.value(), Tensor{0.0, 0.0, 2.0, 0.5});
  xtgrad::sum(y).backward();
  expect_tensor_near(x.grad(), Tensor{0.0, 0.0, 1.0, 1.0});
}

TEST(Relu, KeepsNaNAsNaN) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const Tensor y = xtgrad::relu(Variable(Tensor{nan, -1.0, 3.0})).value();
  EXPECT_TRUE(std::isnan(y(0)));
  EXPECT_NEAR(y(1), 0.0, 0.0);
  EXPECT_NEAR(y(2), 3.0, 0.0);
}

TEST(Relu, SameValuesInSimdBatchesAndTailAtEveryPosition) {
  // NaN, −0, ±tiny and ordinary values at each position of sizes 1..40: the SIMD batches and
  // the scalar tail give x ≤ 0 → +0, else x, NaN kept
  const double nan = std::numeric_limits<double>::quiet_NaN();
  for (double v : {nan, -0.0, -1e-300, 1e-300, -2.5, 2.5}) {
    for (std::size_t size = 1; size <= 40; ++size) {
      for (std::size_t at = 0; at < size; ++at) {
        Tensor x = uniform({size}, size, -1, 1);
        x(at) = v;
        const Tensor y = xtgrad::relu(Variable(x)).value();
        for (std::size_t i = 0; i < size; ++i) {
          if (std::isnan(x(i))) {
            ASSERT_TRUE(std::isnan(y(i))) << "size " << size << " at " << i;
          } else {
            const double expected = x(i) <= 0 ? 0.0 : x(i);
            ASSERT_EQ(y(i), expected) << "size " << size << " at " << i;
            ASSERT_FALSE(std::signbit(y(i))) << "size " << size << " at " << i;
          }
        }
      }
    }
  }
}

TEST(Relu, PassesGradcheckAwayFromTheKink) {
  expect_gradcheck([](const Vars& v) { return xtgrad::relu(v[0]); }, {away_from_zero({3, 4}, 3)});
}

// ---- affine -------------------------------------------------------------------------------

TEST(Affine, MatchesHandValues) {
  // 2x − 1
  expect_tensor_near(xtgrad::affine(Variable(Tensor{1.0, 2.0, -1.0}), 2.0, -1.0).value(), Tensor{1.0, 3.0, -3.0});
}

TEST(Affine, PassesGradcheck) {
  expect_gradcheck([](const Vars& v) { return xtgrad::affine(v[0], -1.5, 0.25); }, {uniform({2, 3}, 4, -1, 1)});
}

// ---- softmax ------------------------------------------------------------------------------

TEST(Softmax, LastAxisMatchesHandValuesOnTheProbeMatrix) {
  const Tensor expected{{0.01714782554552039, 0.9362395518765058, 0.0466126225779739},
                        {0.9811352024343174, 0.0008946794968705335, 0.017970118068812064},
                        {0.0009102219356190301, 0.0009102219356190301, 0.9981795561287621}};
  expect_tensor_near(xtgrad::softmax(Variable(kProbe)).value(), expected, 1e-14);
  expect_tensor_near(xtgrad::softmax(Variable(kProbe), 1).value(), expected, 1e-14);
}

TEST(Softmax, AxisZeroMatchesHandValuesOnTheProbeMatrix) {
  const Tensor expected{{0.002456114904450954, 0.9464991225528937, 0.000908800555363033},
                        {0.9908674725821728, 0.006377460922442298, 0.002470376035336821},
                        {0.006676412513376452, 0.047123416524664154, 0.9966208234093}};
  expect_tensor_near(xtgrad::softmax(Variable(kProbe), 0).value(), expected, 1e-14);
  expect_tensor_near(xtgrad::softmax(Variable(kProbe), -2).value(), expected, 1e-14);
}

TEST(Softmax, HugeLogitsGiveFiniteCorrectValuesAndGradients) {
  const Variable x = Variable::parameter(kHuge);
  const Variable y = xtgrad::softmax(x);
  // row 1: e⁰ : e⁻¹ after the max shift
  const double p = 0.7310585786300049;
  expect_tensor_near(y.value(), Tensor{{1.0, 0.0, 0.0}, {0.0, p, 1.0 - p}}, 1e-15);
  y.backward(Tensor{{1.0, 2.0, 3.0}, {4.0, 5.0, 6.0}});
  expect_all_finite(x.grad());
  // dx = y ⊙ (g − Σ g⊙y): row 0 is 0, row 1 is (0, p(5 − s), (1−p)(6 − s)) with s = 5p + 6(1−p)
  const double s = 5 * p + 6 * (1 - p);
  expect_tensor_near(x.grad(), Tensor{{0.0, 0.0, 0.0}, {0.0, p * (5 - s), (1 - p) * (6 - s)}}, 1e-14);
}

TEST(Softmax, HugeLogitsAlongAxisZeroAreFinite) {
  const Variable x = Variable::parameter(kHuge);
  const Variable y = xtgrad::softmax(x, 0);
  expect_tensor_near(y.value(), Tensor{{1.0, 0.0, 0.0}, {0.0, 1.0, 1.0}}, 1e-15);
  y.backward(Tensor{{1.0, 2.0, 3.0}, {4.0, 5.0, 6.0}});
  expect_all_finite(x.grad());
}

TEST(Softmax, PassesGradcheckAlongEachAxis) {
  const Tensor x = uniform({3, 4}, 5, -2, 2);
  expect_gradcheck([](const Vars& v) { return xtgrad::softmax(v[0]); }, {x});
  expect_gradcheck([](const Vars& v) { return xtgrad::softmax(v[0], 0); }, {x});
  // the middle axis of a 3-d tensor
  expect_gradcheck([](const Vars& v) { return xtgrad::softmax(v[0], 1); }, {uniform({2, 3, 2}, 6, -2, 2)});
}

// ---- log_softmax --------------------------------------------------------------------------

TEST(LogSoftmax, LastAxisMatchesHandValuesOnTheProbeMatrix) {
  const Tensor expected{{-4.065883903757429, -0.06588390375742911, -3.0658839037574293},
                        {-0.019045007879257444, -7.0190450078792574, -4.0190450078792574},
                        {-7.001822102892925, -7.001822102892925, -0.0018221028929251222}};
  expect_tensor_near(xtgrad::log_softmax(Variable(kProbe)).value(), expected, 1e-13);
}

TEST(LogSoftmax, AxisZeroMatchesHandValuesOnTheProbeMatrix) {
  const Tensor expected{{-6.0091744845917345, -0.05498523537714723, -7.003384898902687},
                        {-0.009174484591734507, -5.054985235377147, -6.003384898902687},
                        {-5.0091744845917345, -3.0549852353771474, -0.0033848989026873237}};
  expect_tensor_near(xtgrad::log_softmax(Variable(kProbe), 0).value(), expected, 1e-13);
}

TEST(LogSoftmax, HugeLogitsGiveFiniteCorrectValuesAndGradients) {
  const Variable x = Variable::parameter(kHuge);
  const Variable y = xtgrad::log_softmax(x);
  const double l = 0.31326168751822286;  // log(1 + e⁻¹)
  expect_tensor_near(y.value(), Tensor{{0.0, -2000.0, -1000.0}, {-2000.0 - l, -l, -1.0 - l}}, 1e-10);
  y.backward(Tensor{{1.0, 2.0, 3.0}, {4.0, 5.0, 6.0}});
  expect_all_finite(x.grad());
  // dx = g − softmax ⊙ Σ g: row 0 is g − (6, 0, 0)
  EXPECT_NEAR(x.grad()(0, 0), -5.0, 1e-12);
  EXPECT_NEAR(x.grad()(0, 1), 2.0, 1e-12);
  EXPECT_NEAR(x.grad()(0, 2), 3.0, 1e-12);
}

TEST(LogSoftmax, HugeLogitsAlongAxisZeroAreFinite) {
  const Variable x = Variable::parameter(kHuge);
  const Variable y = xtgrad::log_softmax(x, 0);
  expect_tensor_near(y.value(), Tensor{{0.0, -2000.0, -999.0}, {-2000.0, 0.0, 0.0}}, 1e-10);
  y.backward(Tensor{{1.0, 2.0, 3.0}, {4.0, 5.0, 6.0}});
  expect_all_finite(x.grad());
}

TEST(LogSoftmax, PassesGradcheckAlongEachAxis) {
  const Tensor x = uniform({3, 4}, 7, -2, 2);
  expect_gradcheck([](const Vars& v) { return xtgrad::log_softmax(v[0]); }, {x});
  expect_gradcheck([](const Vars& v) { return xtgrad::log_softmax(v[0], -1); }, {x});
  expect_gradcheck([](const Vars& v) { return xtgrad::log_softmax(v[0], 0); }, {x});
  expect_gradcheck([](const Vars& v) { return xtgrad::log_softmax(v[0], 1); }, {uniform({2, 3, 2}, 8, -2, 2)});
}

TEST(LogSoftmax, PassesGradcheckOnLargeLogits) {
  expect_gradcheck([](const Vars& v) { return xtgrad::log_softmax(v[0]); },
                   {Tensor{{1000.0, 999.5, 998.0}, {-1000.0, -999.0, -1001.0}}});
}

// ---- errors -------------------------------------------------------------------------------

TEST(ActivationErrors, SoftmaxAxisOutOfRangeNamesTheOpAxisAndShape) {
  const Variable x(Tensor::from_shape({2, 3}));
  expect_throws_with<std::invalid_argument>([&] { xtgrad::softmax(x, 2); }, {"softmax", "axis 2", "(2, 3)"});
  expect_throws_with<std::invalid_argument>([&] { xtgrad::softmax(x, -3); }, {"softmax", "axis -3", "(2, 3)"});
  expect_throws_with<std::invalid_argument>([&] { xtgrad::log_softmax(x, 2); },
                                            {"log_softmax", "axis 2", "(2, 3)"});
}

}  // namespace
}  // namespace xtgrad_test
