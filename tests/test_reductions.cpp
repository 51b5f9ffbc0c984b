// sum and mean over everything and along one axis: values, shapes, gradient checks, errors.
#include <cmath>
#include <stdexcept>

#include "test_util.hpp"

namespace xtgrad_test {
namespace {

using Vars = std::vector<Variable>;

const Tensor kX{{1.0, 2.0, 3.0}, {4.0, 5.0, 6.0}};

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

}  // namespace
}  // namespace xtgrad_test
