// clamp, where, maximum/minimum, log1p, expm1, sin, cos, pow with a tensor exponent,
// reciprocal, sign: values, gradients at ties and bounds, broadcasting, gradient checks, errors.
#include <cmath>
#include <limits>
#include <optional>
#include <stdexcept>

#include "test_util.hpp"

namespace xtgrad_test {
namespace {

using Vars = std::vector<Variable>;
const double kNaN = std::numeric_limits<double>::quiet_NaN();

TEST(Clamp, ValuesWithEitherBoundOptional) {
  const Variable x(Tensor{-2.0, -0.5, 0.5, 3.0});
  expect_tensor_near(xtgrad::clamp(x, -1.0, 1.0).value(), Tensor{-1.0, -0.5, 0.5, 1.0}, 0.0);
  expect_tensor_near(xtgrad::clamp(x, std::nullopt, 0.0).value(), Tensor{-2.0, -0.5, 0.0, 0.0}, 0.0);
  expect_tensor_near(xtgrad::clamp(x, 0.0, std::nullopt).value(), Tensor{0.0, 0.0, 0.5, 3.0}, 0.0);
  expect_tensor_near(xtgrad::clamp(x, std::nullopt, std::nullopt).value(), x.value(), 0.0);
  EXPECT_TRUE(std::isnan(xtgrad::clamp(Variable(Tensor{kNaN}), -1.0, 1.0).value()(0)));
}

TEST(Clamp, GradientPassesInsideAndAtTheBounds) {
  const Variable x = Variable::parameter(Tensor{-2.0, -1.0, 0.5, 1.0, 3.0});
  xtgrad::sum(xtgrad::clamp(x, -1.0, 1.0)).backward();
  expect_tensor_near(x.grad(), Tensor{0.0, 1.0, 1.0, 1.0, 0.0}, 0.0);
}

TEST(Where, ValuesAndGradientsWithBroadcasting) {
  // condition (2, 1) against a (2, 3) and b (3): rows pick a or b
  const Tensor c = reshaped(Tensor{1.0, 0.0}, {2, 1});
  const Variable a = Variable::parameter(Tensor{{1.0, 2.0, 3.0}, {4.0, 5.0, 6.0}});
  const Variable b = Variable::parameter(Tensor{-1.0, -2.0, -3.0});
  const Variable y = xtgrad::where(c, a, b);
  expect_tensor_near(y.value(), Tensor{{1.0, 2.0, 3.0}, {-1.0, -2.0, -3.0}}, 0.0);
  xtgrad::sum(y).backward();
  expect_tensor_near(a.grad(), Tensor{{1.0, 1.0, 1.0}, {0.0, 0.0, 0.0}}, 0.0);
  expect_tensor_near(b.grad(), Tensor{1.0, 1.0, 1.0}, 0.0);
}

TEST(MaximumMinimum, ValuesNaNAndTiesSplitTheGradient) {
  Variable a = Variable::parameter(Tensor{1.0, 5.0, 2.0});
  Variable b = Variable::parameter(Tensor{3.0, 4.0, 2.0});
  const Variable hi = xtgrad::maximum(a, b), lo = xtgrad::minimum(a, b);
  expect_tensor_near(hi.value(), Tensor{3.0, 5.0, 2.0}, 0.0);
  expect_tensor_near(lo.value(), Tensor{1.0, 4.0, 2.0}, 0.0);
  xtgrad::sum(hi).backward();
  expect_tensor_near(a.grad(), Tensor{0.0, 1.0, 0.5}, 0.0);
  expect_tensor_near(b.grad(), Tensor{1.0, 0.0, 0.5}, 0.0);
  a.zero_grad();
  b.zero_grad();
  xtgrad::sum(lo).backward();
  expect_tensor_near(a.grad(), Tensor{1.0, 0.0, 0.5}, 0.0);
  expect_tensor_near(b.grad(), Tensor{0.0, 1.0, 0.5}, 0.0);
  const Variable n(Tensor{kNaN, 1.0}), m(Tensor{0.0, kNaN});
  for (const Variable& r : {xtgrad::maximum(n, m), xtgrad::minimum(n, m), xtgrad::maximum(m, n)}) {
    EXPECT_TRUE(std::isnan(r.value()(0)));
    EXPECT_TRUE(std::isnan(r.value()(1)));
  }
}

TEST(UnaryMath, MatchHandValues) {
  expect_tensor_near(xtgrad::log1p(Variable(Tensor{1e-20, 1.0, -0.5})).value(),
                     Tensor{1e-20, std::log(2.0), std::log(0.5)}, 1e-16);
  EXPECT_EQ(xtgrad::log1p(Variable(Tensor{1e-20})).value()(0), 1e-20);  // log(1 + x) would give 0
  expect_tensor_near(xtgrad::expm1(Variable(Tensor{1e-20, 1.0, 0.0})).value(), Tensor{1e-20, std::exp(1.0) - 1, 0.0},
                     1e-15);
  EXPECT_EQ(xtgrad::expm1(Variable(Tensor{1e-20})).value()(0), 1e-20);
  const double pi = 3.14159265358979323846;
  expect_tensor_near(xtgrad::sin(Variable(Tensor{0.0, pi / 2, pi / 6})).value(), Tensor{0.0, 1.0, 0.5}, 1e-15);
  expect_tensor_near(xtgrad::cos(Variable(Tensor{0.0, pi, pi / 3})).value(), Tensor{1.0, -1.0, 0.5}, 1e-15);
  expect_tensor_near(xtgrad::reciprocal(Variable(Tensor{2.0, -4.0, 0.5})).value(), Tensor{0.5, -0.25, 2.0}, 0.0);
}

TEST(Sign, ValuesAndNoGradient) {
  const Variable x = Variable::parameter(Tensor{-3.0, 0.0, 2.0, kNaN});
  const Variable s = xtgrad::sign(x);
  EXPECT_EQ(s.value()(0), -1.0);
  EXPECT_EQ(s.value()(1), 0.0);
  EXPECT_EQ(s.value()(2), 1.0);
  EXPECT_TRUE(std::isnan(s.value()(3)));
  EXPECT_FALSE(s.requires_grad());
}

TEST(PowTensor, ValuesWithBroadcastExponent) {
  const Variable x(Tensor{{2.0, 3.0}, {4.0, 0.5}});
  const Variable p(Tensor{2.0, -1.0});
  expect_tensor_near(xtgrad::pow(x, p).value(), Tensor{{4.0, 1.0 / 3}, {16.0, 2.0}}, 1e-15);
}

TEST(PowTensor, ZeroBaseAndZeroExponentFollowPyTorch) {
  // d/dx x⁰ = 0 even at x = 0; d/dp 0ᵖ = 0 for p ≥ 0
  const Variable x = Variable::parameter(Tensor{0.0, 0.0, 2.0});
  const Variable p = Variable::parameter(Tensor{0.0, 2.0, 0.0});
  const Variable y = xtgrad::pow(x, p);
  expect_tensor_near(y.value(), Tensor{1.0, 0.0, 1.0}, 0.0);
  xtgrad::sum(y).backward();
  expect_tensor_near(x.grad(), Tensor{0.0, 0.0, 0.0}, 0.0);
  expect_tensor_near(p.grad(), Tensor{0.0, 0.0, std::log(2.0)}, 1e-15);
}

TEST(ElementwiseMath, PassGradcheck) {
  const Tensor any = uniform({3, 4}, 1, -1.5, 1.5);
  const Tensor positive = uniform({3, 4}, 2, 0.5, 2.0);
  expect_gradcheck([](const Vars& v) { return xtgrad::log1p(v[0]); }, {uniform({3, 4}, 3, -0.5, 2.0)});
  expect_gradcheck([](const Vars& v) { return xtgrad::expm1(v[0]); }, {any});
  expect_gradcheck([](const Vars& v) { return xtgrad::sin(v[0]); }, {any});
  expect_gradcheck([](const Vars& v) { return xtgrad::cos(v[0]); }, {any});
  expect_gradcheck([](const Vars& v) { return xtgrad::reciprocal(v[0]); }, {away_from_zero({3, 4}, 4, 0.5, 2.0)});
  expect_gradcheck([](const Vars& v) { return xtgrad::clamp(v[0], -0.3, 0.4); }, {away_from_zero({3, 4}, 5, 0.5, 2.0)});
  expect_gradcheck([](const Vars& v) { return xtgrad::clamp(v[0], -0.3, 0.4); }, {uniform({3, 4}, 6, -0.25, 0.35)});
  expect_gradcheck([](const Vars& v) { return xtgrad::clamp(v[0], std::nullopt, 0.0); }, {away_from_zero({3, 4}, 7)});
}

TEST(ElementwiseMath, BinaryOpsPassGradcheckWithBroadcasting) {
  const Tensor m = uniform({3, 4}, 8, 0.5, 2.0);
  const Tensor row = uniform({4}, 9, -1.0, 1.5);
  const Tensor col = uniform({3, 1}, 10, -1.0, 1.5);
  for (const Tensor* other : {&row, &col}) {
    expect_gradcheck([](const Vars& v) { return xtgrad::maximum(v[0], v[1]); }, {m, *other});
    expect_gradcheck([](const Vars& v) { return xtgrad::minimum(v[1], v[0]); }, {m, *other});
    expect_gradcheck([](const Vars& v) { return xtgrad::pow(v[0], v[1]); }, {m, *other});
  }
  const Tensor c = reshaped(Tensor{1.0, 0.0, 1.0}, {3, 1});
  expect_gradcheck([&](const Vars& v) { return xtgrad::where(c, v[0], v[1]); }, {m, row});
  expect_gradcheck([&](const Vars& v) { return xtgrad::where(c, v[1], v[0]); }, {m, Tensor(0.7)});
}

TEST(ElementwiseMathErrors, ShapesAndBoundsAreNamed) {
  const Variable a(Tensor::from_shape({2, 3})), b(Tensor::from_shape({4}));
  expect_throws_with<std::invalid_argument>([&] { xtgrad::maximum(a, b); }, {"maximum", "(2, 3)", "(4)"});
  expect_throws_with<std::invalid_argument>([&] { xtgrad::minimum(a, b); }, {"minimum", "(2, 3)", "(4)"});
  expect_throws_with<std::invalid_argument>([&] { xtgrad::pow(a, b); }, {"pow", "(2, 3)", "(4)"});
  expect_throws_with<std::invalid_argument>([&] { xtgrad::where(Tensor::from_shape({3, 1}), a, a); },
                                            {"where", "(3, 1)", "(2, 3)"});
  expect_throws_with<std::invalid_argument>([&] { xtgrad::clamp(a, 1.0, 0.0); }, {"clamp", "min", "max", "(2, 3)"});
}

// ---- where's call forms, masked_fill, tril/triu (issue 22 §3.1, §3.8) ----

TEST(Where, NumbersAndVariablesAsConditions) {
  const Variable x = Variable::parameter(Tensor{-1.0, 0.5, 2.0});
  const Variable y = xtgrad::where(x.value() > 0.0, x, 0.0);  // an expression, a number
  expect_tensor_near(y.value(), Tensor{0.0, 0.5, 2.0}, 0.0);
  xtgrad::sum(y).backward();
  expect_tensor_near(x.grad(), Tensor{0.0, 1.0, 1.0}, 0.0);
  expect_tensor_near(xtgrad::where(Variable(Tensor{1.0, 0.0, 0.0}), -3, x).value(), Tensor{-3.0, 0.5, 2.0}, 0.0);
  expect_tensor_near(xtgrad::where(xtgrad::TensorOf<float>{0.f, 1.f, 0.f}, x, x * 2.0).value(),
                     Tensor{-2.0, 0.5, 4.0}, 0.0);  // a mask of the other precision
}

TEST(MaskedFill, ValuesGradientAndBroadcastMask) {
  const Variable x = Variable::parameter(Tensor{{1.0, 2.0, 3.0}, {4.0, 5.0, 6.0}});
  const Tensor mask{1.0, 0.0, 1.0};  // (3) broadcast over the rows
  const Variable y = xtgrad::masked_fill(x, mask, -7.5);
  expect_tensor_near(y.value(), Tensor{{-7.5, 2.0, -7.5}, {-7.5, 5.0, -7.5}}, 0.0);
  xtgrad::sum(y * y).backward();
  expect_tensor_near(x.grad(), Tensor{{0.0, 4.0, 0.0}, {0.0, 10.0, 0.0}}, 0.0);
  // a bool expression as the mask, NaN counting as true
  expect_tensor_near(xtgrad::masked_fill(x, x.value() > 4.0, 0.0).value(), Tensor{{1.0, 2.0, 3.0}, {4.0, 0.0, 0.0}},
                     0.0);
  const double nan = std::numeric_limits<double>::quiet_NaN();
  expect_tensor_near(xtgrad::masked_fill(Variable(Tensor{1.0, 2.0}), Tensor{nan, 0.0}, 9.0).value(), Tensor{9.0, 2.0},
                     0.0);
}

TEST(TrilTriu, KeepTheBandOfTheLastTwoAxes) {
  const Tensor m{{1.0, 2.0, 3.0}, {4.0, 5.0, 6.0}, {7.0, 8.0, 9.0}};
  const Variable x(m);
  expect_values(xtgrad::tril(x).value(), {3, 3}, {1, 0, 0, 4, 5, 0, 7, 8, 9});
  expect_values(xtgrad::tril(x, 1).value(), {3, 3}, {1, 2, 0, 4, 5, 6, 7, 8, 9});
  expect_values(xtgrad::tril(x, -1).value(), {3, 3}, {0, 0, 0, 4, 0, 0, 7, 8, 0});
  expect_values(xtgrad::triu(x).value(), {3, 3}, {1, 2, 3, 0, 5, 6, 0, 0, 9});
  expect_values(xtgrad::triu(x, 2).value(), {3, 3}, {0, 0, 3, 0, 0, 0, 0, 0, 0});
  expect_values(xtgrad::triu(x, -1).value(), {3, 3}, {1, 2, 3, 4, 5, 6, 0, 8, 9});
  // batched (2, 2, 3): every matrix the same band; the gradient is the band
  const Variable b = Variable::parameter(uniform({2, 2, 3}, 3, -1, 1));
  xtgrad::sum(xtgrad::triu(b)).backward();
  expect_values(b.grad(), {2, 2, 3}, {1, 1, 1, 0, 1, 1, 1, 1, 1, 0, 1, 1});
}

TEST(MaskedFillTrilTriu, PassGradcheck) {
  const Tensor x = uniform({2, 3, 4}, 11, -1, 1);
  const Tensor mask = reshaped(Tensor{1.0, 0.0, 0.0, 1.0}, {1, 4});
  expect_gradcheck([&mask](const Vars& v) { return xtgrad::masked_fill(v[0] * v[0], mask, 0.25); }, {x});
  for (std::int64_t k : {-2, -1, 0, 1, 3}) {
    expect_gradcheck([k](const Vars& v) { return xtgrad::tril(v[0], k); }, {x});
    expect_gradcheck([k](const Vars& v) { return xtgrad::triu(v[0], k); }, {x});
  }
}

TEST(MaskedFillTrilTriuErrors, NameTheOpAndShapes) {
  const Variable x(Tensor{{1.0, 2.0}, {3.0, 4.0}});
  expect_throws_with<std::invalid_argument>([&] { xtgrad::masked_fill(x, Tensor::from_shape({3, 2, 2}), 0.0); },
                                            {"masked_fill", "(3, 2, 2)", "(2, 2)"});
  expect_throws_with<std::invalid_argument>([&] { xtgrad::masked_fill(x, Tensor::from_shape({3}), 0.0); },
                                            {"masked_fill", "(3)", "(2, 2)"});
  expect_throws_with<std::invalid_argument>([&] { xtgrad::tril(Variable(Tensor{1.0, 2.0})); }, {"tril", "(2)"});
  expect_throws_with<std::invalid_argument>([&] { xtgrad::triu(Variable(Tensor(1.0))); }, {"triu", "()"});
}

}  // namespace
}  // namespace xtgrad_test
