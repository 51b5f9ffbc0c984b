// The calls a user writes under `using namespace xtgrad;` without qualifying them (issue 22
// §3.1): each must pick xtgrad's op, not an xtensor function found by argument-dependent lookup
// through a Tensor argument (where(mask, a, b) used to resolve to xt::where and fail with 70+
// lines of xtensor errors). That this file compiles is half the test; the values are the rest.
// Written as a user's program: the umbrella header, the float defaults, no xtensor include.
#include <gtest/gtest.h>

#include <xtgrad/xtgrad.hpp>

#include <cmath>
#include <limits>
#include <vector>

using namespace xtgrad;

namespace {

void expect_values(const Tensor& t, const Shape& shape, const std::vector<float>& values, float tol = 1e-6f) {
  ASSERT_EQ(shape_of(t), shape);
  ASSERT_EQ(t.size(), values.size());
  for (std::size_t i = 0; i < values.size(); ++i) EXPECT_NEAR(t.data()[i], values[i], tol) << "at " << i;
}

TEST(UnqualifiedWhere, TensorMaskWithVariablesOfEveryValueCategory) {
  Tensor mask = tensor({1, 0, 1});
  const Tensor const_mask = mask;
  Variable a(tensor({1, 2, 3}), true), b(tensor({10, 20, 30}), true);
  const Variable ca = a, cb = b;
  expect_values(where(mask, a, b).value(), {3}, {1, 20, 3});             // non-const lvalues
  expect_values(where(const_mask, ca, cb).value(), {3}, {1, 20, 3});     // const lvalues
  expect_values(where(tensor({0, 0, 1}), a * 1.0, b).value(), {3}, {10, 20, 3});  // temporaries
  Variable y = where(mask, a, b);
  sum(y).backward();
  expect_values(a.grad(), {3}, {1, 0, 1});
  expect_values(b.grad(), {3}, {0, 1, 0});
}

TEST(UnqualifiedWhere, ConditionAsAnExpressionABoolArrayOrAVariable) {
  Variable x(tensor({-1.5, 0.5, 2}), true);
  // relu by hand, the way torch.where(x > 0, x, 0) reads
  expect_values(where(x.value() > 0.f, x, 0.0).value(), {3}, {0, 0.5f, 2});
  expect_values(where(x.value() > 0.f, -1, x).value(), {3}, {-1.5f, -1, -1});
  const Variable m(tensor({0, 1, 0}));
  expect_values(where(m, x, Variable(zeros({3}))).value(), {3}, {0, 0.5f, 0});
  TensorOf<double> double_mask = tensor<double>({1, 1, 0});  // another precision: converted
  expect_values(where(double_mask, x, 7.0f).value(), {3}, {-1.5f, 0.5f, 7});
}

TEST(UnqualifiedWhere, DoubleVariablesAndBroadcasting) {
  TensorOf<double> mask = tensor<double>({{1}, {0}});  // (2, 1)
  BasicVariable<double> a(tensor<double>({{1, 2, 3}, {4, 5, 6}})), b(tensor<double>({-1, -2, -3}));
  const BasicVariable<double> y = where(mask, a, b);
  EXPECT_EQ(y.shape(), (Shape{2, 3}));
  EXPECT_EQ(y.value()(1, 2), -3.0);
  EXPECT_EQ(y.value()(0, 2), 3.0);
}

TEST(UnqualifiedCalls, ElementwiseAndActivations) {
  Variable x(tensor({0.5, 1, 2}));
  expect_values(exp(x).value(), {3}, {std::exp(0.5f), std::exp(1.f), std::exp(2.f)});
  expect_values(log(x).value(), {3}, {std::log(0.5f), 0, std::log(2.f)});
  expect_values(sqrt(x).value(), {3}, {std::sqrt(0.5f), 1, std::sqrt(2.f)});
  expect_values(abs(-x).value(), {3}, {0.5f, 1, 2});
  expect_values(pow(x, 2).value(), {3}, {0.25f, 1, 4});
  expect_values(pow(x, x).value(), {3}, {std::pow(0.5f, 0.5f), 1, 4});
  expect_values(tanh(x).value(), {3}, {std::tanh(0.5f), std::tanh(1.f), std::tanh(2.f)});
  expect_values(sign(x - 1.0).value(), {3}, {-1, 0, 1});
  const Variable y(tensor({1, 1, 1}));
  expect_values(maximum(x, y).value(), {3}, {1, 1, 2});
  expect_values(minimum(x, y).value(), {3}, {0.5f, 1, 1});
  expect_values(clamp(x, 0.75, 1.5).value(), {3}, {0.75f, 1, 1.5f});
  expect_values(clip(x, 0.75, 1.5).value(), {3}, {0.75f, 1, 1.5f});
  expect_values(relu6(x * 4.0).value(), {3}, {2, 4, 6});
  expect_values(mish(x).value(), {3},
                {0.5f * std::tanh(std::log1p(std::exp(0.5f))), std::tanh(std::log1p(std::exp(1.f))),
                 2 * std::tanh(std::log1p(std::exp(2.f)))});
  expect_values(masked_fill(x, tensor({0, 1, 0}), -5).value(), {3}, {0.5f, -5, 2});
}

TEST(UnqualifiedCalls, ReductionsNormsAndShapes) {
  Variable x(tensor({{1, 2, 3}, {4, 5, 6}}));
  EXPECT_FLOAT_EQ(sum(x).item(), 21);
  expect_values(sum(x, 0).value(), {3}, {5, 7, 9});
  expect_values(mean(x, 1).value(), {2}, {2, 5});
  expect_values(max(x, 1).value(), {2}, {3, 6});
  expect_values(min(x, 0).value(), {3}, {1, 2, 3});
  expect_values(var(x, 1).value(), {2}, {1, 1});                        // axis 1, unbiased
  expect_values(var(x, 1, Correction(0)).value(), {2}, {2.f / 3, 2.f / 3});
  EXPECT_NEAR(var(x, Correction(0)).item(), 35.f / 12, 1e-5);           // every axis, biased
  EXPECT_NEAR(std_dev(x).item(), std::sqrt(3.5f), 1e-5);
  expect_values(norm(x, 2, 1).value(), {2}, {std::sqrt(14.f), std::sqrt(77.f)});
  expect_values(norm(x, 1, 0).value(), {3}, {5, 7, 9});
  EXPECT_EQ(concat({x, x}, 0).shape(), (Shape{4, 3}));
  EXPECT_EQ(cat({x, x}, 1).shape(), (Shape{2, 6}));
  EXPECT_EQ(stack({x, x}).shape(), (Shape{2, 2, 3}));
  expect_values(tril(x).value(), {2, 3}, {1, 0, 0, 4, 5, 0});
  expect_values(triu(x, 1).value(), {2, 3}, {0, 2, 3, 0, 0, 6});
  expect_values(x.rows(1, 2).value(), {1, 3}, {4, 5, 6});
  expect_values(rows(x, -1, 5).value(), {1, 3}, {4, 5, 6});
}

TEST(UnqualifiedCalls, ArithmeticOfAVariableAndATensorTreatsTheTensorAsAConstant) {
  // xt's operators used to take these (a Variable as an xtensor scalar) and fail inside xtensor
  Variable x(tensor({1, 2, 3}), true);
  Tensor mask = tensor({1, 0, 1});
  const Tensor shift = tensor({10, 20, 30});
  expect_values((x * mask).value(), {3}, {1, 0, 3});
  expect_values((shift - x).value(), {3}, {9, 18, 27});
  expect_values((x + shift).value(), {3}, {11, 22, 33});
  expect_values((mask + x).value(), {3}, {2, 2, 4});
  expect_values((x / tensor({2, 4, 8})).value(), {3}, {0.5f, 0.5f, 0.375f});
  expect_values((tensor({6, 6, 6}) / x).value(), {3}, {6, 3, 2});
  expect_values((x * (shift > 15.f)).value(), {3}, {0, 2, 3});  // a bool expression
  Variable y = x * mask + shift;
  sum(y).backward();
  expect_values(x.grad(), {3}, {1, 0, 1});
  BasicVariable<double> xd(tensor<double>({1, 2}));
  expect_values(Tensor((xd * tensor<double>({3, 4})).value()), {2}, {3, 8});
}

TEST(UnqualifiedCalls, OnTensorsXtensorStillAnswers) {
  // A Tensor argument still reaches xtensor's functions (xtgrad's take Variables): same values.
  const Tensor t = tensor({1, 4, 9});
  const Tensor r = sqrt(t);
  expect_values(r, {3}, {1, 2, 3});
  const Tensor w = where(t > 2.f, t, 0.f);  // no Variable: xt::where, as before
  expect_values(w, {3}, {0, 4, 9});
  const Tensor u = t * t + 1.f;  // Tensor arithmetic stays xtensor's
  expect_values(u, {3}, {2, 17, 82});
}

}  // namespace
