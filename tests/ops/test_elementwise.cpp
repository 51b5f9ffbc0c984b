// Elementwise ops: values, gradient checks (plain and broadcast), shape errors, and proof that
// the gradient checker catches a wrong backward.
#include <cmath>
#include <stdexcept>
#include <string>

#include "test_util.hpp"

namespace xtgrad_test {
namespace {

using Vars = std::vector<Variable>;

const Tensor kA{{1.0, 2.0, 3.0}, {4.0, 5.0, 6.0}};
const Tensor kB{{0.5, -1.0, 2.0}, {3.0, 0.25, -2.0}};

// ---- binary ops: values ------------------------------------------------------------------

TEST(Elementwise, AddSubMulDivNegMatchHandValues) {
  const Variable a(kA), b(kB);
  expect_tensor_near(xtgrad::add(a, b).value(), Tensor{{1.5, 1.0, 5.0}, {7.0, 5.25, 4.0}});
  expect_tensor_near(xtgrad::sub(a, b).value(), Tensor{{0.5, 3.0, 1.0}, {1.0, 4.75, 8.0}});
  expect_tensor_near(xtgrad::mul(a, b).value(), Tensor{{0.5, -2.0, 6.0}, {12.0, 1.25, -12.0}});
  expect_tensor_near(xtgrad::div(a, b).value(), Tensor{{2.0, -2.0, 1.5}, {4.0 / 3.0, 20.0, -3.0}});
  expect_tensor_near(xtgrad::neg(a).value(), Tensor{{-1.0, -2.0, -3.0}, {-4.0, -5.0, -6.0}});
}

TEST(Elementwise, OperatorsOnTwoVariablesCallTheOps) {
  const Variable a(kA), b(kB);
  expect_tensor_near((a + b).value(), xtgrad::add(a, b).value());
  expect_tensor_near((a - b).value(), xtgrad::sub(a, b).value());
  expect_tensor_near((a * b).value(), xtgrad::mul(a, b).value());
  expect_tensor_near((a / b).value(), xtgrad::div(a, b).value());
  expect_tensor_near((-a).value(), xtgrad::neg(a).value());
  EXPECT_FALSE((a + b).requires_grad());  // constants in, constant out: no graph recorded
}

TEST(Elementwise, ScalarFormsAndOperatorsMatchHandValues) {
  const Variable x(Tensor{1.0, 2.0, 4.0});
  expect_tensor_near(xtgrad::add(x, 3.0).value(), Tensor{4.0, 5.0, 7.0});
  expect_tensor_near(xtgrad::mul(x, 2.0).value(), Tensor{2.0, 4.0, 8.0});
  expect_tensor_near(xtgrad::rsub(3.0, x).value(), Tensor{2.0, 1.0, -1.0});
  expect_tensor_near(xtgrad::rdiv(4.0, x).value(), Tensor{4.0, 2.0, 1.0});
  expect_tensor_near((x + 3.0).value(), Tensor{4.0, 5.0, 7.0});
  expect_tensor_near((3.0 + x).value(), Tensor{4.0, 5.0, 7.0});
  expect_tensor_near((x - 3.0).value(), Tensor{-2.0, -1.0, 1.0});
  expect_tensor_near((3.0 - x).value(), Tensor{2.0, 1.0, -1.0});
  expect_tensor_near((x * 2.0).value(), Tensor{2.0, 4.0, 8.0});
  expect_tensor_near((2.0 * x).value(), Tensor{2.0, 4.0, 8.0});
  expect_tensor_near((x / 4.0).value(), Tensor{0.25, 0.5, 1.0});
  expect_tensor_near((4.0 / x).value(), Tensor{4.0, 2.0, 1.0});
}

TEST(Elementwise, MulBackwardGivesTheOtherFactor) {
  const Variable a = Variable::parameter(kA), b = Variable::parameter(kB);
  xtgrad::sum(a * b).backward();
  expect_tensor_near(a.grad(), kB);
  expect_tensor_near(b.grad(), kA);
}

// ---- binary ops: gradient checks ------------------------------------------------------------

TEST(Elementwise, BinaryOpsPassGradcheck) {
  const Tensor a = uniform({2, 3}, 1, -1.0, 1.0);
  const Tensor b = uniform({2, 3}, 2, 0.5, 2.0);  // a divisor away from 0
  expect_gradcheck([](const Vars& v) { return xtgrad::add(v[0], v[1]); }, {a, b});
  expect_gradcheck([](const Vars& v) { return xtgrad::sub(v[0], v[1]); }, {a, b});
  expect_gradcheck([](const Vars& v) { return xtgrad::mul(v[0], v[1]); }, {a, b});
  expect_gradcheck([](const Vars& v) { return xtgrad::div(v[0], v[1]); }, {a, b});
  expect_gradcheck([](const Vars& v) { return xtgrad::neg(v[0]); }, {a});
}

TEST(Elementwise, OperatorsPassGradcheck) {
  const Tensor a = uniform({2, 3}, 3, -1.0, 1.0);
  const Tensor b = uniform({2, 3}, 4, 0.5, 2.0);
  expect_gradcheck([](const Vars& v) { return v[0] + v[1]; }, {a, b});
  expect_gradcheck([](const Vars& v) { return v[0] - v[1]; }, {a, b});
  expect_gradcheck([](const Vars& v) { return v[0] * v[1]; }, {a, b});
  expect_gradcheck([](const Vars& v) { return v[0] / v[1]; }, {a, b});
  expect_gradcheck([](const Vars& v) { return -v[0]; }, {a});
}

TEST(Elementwise, ScalarFormsPassGradcheck) {
  const Tensor x = uniform({2, 3}, 5, 0.5, 2.0);  // s/x needs x away from 0
  expect_gradcheck([](const Vars& v) { return xtgrad::add(v[0], 1.5); }, {x});
  expect_gradcheck([](const Vars& v) { return xtgrad::mul(v[0], -2.5); }, {x});
  expect_gradcheck([](const Vars& v) { return xtgrad::rsub(1.5, v[0]); }, {x});
  expect_gradcheck([](const Vars& v) { return xtgrad::rdiv(3.0, v[0]); }, {x});
  expect_gradcheck([](const Vars& v) { return v[0] + 1.5; }, {x});
  expect_gradcheck([](const Vars& v) { return 1.5 + v[0]; }, {x});
  expect_gradcheck([](const Vars& v) { return v[0] - 1.5; }, {x});
  expect_gradcheck([](const Vars& v) { return 1.5 - v[0]; }, {x});
  expect_gradcheck([](const Vars& v) { return v[0] * 3.0; }, {x});
  expect_gradcheck([](const Vars& v) { return 3.0 * v[0]; }, {x});
  expect_gradcheck([](const Vars& v) { return v[0] / 4.0; }, {x});
  expect_gradcheck([](const Vars& v) { return 4.0 / v[0]; }, {x});
}

TEST(Elementwise, SameInputUsedTwicePassesGradcheck) {
  // x·x + x/x: two paths into one leaf must both be accumulated
  expect_gradcheck([](const Vars& v) { return v[0] * v[0] + v[0] / v[0]; }, {uniform({3}, 6, 0.5, 2.0)});
}

// ---- broadcasting ------------------------------------------------------------------------------

TEST(ElementwiseBroadcast, BiasAddWithRowVectorPassesGradcheck) {
  // (n, c) + (1, c): the bias gradient is the column sum
  expect_gradcheck([](const Vars& v) { return v[0] + v[1]; }, {uniform({6, 5}, 7, -1, 1), uniform({1, 5}, 8, -1, 1)});
  expect_gradcheck([](const Vars& v) { return v[1] + v[0]; }, {uniform({6, 5}, 7, -1, 1), uniform({1, 5}, 8, -1, 1)});
}

TEST(ElementwiseBroadcast, BiasAddOfRealSizeMatchesHandValues) {
  // (64, 200) + (200): y(i, j) = x(i, j) + b(j); d sum(y)/db = 64 per element
  Tensor x = Tensor::from_shape({64, 200});
  Tensor b = Tensor::from_shape({200});
  for (std::size_t i = 0; i < 64; ++i)
    for (std::size_t j = 0; j < 200; ++j) x(i, j) = double(i) * 1000.0 + double(j);
  for (std::size_t j = 0; j < 200; ++j) b(j) = 0.5 * double(j) - 7.0;
  const Variable xv(x);
  const Variable bv = Variable::parameter(b);
  const Variable y = xv + bv;
  ASSERT_EQ(y.shape(), (Shape{64, 200}));
  for (std::size_t i = 0; i < 64; ++i)
    for (std::size_t j = 0; j < 200; ++j)
      ASSERT_NEAR(y.value()(i, j), double(i) * 1000.0 + 1.5 * double(j) - 7.0, 1e-9) << i << ", " << j;
  xtgrad::sum(y).backward();
  ASSERT_EQ(bv.grad().shape().size(), 1u);
  for (std::size_t j = 0; j < 200; ++j) EXPECT_NEAR(bv.grad()(j), 64.0, 1e-12);
  EXPECT_FALSE(xv.has_grad());
}

TEST(ElementwiseBroadcast, RowAndColumnBroadcastsPassGradcheck) {
  const Tensor m = uniform({4, 5}, 9, -1, 1);
  const Tensor row = uniform({1, 5}, 10, 0.5, 2.0);
  const Tensor col = uniform({4, 1}, 11, 0.5, 2.0);
  for (const Tensor* other : {&row, &col}) {
    expect_gradcheck([](const Vars& v) { return v[0] + v[1]; }, {m, *other});
    expect_gradcheck([](const Vars& v) { return v[0] - v[1]; }, {m, *other});
    expect_gradcheck([](const Vars& v) { return v[1] - v[0]; }, {m, *other});
    expect_gradcheck([](const Vars& v) { return v[0] * v[1]; }, {m, *other});
    expect_gradcheck([](const Vars& v) { return v[0] / v[1]; }, {m, *other});
  }
  // (4, 1) against (1, 5): both operands are broadcast to (4, 5)
  expect_gradcheck([](const Vars& v) { return v[0] * v[1]; }, {col, row});
  expect_gradcheck([](const Vars& v) { return v[0] / v[1]; }, {col, row});
}

TEST(ElementwiseBroadcast, VectorAgainstMatrixPassesGradcheck) {
  // (c,) against (n, c), in both orders
  const Tensor m = uniform({4, 5}, 12, 0.5, 2.0);
  const Tensor vec = uniform({5}, 13, 0.5, 2.0);
  expect_gradcheck([](const Vars& v) { return v[0] + v[1]; }, {m, vec});
  expect_gradcheck([](const Vars& v) { return v[0] - v[1]; }, {m, vec});
  expect_gradcheck([](const Vars& v) { return v[1] - v[0]; }, {m, vec});
  expect_gradcheck([](const Vars& v) { return v[0] * v[1]; }, {m, vec});
  expect_gradcheck([](const Vars& v) { return v[1] * v[0]; }, {m, vec});
  expect_gradcheck([](const Vars& v) { return v[0] / v[1]; }, {m, vec});
  expect_gradcheck([](const Vars& v) { return v[1] / v[0]; }, {m, vec});
}

TEST(ElementwiseBroadcast, ZeroDimScalarAgainstMatrixPassesGradcheck) {
  expect_gradcheck([](const Vars& v) { return v[0] * v[1]; }, {uniform({3, 2}, 14, -1, 1), Tensor(1.7)});
}

TEST(ElementwiseBroadcast, ColumnBroadcastValuesAndGradient) {
  // (2, 3) − (2, 1): subtract a per-row value; d sum/d col = −3 per row
  const Variable m(kA);
  const Variable col = Variable::parameter(reshaped(Tensor{1.0, 10.0}, {2, 1}));
  const Variable y = m - col;
  expect_tensor_near(y.value(), Tensor{{0.0, 1.0, 2.0}, {-6.0, -5.0, -4.0}});
  xtgrad::sum(y).backward();
  expect_tensor_near(col.grad(), reshaped(Tensor{-3.0, -3.0}, {2, 1}));
}

// ---- unary maths ------------------------------------------------------------------------------

TEST(Elementwise, ExpLogSqrtSquareMatchHandValues) {
  const double e = std::exp(1.0);
  expect_tensor_near(xtgrad::exp(Variable(Tensor{0.0, 1.0, -1.0})).value(), Tensor{1.0, e, 1.0 / e});
  expect_tensor_near(xtgrad::log(Variable(Tensor{1.0, e, 0.5})).value(), Tensor{0.0, 1.0, -std::log(2.0)});
  expect_tensor_near(xtgrad::sqrt(Variable(Tensor{0.25, 4.0, 9.0})).value(), Tensor{0.5, 2.0, 3.0});
  expect_tensor_near(xtgrad::square(Variable(Tensor{-3.0, 0.5, 2.0})).value(), Tensor{9.0, 0.25, 4.0});
}

TEST(Elementwise, PowMatchesHandValues) {
  expect_tensor_near(xtgrad::pow(Variable(Tensor{2.0, -1.0, 0.5}), 3.0).value(), Tensor{8.0, -1.0, 0.125});
  expect_tensor_near(xtgrad::pow(Variable(Tensor{4.0, 9.0, 0.25}), 0.5).value(), Tensor{2.0, 3.0, 0.5});
  expect_tensor_near(xtgrad::pow(Variable(Tensor{2.0, 4.0, -0.5}), -1.0).value(), Tensor{0.5, 0.25, -2.0});
}

TEST(Elementwise, AbsMatchesHandValuesWithZeroSubgradientAtZero) {
  const Variable x = Variable::parameter(Tensor{-2.0, 0.5, 0.0});
  const Variable y = xtgrad::abs(x);
  expect_tensor_near(y.value(), Tensor{2.0, 0.5, 0.0});
  xtgrad::sum(y).backward();
  expect_tensor_near(x.grad(), Tensor{-1.0, 1.0, 0.0});
}

TEST(Elementwise, UnaryOpsPassGradcheck) {
  const Tensor any = uniform({2, 3}, 15, -1.5, 1.5);
  const Tensor positive = uniform({2, 3}, 16, 0.5, 2.0);  // log, sqrt, non-integer pow
  expect_gradcheck([](const Vars& v) { return xtgrad::exp(v[0]); }, {any});
  expect_gradcheck([](const Vars& v) { return xtgrad::log(v[0]); }, {positive});
  expect_gradcheck([](const Vars& v) { return xtgrad::sqrt(v[0]); }, {positive});
  expect_gradcheck([](const Vars& v) { return xtgrad::square(v[0]); }, {any});
  expect_gradcheck([](const Vars& v) { return xtgrad::pow(v[0], 3.0); }, {any});
  expect_gradcheck([](const Vars& v) { return xtgrad::pow(v[0], 2.5); }, {positive});
  expect_gradcheck([](const Vars& v) { return xtgrad::pow(v[0], -1.5); }, {positive});
  expect_gradcheck([](const Vars& v) { return xtgrad::abs(v[0]); }, {away_from_zero({2, 3}, 17)});
}

// ---- shape errors ------------------------------------------------------------------------------

TEST(ElementwiseErrors, NonBroadcastableShapesNameTheOpAndBothShapes) {
  const Variable a(Tensor::from_shape({2, 3})), b(Tensor::from_shape({3, 2}));
  expect_throws_with<std::invalid_argument>([&] { xtgrad::add(a, b); }, {"add", "(2, 3)", "(3, 2)"});
  expect_throws_with<std::invalid_argument>([&] { xtgrad::sub(a, b); }, {"sub", "(2, 3)", "(3, 2)"});
  expect_throws_with<std::invalid_argument>([&] { xtgrad::mul(a, b); }, {"mul", "(2, 3)", "(3, 2)"});
  expect_throws_with<std::invalid_argument>([&] { xtgrad::div(a, b); }, {"div", "(2, 3)", "(3, 2)"});
  expect_throws_with<std::invalid_argument>([&] { return a + b; }, {"add", "(2, 3)", "(3, 2)"});
  const Variable vec(Tensor::from_shape({4}));
  expect_throws_with<std::invalid_argument>([&] { xtgrad::add(a, vec); }, {"add", "(2, 3)", "(4)"});
}

// ---- the checker itself ------------------------------------------------------------------------

// x² with a deliberately wrong backward: 3·g·x instead of 2·g·x.
Variable wrong_square(const Variable& x) {
  return xtgrad::make_result("wrong_square", x.value() * x.value(), {x}, [](Node& self) {
    self.add_to_parent(0, Scalar(3) * self.grad * self.parent_value(0));
  });
}

TEST(Gradcheck, FailsOnAWrongBackwardAndNamesTheInput) {
  const Tensor a = uniform({2, 3}, 18, -1, 1);
  const Tensor b = uniform({3}, 19, 0.5, 1.5);
  // input 1 goes through the wrong op; input 0 through a correct one
  const auto f = [](const Vars& v) { return v[0] + wrong_square(v[1]); };
  const xtgrad::GradcheckReport report = xtgrad::gradcheck(f, {a, b});
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.worst_input, 1u);
  EXPECT_GT(report.worst_ratio, 1.0);
  EXPECT_NE(report.message.find("FAILED"), std::string::npos) << report.message;
  EXPECT_NE(report.message.find("input 1"), std::string::npos) << report.message;
  EXPECT_NE(report.message.find("(3)"), std::string::npos) << report.message;
  // the analytic value is 1.5× the numeric one
  EXPECT_NEAR(report.analytic, 1.5 * report.numeric, 1e-6 * std::abs(report.numeric) + 1e-9);
}

TEST(Gradcheck, PassesOnTheCorrectVersionOfTheSameFunction) {
  const auto f = [](const Vars& v) { return v[0] + xtgrad::square(v[1]); };
  const xtgrad::GradcheckReport report = xtgrad::gradcheck(f, {uniform({2, 3}, 18, -1, 1), uniform({3}, 19, 0.5, 1.5)});
  EXPECT_TRUE(report.ok) << report.message;
  EXPECT_NE(report.message.find("passed"), std::string::npos) << report.message;
}

TEST(Gradcheck, KeepsAFreshResultAliveWhileReadingIt) {
  // Regression: f returns a new Variable nothing else holds; the checker once read its value
  // through a reference into the freed node, and every numeric derivative came out 0.
  const auto f = [](const Vars& v) { return xtgrad::square(v[0]); };
  const xtgrad::GradcheckReport report = xtgrad::gradcheck(f, {Tensor{0.5, -1.0, 2.0}});
  EXPECT_TRUE(report.ok) << report.message;
  EXPECT_NEAR(report.numeric, report.analytic, 1e-6 * std::abs(report.analytic) + 1e-9) << report.message;
}

}  // namespace
}  // namespace xtgrad_test
