// sum/mean over several axes, max/min/amax/amin (ties), argmax/argmin, prod (zeros), var/std_dev,
// logsumexp: values, shapes, gradients, gradient checks over every axis set, errors.
#include <cmath>
#include <limits>
#include <stdexcept>

#include "test_util.hpp"

namespace xtgrad_test {
namespace {

using Vars = std::vector<Variable>;
using xtgrad::Axes;

const Tensor kX{{1.0, 5.0, 2.0}, {7.0, 0.5, 3.0}};

// 0, 1, …, 23 in shape (2, 3, 4)
Tensor iota3() {
  Tensor t = Tensor::from_shape({2, 3, 4});
  for (std::size_t i = 0; i < t.size(); ++i) t.data()[i] = double(i);
  return t;
}

TEST(ReductionsExtra, SumAndMeanOverSeveralAxes) {
  const Variable x(iota3());
  // Σ over axes 0 and 2: for j, Σ_i Σ_k (12i + 4j + k) = 2·(4·4j + 6) + 4·12 = 32j + 60
  expect_tensor_near(xtgrad::sum(x, Axes{0, 2}).value(), Tensor{60.0, 92.0, 124.0});
  EXPECT_EQ(xtgrad::sum(x, Axes{0, -1}, true).shape(), (Shape{1, 3, 1}));
  expect_tensor_near(xtgrad::mean(x, Axes{2, 0}).value(), Tensor{7.5, 11.5, 15.5});
  EXPECT_NEAR(xtgrad::sum(x, Axes{}).item(), 276.0, 1e-12);  // empty list: every axis
  EXPECT_EQ(xtgrad::sum(x, Axes{}).dim(), 0u);
}

TEST(ReductionsExtra, MaxMinValuesAlongAxesAndOverAll) {
  const Variable x(kX);
  EXPECT_EQ(xtgrad::max(x).item(), 7.0);
  EXPECT_EQ(xtgrad::min(x).item(), 0.5);
  expect_tensor_near(xtgrad::max(x, 1).value(), Tensor{5.0, 7.0}, 0.0);
  expect_tensor_near(xtgrad::min(x, 0, true).value(), Tensor{{1.0, 0.5, 2.0}}, 0.0);
  expect_tensor_near(xtgrad::amax(Variable(iota3()), Axes{0, 2}).value(), Tensor{15.0, 19.0, 23.0}, 0.0);
  expect_tensor_near(xtgrad::amin(Variable(iota3()), Axes{1}).value(),
                     Tensor{{0.0, 1.0, 2.0, 3.0}, {12.0, 13.0, 14.0, 15.0}}, 0.0);
}

TEST(ReductionsExtra, TiesGoToTheFirstAlongAnAxisAndAreSplitByAmaxAndMaxOfAll) {
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

TEST(ReductionsExtra, NaNMakesTheMaxNaNAndArgmaxPointAtIt) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const Variable x(Tensor{{1.0, nan, 3.0}, {5.0, 1.0, nan}});
  const Tensor m = xtgrad::max(x, 1).value();
  EXPECT_TRUE(std::isnan(m(0)) && std::isnan(m(1)));
  expect_values(xtgrad::argmax(x, 1), {2}, {1.0, 2.0});
  EXPECT_TRUE(std::isnan(xtgrad::min(x).item()));
}

TEST(ReductionsExtra, ArgmaxArgminGiveTheFirstIndex) {
  const Variable x(Tensor{{3.0, 1.0, 3.0}, {0.0, 4.0, 0.0}});
  expect_values(xtgrad::argmax(x), {}, {4.0});
  expect_values(xtgrad::argmin(x), {}, {3.0});
  expect_values(xtgrad::argmax(x, 1), {2}, {0.0, 1.0});
  expect_values(xtgrad::argmin(x, -1, true), {2, 1}, {1.0, 0.0});
  expect_values(xtgrad::argmax(x, 0), {3}, {0.0, 1.0, 0.0});
  expect_values(xtgrad::argmax(Variable(iota3()), 1), {2, 4}, {2, 2, 2, 2, 2, 2, 2, 2});
}

TEST(ReductionsExtra, ProdValuesAndGradientsWithZeros) {
  Variable x = Variable::parameter(Tensor{{2.0, 3.0, 4.0}, {0.0, 5.0, 6.0}, {0.0, 0.0, 7.0}});
  const Variable p = xtgrad::prod(x, 1);
  expect_tensor_near(p.value(), Tensor{24.0, 0.0, 0.0}, 0.0);
  xtgrad::sum(p).backward();
  expect_tensor_near(x.grad(), Tensor{{12.0, 8.0, 6.0}, {30.0, 0.0, 0.0}, {0.0, 0.0, 0.0}}, 1e-14);
  EXPECT_EQ(xtgrad::prod(Variable(Tensor{{2.0, 3.0}, {4.0, 0.5}})).item(), 12.0);
  EXPECT_EQ(xtgrad::prod(Variable(Tensor::from_shape({0}))).item(), 1.0);  // empty product
}

TEST(ReductionsExtra, VarAndStdMatchHandValues) {
  const Variable x(Tensor{{1.0, 2.0, 3.0, 4.0}, {2.0, 2.0, 2.0, 2.0}});
  expect_tensor_near(xtgrad::var(x, 1).value(), Tensor{5.0 / 3, 0.0}, 1e-15);
  expect_tensor_near(xtgrad::var(x, 1, false).value(), Tensor{1.25, 0.0}, 1e-15);
  expect_tensor_near(xtgrad::std_dev(x, 1, true, true).value(), reshaped(Tensor{std::sqrt(5.0 / 3), 0.0}, {2, 1}),
                     1e-15);
  // all 8: mean 2.25, Σ(x − mean)² = 5.5
  EXPECT_NEAR(xtgrad::var(x).item(), 5.5 / 7, 1e-15);
  EXPECT_NEAR(xtgrad::std_dev(x, false).item(), std::sqrt(5.5 / 8), 1e-15);
  EXPECT_TRUE(std::isnan(xtgrad::var(Variable(Tensor{3.0})).item()));  // N − 1 = 0, as PyTorch
}

TEST(ReductionsExtra, LogsumexpIsStableAndMatchesHandValues) {
  const Variable x(Tensor{{1000.0, 1000.0}, {-1000.0, 0.0}});
  expect_tensor_near(xtgrad::logsumexp(x, 1).value(), Tensor{1000.0 + std::log(2.0), std::log1p(std::exp(-1000.0))},
                     1e-12);
  EXPECT_NEAR(xtgrad::logsumexp(Variable(Tensor{0.0, std::log(3.0)})).item(), std::log(4.0), 1e-15);
  const double inf = std::numeric_limits<double>::infinity();
  EXPECT_EQ(xtgrad::logsumexp(Variable(Tensor{-inf, -inf})).item(), -inf);
}

TEST(ReductionsExtra, PassGradcheckOverEveryAxisSet) {
  const Tensor x = uniform({2, 3, 4}, 1, -1.0, 1.0);  // distinct values: no ties
  const Tensor positive = uniform({2, 3, 4}, 2, 0.5, 1.5);
  for (const Axes& axes : {Axes{0}, Axes{1}, Axes{-1}, Axes{0, 2}, Axes{1, 2}, Axes{}}) {
    for (bool keep : {false, true}) {
      SCOPED_TRACE(testing::Message() << "axes of size " << axes.size() << (axes.empty() ? "" : " first ")
                                      << (axes.empty() ? 0 : axes[0]) << " keepdims " << keep);
      expect_gradcheck([=](const Vars& v) { return xtgrad::sum(v[0], axes, keep); }, {x});
      expect_gradcheck([=](const Vars& v) { return xtgrad::mean(v[0], axes, keep); }, {x});
      expect_gradcheck([=](const Vars& v) { return xtgrad::amax(v[0], axes, keep); }, {x});
      expect_gradcheck([=](const Vars& v) { return xtgrad::amin(v[0], axes, keep); }, {x});
      expect_gradcheck([=](const Vars& v) { return xtgrad::prod(v[0], axes, keep); }, {positive});
      expect_gradcheck([=](const Vars& v) { return xtgrad::var(v[0], axes, true, keep); }, {x});
      expect_gradcheck([=](const Vars& v) { return xtgrad::var(v[0], axes, false, keep); }, {x});
      expect_gradcheck([=](const Vars& v) { return xtgrad::std_dev(v[0], axes, true, keep); }, {x});
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

TEST(ReductionsExtra, ProdWithOneZeroPassesGradcheck) {
  // a single zero per lane: the derivative at it is the product of the others
  const Tensor x{{0.0, 1.5, -0.7}, {0.8, 0.0, 1.2}};
  expect_gradcheck([](const Vars& v) { return xtgrad::prod(v[0], 1); }, {x});
}

TEST(ReductionsExtraErrors, AxesAndEmptyReductionsAreNamed) {
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
  expect_throws_with<std::invalid_argument>([&] { xtgrad::mean(empty, Axes{0}); }, {"mean", "empty", "(0, 3)"});
}

}  // namespace
}  // namespace xtgrad_test
