// Reductions (reductions.hpp): sum and mean over every axis, one axis or several; max/min/amax/amin
// (ties), argmax/argmin, prod (zeros), var/std_dev, logsumexp; the Axes argument. Values, shapes,
// gradients, gradient checks over every axis set, errors.
#include <cmath>
#include <limits>
#include <stdexcept>
#include <type_traits>
#include <vector>

#include "test_util.hpp"

namespace xtgrad_test {
namespace {

using Vars = std::vector<Variable>;
using xtgrad::Axes;
using xtgrad::Correction;

const Tensor kX{{1.0, 2.0, 3.0}, {4.0, 5.0, 6.0}};
const Tensor kM{{1.0, 5.0, 2.0}, {7.0, 0.5, 3.0}};  // no ties within a row or column

TEST(Reductions, SumAndMeanOfAllElementsAreZeroDim) {
  const Variable s = xtgrad::sum(Variable(kX));
  const Variable m = xtgrad::mean(Variable(kX));
  EXPECT_EQ(s.dim(), 0u);
  EXPECT_EQ(m.dim(), 0u);
  EXPECT_NEAR(s.item(), 21.0, 1e-12);
  EXPECT_NEAR(m.item(), 3.5, 1e-12);
}

TEST(Reductions, SumAlongEachAxisMatchesHandValues) {
  const Variable x(kX);
  expect_tensor_near(xtgrad::sum(x, 0).value(), Tensor{5.0, 7.0, 9.0});
  expect_tensor_near(xtgrad::sum(x, 1).value(), Tensor{6.0, 15.0});
  expect_tensor_near(xtgrad::sum(x, 0, true).value(), Tensor{{5.0, 7.0, 9.0}});
  expect_tensor_near(xtgrad::sum(x, 1, true).value(), reshaped(Tensor{6.0, 15.0}, {2, 1}));
}

TEST(Reductions, MeanAlongEachAxisMatchesHandValues) {
  const Variable x(kX);
  expect_tensor_near(xtgrad::mean(x, 0).value(), Tensor{2.5, 3.5, 4.5});
  expect_tensor_near(xtgrad::mean(x, 1).value(), Tensor{2.0, 5.0});
  expect_tensor_near(xtgrad::mean(x, 0, true).value(), Tensor{{2.5, 3.5, 4.5}});
  expect_tensor_near(xtgrad::mean(x, 1, true).value(), reshaped(Tensor{2.0, 5.0}, {2, 1}));
}

TEST(Reductions, NegativeAxisCountsFromTheEnd) {
  const Variable x(kX);
  expect_tensor_near(xtgrad::sum(x, -1).value(), xtgrad::sum(x, 1).value());
  expect_tensor_near(xtgrad::sum(x, -2, true).value(), xtgrad::sum(x, 0, true).value());
  expect_tensor_near(xtgrad::mean(x, -1, true).value(), xtgrad::mean(x, 1, true).value());
  expect_tensor_near(xtgrad::mean(x, -2).value(), xtgrad::mean(x, 0).value());
}

TEST(Reductions, MiddleAxisOfThreeDimTensor) {
  // x(i, j, k) = 6i + 2j + k over shape (2, 3, 2); summing j gives 3·(6i + k) + 6
  Tensor t = Tensor::from_shape({2, 3, 2});
  for (std::size_t i = 0; i < t.size(); ++i) t.data()[i] = double(i);
  const Variable x(t);
  expect_tensor_near(xtgrad::sum(x, 1).value(), Tensor{{6.0, 9.0}, {24.0, 27.0}});
  EXPECT_EQ(xtgrad::sum(x, 1, true).shape(), (Shape{2, 1, 2}));
  expect_tensor_near(xtgrad::mean(x, -2).value(), Tensor{{2.0, 3.0}, {8.0, 9.0}});
}

TEST(Reductions, SumOfAVectorAlongItsOnlyAxisIsZeroDim) {
  const Variable s = xtgrad::sum(Variable(Tensor{1.0, 2.0, 3.5}), 0);
  EXPECT_EQ(s.dim(), 0u);
  EXPECT_NEAR(s.item(), 6.5, 1e-12);
}

TEST(Reductions, MeanBackwardSpreadsOneOverN) {
  Variable x = Variable::parameter(kX);
  xtgrad::sum(xtgrad::mean(x, 0)).backward();
  expect_tensor_near(x.grad(), Tensor{{0.5, 0.5, 0.5}, {0.5, 0.5, 0.5}});
  x.zero_grad();
  xtgrad::mean(x).backward();
  expect_tensor_near(x.grad(), Tensor{{1.0, 1.0, 1.0}, {1.0, 1.0, 1.0}} / 6.0, 1e-15);
}

TEST(Reductions, SumAndMeanOfAllPassGradcheck) {
  const Tensor x = uniform({3, 4}, 1, -1, 1);
  expect_gradcheck([](const Vars& v) { return xtgrad::sum(v[0]); }, {x});
  expect_gradcheck([](const Vars& v) { return xtgrad::mean(v[0]); }, {x});
}

TEST(Reductions, AxisReductionsPassGradcheck) {
  const Tensor x = uniform({3, 4}, 2, -1, 1);
  for (int axis : {0, 1, -1, -2}) {
    for (bool keepdims : {false, true}) {
      SCOPED_TRACE(testing::Message() << "axis " << axis << " keepdims " << keepdims);
      expect_gradcheck([=](const Vars& v) { return xtgrad::sum(v[0], axis, keepdims); }, {x});
      expect_gradcheck([=](const Vars& v) { return xtgrad::mean(v[0], axis, keepdims); }, {x});
    }
  }
}

TEST(Reductions, ThreeDimAxisReductionsPassGradcheck) {
  const Tensor x = uniform({2, 3, 2}, 3, -1, 1);
  for (int axis : {0, 1, 2, -1}) {
    SCOPED_TRACE(testing::Message() << "axis " << axis);
    expect_gradcheck([=](const Vars& v) { return xtgrad::sum(v[0], axis); }, {x});
    expect_gradcheck([=](const Vars& v) { return xtgrad::mean(v[0], axis, true); }, {x});
  }
}

TEST(ReductionErrors, AxisOutOfRangeNamesTheOpAxisAndShape) {
  const Variable x(Tensor::from_shape({2, 3}));
  expect_throws_with<std::invalid_argument>([&] { xtgrad::sum(x, 2); }, {"sum", "axis 2", "(2, 3)"});
  expect_throws_with<std::invalid_argument>([&] { xtgrad::sum(x, -3, true); }, {"sum", "axis -3", "(2, 3)"});
  expect_throws_with<std::invalid_argument>([&] { xtgrad::mean(x, 5); }, {"mean", "axis 5", "(2, 3)"});
}

// Over zero elements the sum is 0 and the mean NaN (0/0), as PyTorch and numpy (docs/ops.md,
// "Reductions"); the gradient is an empty tensor of x's shape.
TEST(Reductions, EmptySumIsZeroAndEmptyMeanIsNaN) {
  Variable empty = Variable::parameter(Tensor::from_shape({0, 3}));
  EXPECT_EQ(xtgrad::sum(empty).item(), 0.0);
  EXPECT_TRUE(std::isnan(xtgrad::mean(empty).item()));
  const Variable m0 = xtgrad::mean(empty, 0);  // three empty lanes
  ASSERT_EQ(m0.value().shape(), (Shape{3}));
  for (std::size_t j = 0; j < 3; ++j) EXPECT_TRUE(std::isnan(m0.value()(j))) << j;
  expect_tensor_near(xtgrad::sum(empty, 0, true).value(), Tensor{{0.0, 0.0, 0.0}}, 0.0);
  EXPECT_EQ(xtgrad::mean(empty, 1).value().shape(), (Shape{0}));  // no lane at all
  xtgrad::sum(m0 + xtgrad::mean(empty)).backward();
  EXPECT_EQ(empty.grad().shape(), (Shape{0, 3}));
  const Variable g = xtgrad::grad({xtgrad::mean(empty)}, {empty}, {.create_graph = true})[0];
  EXPECT_EQ(g.value().shape(), (Shape{0, 3}));
}


// 0, 1, …, 23 in shape (2, 3, 4)
Tensor iota3() {
  Tensor t = Tensor::from_shape({2, 3, 4});
  for (std::size_t i = 0; i < t.size(); ++i) t.data()[i] = double(i);
  return t;
}

TEST(Reductions, SumAndMeanOverSeveralAxes) {
  const Variable x(iota3());
  // Σ over axes 0 and 2: for j, Σ_i Σ_k (12i + 4j + k) = 2·(4·4j + 6) + 4·12 = 32j + 60
  expect_tensor_near(xtgrad::sum(x, Axes{0, 2}).value(), Tensor{60.0, 92.0, 124.0});
  EXPECT_EQ(xtgrad::sum(x, Axes{0, -1}, true).shape(), (Shape{1, 3, 1}));
  expect_tensor_near(xtgrad::mean(x, Axes{2, 0}).value(), Tensor{7.5, 11.5, 15.5});
  EXPECT_NEAR(xtgrad::sum(x, Axes::all()).item(), 276.0, 1e-12);
  EXPECT_EQ(xtgrad::sum(x, Axes::all()).dim(), 0u);
  EXPECT_EQ(xtgrad::sum(x, Axes::all(), true).shape(), (Shape{1, 1, 1}));
  // adjacent axes (the (outer, n, inner) loop) agree with a gap's plan and with nested sums
  expect_tensor_near(xtgrad::sum(x, {1, 2}).value(), xtgrad::sum(xtgrad::sum(x, 2), 1).value());
  expect_tensor_near(xtgrad::sum(x, {0, 1}, true).value(), xtgrad::sum(xtgrad::sum(x, 0, true), 1, true).value());
  expect_tensor_near(xtgrad::mean(x, {2, 1}).value(), Tensor{5.5, 17.5});
}

TEST(Reductions, MaxMinValuesAlongAxesAndOverAll) {
  const Variable x(kM);
  EXPECT_EQ(xtgrad::max(x).item(), 7.0);
  EXPECT_EQ(xtgrad::min(x).item(), 0.5);
  expect_tensor_near(xtgrad::max(x, 1).value(), Tensor{5.0, 7.0}, 0.0);
  expect_tensor_near(xtgrad::min(x, 0, true).value(), Tensor{{1.0, 0.5, 2.0}}, 0.0);
  expect_tensor_near(xtgrad::amax(Variable(iota3()), Axes{0, 2}).value(), Tensor{15.0, 19.0, 23.0}, 0.0);
  expect_tensor_near(xtgrad::amin(Variable(iota3()), Axes{1}).value(),
                     Tensor{{0.0, 1.0, 2.0, 3.0}, {12.0, 13.0, 14.0, 15.0}}, 0.0);
}

TEST(Reductions, TiesGoToTheFirstAlongAnAxisAndAreSplitByAmaxAndMaxOfAll) {
  const Tensor ties{{3.0, 1.0, 3.0, 3.0}, {2.0, 2.0, 0.0, -1.0}};
  {
    Variable x = Variable::parameter(ties);
    xtgrad::sum(xtgrad::max(x, 1)).backward();  // PyTorch max(dim): the first index
    expect_tensor_near(x.grad(), Tensor{{1.0, 0.0, 0.0, 0.0}, {1.0, 0.0, 0.0, 0.0}}, 0.0);
  }
  {
    Variable x = Variable::parameter(ties);
    xtgrad::sum(xtgrad::amax(x, Axes{1})).backward();  // PyTorch amax: split evenly
    expect_tensor_near(x.grad(), Tensor{{1.0 / 3, 0.0, 1.0 / 3, 1.0 / 3}, {0.5, 0.5, 0.0, 0.0}}, 1e-16);
  }
  {
    Variable x = Variable::parameter(ties);
    xtgrad::max(x).backward();  // PyTorch max(): split evenly
    expect_tensor_near(x.grad(), Tensor{{1.0 / 3, 0.0, 1.0 / 3, 1.0 / 3}, {0.0, 0.0, 0.0, 0.0}}, 1e-16);
  }
  {
    Variable x = Variable::parameter(ties);
    xtgrad::sum(xtgrad::min(x, 0)).backward();
    expect_tensor_near(x.grad(), Tensor{{0.0, 1.0, 0.0, 0.0}, {1.0, 0.0, 1.0, 1.0}}, 0.0);
  }
}

TEST(Reductions, NaNMakesTheMaxNaNAndArgmaxPointAtIt) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const Variable x(Tensor{{1.0, nan, 3.0}, {5.0, 1.0, nan}});
  const Tensor m = xtgrad::max(x, 1).value();
  EXPECT_TRUE(std::isnan(m(0)) && std::isnan(m(1)));
  expect_values(xtgrad::argmax(x, 1), {2}, {1.0, 2.0});
  EXPECT_TRUE(std::isnan(xtgrad::min(x).item()));
}

TEST(Reductions, ArgmaxArgminGiveTheFirstIndex) {
  const Variable x(Tensor{{3.0, 1.0, 3.0}, {0.0, 4.0, 0.0}});
  expect_values(xtgrad::argmax(x), {}, {4.0});
  expect_values(xtgrad::argmin(x), {}, {3.0});
  expect_values(xtgrad::argmax(x, 1), {2}, {0.0, 1.0});
  expect_values(xtgrad::argmin(x, -1, true), {2, 1}, {1.0, 0.0});
  expect_values(xtgrad::argmax(x, 0), {3}, {0.0, 1.0, 0.0});
  expect_values(xtgrad::argmax(Variable(iota3()), 1), {2, 4}, {2, 2, 2, 2, 2, 2, 2, 2});
}

TEST(Reductions, ProdValuesAndGradientsWithZeros) {
  Variable x = Variable::parameter(Tensor{{2.0, 3.0, 4.0}, {0.0, 5.0, 6.0}, {0.0, 0.0, 7.0}});
  const Variable p = xtgrad::prod(x, 1);
  expect_tensor_near(p.value(), Tensor{24.0, 0.0, 0.0}, 0.0);
  xtgrad::sum(p).backward();
  expect_tensor_near(x.grad(), Tensor{{12.0, 8.0, 6.0}, {30.0, 0.0, 0.0}, {0.0, 0.0, 0.0}}, 1e-14);
  EXPECT_EQ(xtgrad::prod(Variable(Tensor{{2.0, 3.0}, {4.0, 0.5}})).item(), 12.0);
  EXPECT_EQ(xtgrad::prod(Variable(Tensor::from_shape({0}))).item(), 1.0);  // empty product
}

TEST(Reductions, VarAndStdMatchHandValues) {
  const Variable x(Tensor{{1.0, 2.0, 3.0, 4.0}, {2.0, 2.0, 2.0, 2.0}});
  expect_tensor_near(xtgrad::var(x, 1).value(), Tensor{5.0 / 3, 0.0}, 1e-15);
  expect_tensor_near(xtgrad::var(x, 1, Correction(0)).value(), Tensor{1.25, 0.0}, 1e-15);
  expect_tensor_near(xtgrad::std_dev(x, 1, Correction(1), true).value(),
                     reshaped(Tensor{std::sqrt(5.0 / 3), 0.0}, {2, 1}),
                     1e-15);
  // all 8: mean 2.25, Σ(x − mean)² = 5.5
  EXPECT_NEAR(xtgrad::var(x).item(), 5.5 / 7, 1e-15);
  EXPECT_NEAR(xtgrad::std_dev(x, Correction(0)).item(), std::sqrt(5.5 / 8), 1e-15);
  EXPECT_TRUE(std::isnan(xtgrad::var(Variable(Tensor{3.0})).item()));  // N − 1 = 0, as PyTorch
}

// A lane of equal values has std 0, where √ has no derivative: the gradient there is 0, as
// PyTorch's (which masks result == 0), not 0/0 = NaN, so one constant row (a dead feature, a
// padded sample) does not poison the gradient upstream. First and second derivatives.
TEST(Reductions, StdOfAConstantLaneHasGradientZeroAsPyTorch) {
  const Tensor x0{{2.0, 2.0, 2.0, 2.0}, {1.0, 2.0, 3.0, 4.0}};
  const Tensor w{3.0, -2.0};  // weights of the two lanes' std in the loss
  for (bool unbiased : {true, false}) {
    SCOPED_TRACE(unbiased ? "unbiased" : "biased");
    const double dof = unbiased ? 3.0 : 4.0, s1 = std::sqrt(5.0 / dof);  // row 1: Σ(x − 2.5)² = 5
    Variable x = Variable::parameter(x0);
    const Correction c(unbiased ? 1 : 0);
    const Variable y = xtgrad::std_dev(x * 1.0, 1, c);  // through an op: the NaN would spread upstream
    EXPECT_EQ(y.value()(0), 0.0);
    EXPECT_NEAR(y.value()(1), s1, 1e-15);
    xtgrad::sum(y * Variable(w)).backward();
    const Tensor d{-1.5, -0.5, 0.5, 1.5};  // row 1 minus its mean
    for (std::size_t j = 0; j < 4; ++j) {
      EXPECT_EQ(x.grad()(0, j), 0.0) << j;
      EXPECT_NEAR(x.grad()(1, j), -2.0 * d(j) / (dof * s1), 1e-15) << j;
    }
    // create_graph: the first derivative as a graph, then its derivative along u: the constant
    // lane's second derivatives are 0 too (PyTorch: 0), the other lane's those of its std alone
    const Tensor u{{0.3, -0.7, 1.1, 0.2}, {0.5, -0.4, 0.9, -1.3}};
    Variable xc = Variable::parameter(x0);
    const Variable g = xtgrad::grad({xtgrad::sum(xtgrad::std_dev(xc, 1, c) * Variable(w))}, {xc},
                                    {.create_graph = true})[0];
    for (std::size_t j = 0; j < 4; ++j) EXPECT_EQ(g.value()(0, j), 0.0) << j;
    const Tensor h = xtgrad::grad({xtgrad::sum(g * Variable(u))}, {xc})[0].value();
    Variable r1 = Variable::parameter(Tensor{1.0, 2.0, 3.0, 4.0});
    const Variable g1 = xtgrad::grad({xtgrad::std_dev(r1, c) * -2.0}, {r1}, {.create_graph = true})[0];
    const Tensor h1 = xtgrad::grad({xtgrad::sum(g1 * Variable(Tensor{0.5, -0.4, 0.9, -1.3}))}, {r1})[0].value();
    for (std::size_t j = 0; j < 4; ++j) {
      EXPECT_EQ(h(0, j), 0.0) << j;
      EXPECT_NEAR(h(1, j), h1(j), 1e-15) << j;
    }
  }
  // not only exact ties of the sum: Σ 0.1 / 3 rounds to 0.10000000000000002, yet the lane's
  // std is exactly 0 (each lane is shifted by its first element before summing)
  Variable t = Variable::parameter(Tensor{0.1, 0.1, 0.1});
  const Variable st = xtgrad::std_dev(t);
  EXPECT_EQ(st.item(), 0.0);
  EXPECT_EQ(xtgrad::var(t).item(), 0.0);
  st.backward();
  for (std::size_t j = 0; j < 3; ++j) EXPECT_EQ(t.grad()(j), 0.0) << j;
  // central differences agree: std is even about a constant lane, so they give 0 there
  expect_gradcheck([](const Vars& v) { return xtgrad::std_dev(v[0], 1); }, {x0});
  expect_gradcheck([](const Vars& v) { return xtgrad::std_dev(v[0], Axes{0, 1}, Correction(0)); },
                   {Tensor{{0.5, 0.5}, {0.5, 0.5}}});
}

// Reductions over zero elements (docs/ops.md, "Reductions"): the identity where there is one
// (sum 0, prod 1, logsumexp −inf), NaN for the averages (mean, var, std_dev: 0/0, as PyTorch and
// numpy), an error naming the op and the shape for max/min/amax/amin/argmax/argmin. The
// gradient is then an empty tensor.
TEST(Reductions, EmptyReductionsFollowOneRule) {
  const Variable e0(Tensor::from_shape({0}));
  for (bool unbiased : {true, false}) {
    const Correction c(unbiased ? 1 : 0);
    EXPECT_TRUE(std::isnan(xtgrad::var(e0, c).item())) << unbiased;  // was −0 (0/−1) unbiased
    EXPECT_TRUE(std::isnan(xtgrad::std_dev(e0, c).item())) << unbiased;
  }
  EXPECT_TRUE(std::isnan(xtgrad::mean(e0, Axes::all()).item()));
  EXPECT_EQ(xtgrad::sum(e0, Axes::all()).item(), 0.0);
  EXPECT_EQ(xtgrad::prod(e0).item(), 1.0);
  EXPECT_EQ(xtgrad::logsumexp(e0).item(), -std::numeric_limits<double>::infinity());
  // (3, 0): over axis 1, three empty lanes; over axis 0, no lane at all
  const Variable e30(Tensor::from_shape({3, 0}));
  for (const Variable& v : {xtgrad::mean(e30, Axes{1}), xtgrad::var(e30, 1), xtgrad::std_dev(e30, 1, Correction(0))}) {
    ASSERT_EQ(v.value().shape(), (Shape{3}));
    for (std::size_t i = 0; i < 3; ++i) EXPECT_TRUE(std::isnan(v.value()(i)));
  }
  expect_tensor_near(xtgrad::sum(e30, Axes{1}).value(), Tensor{0.0, 0.0, 0.0}, 0.0);
  EXPECT_EQ(xtgrad::var(e30, 0, Correction(1), true).value().shape(), (Shape{1, 0}));
  // the gradient: empty, of x's shape, first and second order
  Variable p = Variable::parameter(Tensor::from_shape({3, 0}));
  xtgrad::sum(xtgrad::std_dev(p, 1) + xtgrad::var(p, 1) + xtgrad::mean(p, Axes{1})).backward();
  EXPECT_EQ(p.grad().shape(), (Shape{3, 0}));
  const Variable g = xtgrad::grad({xtgrad::sum(xtgrad::std_dev(p, 1))}, {p}, {.create_graph = true})[0];
  EXPECT_EQ(g.value().shape(), (Shape{3, 0}));
  // no identity: an error naming the op and the shape
  const Variable e03(Tensor::from_shape({0, 3}));
  expect_throws_with<std::invalid_argument>([&] { xtgrad::amin(e03, Axes{0}); }, {"amin", "empty", "(0, 3)"});
  expect_throws_with<std::invalid_argument>([&] { xtgrad::max(e03, 0); }, {"max", "empty", "(0, 3)"});
}

TEST(Reductions, LogsumexpIsStableAndMatchesHandValues) {
  const Variable x(Tensor{{1000.0, 1000.0}, {-1000.0, 0.0}});
  expect_tensor_near(xtgrad::logsumexp(x, 1).value(), Tensor{1000.0 + std::log(2.0), std::log1p(std::exp(-1000.0))},
                     1e-12);
  EXPECT_NEAR(xtgrad::logsumexp(Variable(Tensor{0.0, std::log(3.0)})).item(), std::log(4.0), 1e-15);
  const double inf = std::numeric_limits<double>::infinity();
  EXPECT_EQ(xtgrad::logsumexp(Variable(Tensor{-inf, -inf})).item(), -inf);
}

TEST(Reductions, PassGradcheckOverEveryAxisSet) {
  const Tensor x = uniform({2, 3, 4}, 1, -1.0, 1.0);  // distinct values: no ties
  const Tensor positive = uniform({2, 3, 4}, 2, 0.5, 1.5);
  for (const Axes& axes : {Axes{0}, Axes{1}, Axes{-1}, Axes{0, 2}, Axes{1, 2}, Axes{0, 1}, Axes::all()}) {
    for (bool keep : {false, true}) {
      SCOPED_TRACE(testing::Message() << axes.str() << " keepdims " << keep);
      expect_gradcheck([=](const Vars& v) { return xtgrad::sum(v[0], axes, keep); }, {x});
      expect_gradcheck([=](const Vars& v) { return xtgrad::mean(v[0], axes, keep); }, {x});
      expect_gradcheck([=](const Vars& v) { return xtgrad::amax(v[0], axes, keep); }, {x});
      expect_gradcheck([=](const Vars& v) { return xtgrad::amin(v[0], axes, keep); }, {x});
      expect_gradcheck([=](const Vars& v) { return xtgrad::prod(v[0], axes, keep); }, {positive});
      expect_gradcheck([=](const Vars& v) { return xtgrad::var(v[0], axes, Correction(1), keep); }, {x});
      expect_gradcheck([=](const Vars& v) { return xtgrad::var(v[0], axes, Correction(0), keep); }, {x});
      expect_gradcheck([=](const Vars& v) { return xtgrad::std_dev(v[0], axes, Correction(1), keep); }, {x});
      expect_gradcheck([=](const Vars& v) { return xtgrad::logsumexp(v[0], axes, keep); }, {x});
    }
  }
  for (int axis : {0, 1, 2, -1}) {
    expect_gradcheck([=](const Vars& v) { return xtgrad::max(v[0], axis); }, {x});
    expect_gradcheck([=](const Vars& v) { return xtgrad::min(v[0], axis, true); }, {x});
  }
  expect_gradcheck([](const Vars& v) { return xtgrad::max(v[0]) + xtgrad::min(v[0]); }, {x});
  expect_gradcheck([](const Vars& v) { return xtgrad::prod(v[0]); }, {uniform({5}, 3, -2.0, 2.0)});
}

TEST(Reductions, ProdWithOneZeroPassesGradcheck) {
  // a single zero per lane: the derivative at it is the product of the others
  const Tensor x{{0.0, 1.5, -0.7}, {0.8, 0.0, 1.2}};
  expect_gradcheck([](const Vars& v) { return xtgrad::prod(v[0], 1); }, {x});
}

TEST(ReductionErrors, AxesAndEmptyReductionsAreNamed) {
  const Variable x(Tensor::from_shape({2, 3}));
  expect_throws_with<std::invalid_argument>(
      [&] {
        xtgrad::amax(x, Axes{0, 0});
      },
      {"amax", "axis 0", "twice", "(2, 3)"});
  expect_throws_with<std::invalid_argument>([&] { xtgrad::amax(x, Axes{1, -1}); }, {"amax", "axis -1", "twice"});
  expect_throws_with<std::invalid_argument>([&] { xtgrad::sum(x, Axes{0, 2}); }, {"sum", "axis 2", "(2, 3)"});
  expect_throws_with<std::invalid_argument>([&] { xtgrad::var(x, 5); }, {"var", "axis 5", "(2, 3)"});
  expect_throws_with<std::invalid_argument>([&] { xtgrad::logsumexp(x, -3); }, {"logsumexp", "axis -3", "(2, 3)"});
  const Variable empty(Tensor::from_shape({0, 3}));
  expect_throws_with<std::invalid_argument>([&] { xtgrad::max(empty); }, {"max", "empty", "(0, 3)"});
  expect_throws_with<std::invalid_argument>([&] { xtgrad::argmin(empty, 0); }, {"argmin", "empty", "(0, 3)"});
}

// Axes: an int and a braced list convert, a bool never does, and "every axis" has a name.
static_assert(std::is_convertible_v<int, Axes>);
static_assert(std::is_convertible_v<std::size_t, Axes>);
static_assert(!std::is_convertible_v<bool, Axes>);
static_assert(!std::is_default_constructible_v<Axes>);
static_assert(!std::is_convertible_v<std::vector<int>, Axes>);  // explicit: Axes(v)

// The spelling of 0.1, deprecated (issue 22 §3.5): still compiles and means what it meant.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
TEST(Reductions, VarOfABoolIsUnbiasedNeverAnAxis) {
  const Variable x(Tensor{{1.0, 2.0, 4.0}, {3.0, 5.0, 9.0}});  // Σ(x − 4)² = 40 over 6 elements
  EXPECT_NEAR(xtgrad::var(x, false).item(), 40.0 / 6, 1e-12);
  EXPECT_NEAR(xtgrad::var(x, true).item(), 40.0 / 5, 1e-12);
  EXPECT_NEAR(xtgrad::std_dev(x, false).item(), std::sqrt(40.0 / 6), 1e-12);
  EXPECT_EQ(xtgrad::var(x, false).dim(), 0u);  // every axis, not axis 0
  // an int is an axis: var(x, 0) reduces axis 0, unbiased
  expect_tensor_near(xtgrad::var(x, 0).value(), Tensor{2.0, 4.5, 12.5}, 1e-12);
  expect_tensor_near(xtgrad::var(x, 1, false).value(), Tensor{14.0 / 9, 56.0 / 9}, 1e-12);
  expect_tensor_near(xtgrad::std_dev(x, 1, true, true).value(),
                     reshaped(Tensor{std::sqrt(7.0 / 3), 2.0 * std::sqrt(7.0 / 3)}, {2, 1}), 1e-12);
}
#pragma GCC diagnostic pop

// PyTorch's correction: the divisor is N − correction, so var(x, 0) (axis 0) and
// var(x, Correction(0)) (biased, every axis) cannot be mistaken for each other.
TEST(Reductions, CorrectionSetsTheDivisor) {
  const Variable x(Tensor{{1.0, 2.0, 4.0}, {3.0, 5.0, 9.0}});  // Σ(x − 4)² = 40 over 6 elements
  EXPECT_NEAR(xtgrad::var(x, Correction(0)).item(), 40.0 / 6, 1e-12);
  EXPECT_NEAR(xtgrad::var(x).item(), 40.0 / 5, 1e-12);
  EXPECT_NEAR(xtgrad::var(x, Axes::all(), Correction(2)).item(), 40.0 / 4, 1e-12);
  EXPECT_NEAR(xtgrad::std_dev(x, Correction(0)).item(), std::sqrt(40.0 / 6), 1e-12);
  EXPECT_EQ(xtgrad::var(x, Correction(0)).dim(), 0u);
  expect_tensor_near(xtgrad::var(x, 0).value(), Tensor{2.0, 4.5, 12.5}, 1e-12);  // an int is an axis
  expect_tensor_near(xtgrad::var(x, 1, Correction(0), true).value(), reshaped(Tensor{14.0 / 9, 56.0 / 9}, {2, 1}),
                     1e-12);
  EXPECT_TRUE(std::isinf(xtgrad::var(x, 1, Correction(3)).value()(0)));  // N − 3 = 0: 14/0, as PyTorch
  const Tensor x0 = uniform({3, 4}, 7, -1.0, 1.0);
  expect_gradcheck([](const Vars& v) { return xtgrad::var(v[0], 1, Correction(2)); }, {x0});
  expect_gradcheck([](const Vars& v) { return xtgrad::std_dev(v[0], Axes{0, 1}, Correction(0), true); }, {x0});
  static_assert(!std::is_convertible_v<int, Correction>);  // explicit: an int is an axis
  static_assert(!std::is_convertible_v<bool, Correction>);
}

TEST(Reductions, AxesListsLongerThanTheInlineStorage) {
  Tensor t = Tensor::from_shape({2, 1, 1, 1, 1, 1, 1, 1, 1, 3});  // rank 10 > Axes::kInline
  for (std::size_t i = 0; i < t.size(); ++i) t.data()[i] = double(i);
  const Axes all_but_first{1, 2, 3, 4, 5, 6, 7, 8, 9};
  const Axes copy = all_but_first;
  EXPECT_EQ(copy.size(), 9u);
  EXPECT_EQ(copy[8], 9);
  expect_tensor_near(xtgrad::sum(Variable(t), copy).value(), Tensor{3.0, 12.0});
  expect_tensor_near(xtgrad::amax(Variable(t), Axes(std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7, 8})).value(),
                     Tensor{3.0, 4.0, 5.0}, 0.0);
}

TEST(ReductionErrors, AnEmptyListAndSeveralArgmaxAxesAreRejected) {
  const Variable x(iota3());
  expect_throws_with<std::invalid_argument>([&] { xtgrad::sum(x, Axes(std::vector<int>{})); },
                                            {"sum", "empty axis list", "rank 3", "(2, 3, 4)", "Axes::all()"});
  expect_throws_with<std::invalid_argument>([&] { xtgrad::argmax(x, {0, 2}); },
                                            {"argmax", "axes (0, 2)", "rank 3", "(2, 3, 4)"});
  expect_throws_with<std::invalid_argument>([&] { xtgrad::mean(x, {0, 3}); }, {"mean", "axis 3", "rank 3"});
}

}  // namespace
}  // namespace xtgrad_test
