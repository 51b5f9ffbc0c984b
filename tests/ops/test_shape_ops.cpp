// squeeze/unsqueeze/flatten, permute/swap_axes, concat/stack, slice/narrow/split: values,
// shapes, gradients, gradient checks, errors.
#include <stdexcept>

#include "test_util.hpp"

namespace xtgrad_test {
namespace {

using Vars = std::vector<Variable>;
using Perm = std::vector<int>;

// 0, 1, …, 23 in shape (2, 3, 4)
Tensor iota3() {
  Tensor t = Tensor::from_shape({2, 3, 4});
  for (std::size_t i = 0; i < t.size(); ++i) t.data()[i] = double(i);
  return t;
}

TEST(ShapeOps, SqueezeUnsqueezeFlattenShapes) {
  const Variable x(Tensor::from_shape({2, 1, 3, 1}));
  EXPECT_EQ(xtgrad::squeeze(x).shape(), (Shape{2, 3}));
  EXPECT_EQ(xtgrad::squeeze(x, 1).shape(), (Shape{2, 3, 1}));
  EXPECT_EQ(xtgrad::squeeze(x, -1).shape(), (Shape{2, 1, 3}));
  EXPECT_EQ(xtgrad::squeeze(x, 0).shape(), (Shape{2, 1, 3, 1}));  // extent 2: unchanged, as PyTorch
  EXPECT_EQ(xtgrad::unsqueeze(x, 0).shape(), (Shape{1, 2, 1, 3, 1}));
  EXPECT_EQ(xtgrad::unsqueeze(x, -1).shape(), (Shape{2, 1, 3, 1, 1}));
  EXPECT_EQ(xtgrad::unsqueeze(x, 4).shape(), (Shape{2, 1, 3, 1, 1}));
  EXPECT_EQ(xtgrad::flatten(x).shape(), (Shape{6}));
  EXPECT_EQ(xtgrad::flatten(x, 1).shape(), (Shape{2, 3}));
  EXPECT_EQ(xtgrad::flatten(x, 1, 2).shape(), (Shape{2, 3, 1}));
  EXPECT_EQ(xtgrad::flatten(Variable(Tensor(2.0))).shape(), (Shape{1}));
  EXPECT_EQ(xtgrad::squeeze(Variable(Tensor::from_shape({1, 1}))).dim(), 0u);
}

TEST(ShapeOps, PermuteAndSwapAxesValues) {
  const Variable x(iota3());
  const Tensor p = xtgrad::permute(x, Perm{2, 0, 1}).value();
  ASSERT_EQ(xtgrad::shape_of(p), (Shape{4, 2, 3}));
  for (std::size_t i = 0; i < 2; ++i) {
    for (std::size_t j = 0; j < 3; ++j) {
      for (std::size_t k = 0; k < 4; ++k) EXPECT_EQ(p(k, i, j), x.value()(i, j, k));
    }
  }
  const Tensor s = xtgrad::swap_axes(x, 0, -1).value();
  ASSERT_EQ(xtgrad::shape_of(s), (Shape{4, 3, 2}));
  EXPECT_EQ(s(3, 1, 0), x.value()(0, 1, 3));
  EXPECT_EQ(s(2, 2, 1), x.value()(1, 2, 2));
}

TEST(ShapeOps, ConcatAndStackValues) {
  const Variable a(Tensor{{1.0, 2.0}, {3.0, 4.0}}), b(Tensor{{5.0, 6.0}});
  expect_values(xtgrad::concat({a, b}, 0).value(), {3, 2}, {1, 2, 3, 4, 5, 6});
  const Variable c(reshaped(Tensor{7.0, 8.0}, {2, 1}));
  expect_values(xtgrad::concat({a, c, a}, -1).value(), {2, 5}, {1, 2, 7, 1, 2, 3, 4, 8, 3, 4});
  expect_values(xtgrad::stack({a, a * 10.0}, 0).value(), {2, 2, 2}, {1, 2, 3, 4, 10, 20, 30, 40});
  expect_values(xtgrad::stack({a, a * 10.0}, 1).value(), {2, 2, 2}, {1, 2, 10, 20, 3, 4, 30, 40});
  expect_values(xtgrad::stack({a, a * 10.0}, -1).value(), {2, 2, 2}, {1, 10, 2, 20, 3, 30, 4, 40});
}

TEST(ShapeOps, SliceNarrowSplitValues) {
  const Variable x(Tensor{{0.0, 1.0, 2.0, 3.0, 4.0}, {5.0, 6.0, 7.0, 8.0, 9.0}});
  expect_values(xtgrad::slice(x, 1, 1, 4).value(), {2, 3}, {1, 2, 3, 6, 7, 8});
  expect_values(xtgrad::slice(x, 1, 0, 5, 2).value(), {2, 3}, {0, 2, 4, 5, 7, 9});
  expect_values(xtgrad::slice(x, 1, -2, 100).value(), {2, 2}, {3, 4, 8, 9});  // Python clamping
  expect_values(xtgrad::slice(x, 0, 1, 0).value(), {0, 5}, {});
  expect_values(xtgrad::narrow(x, 1, -3, 2).value(), {2, 2}, {2, 3, 7, 8});
  const std::vector<Variable> parts = xtgrad::split(x, 2, 1);
  ASSERT_EQ(parts.size(), 3u);
  expect_values(parts[2].value(), {2, 1}, {4, 9});
  const std::vector<Variable> sized = xtgrad::split_sizes(x, {1, 4}, -1);
  expect_values(sized[1].value(), {2, 4}, {1, 2, 3, 4, 6, 7, 8, 9});
}

TEST(ShapeOps, ChunkGivesTorchChunksInAnArray) {
  const Variable x(Tensor{{0.0, 1.0, 2.0, 3.0, 4.0}, {5.0, 6.0, 7.0, 8.0, 9.0}});
  // torch.chunk(x, 3, 1): ⌈5/3⌉ = 2 columns each, the last the remaining one
  const auto [a, b, c] = xtgrad::chunk<3>(x, 1);
  expect_values(a.value(), {2, 2}, {0, 1, 5, 6});
  expect_values(b.value(), {2, 2}, {2, 3, 7, 8});
  expect_values(c.value(), {2, 1}, {4, 9});
  // the same pieces as split by ⌈extent/N⌉, along a negative axis too
  const Variable y(uniform({2, 3, 6}, 4, -1, 1));
  const auto three = xtgrad::chunk<3>(y, -1);
  const std::vector<Variable> parts = xtgrad::split(y, 2, -1);
  for (std::size_t i = 0; i < 3; ++i) expect_tensor_near(three[i].value(), parts[i].value(), 0.0);
  const auto rows = xtgrad::chunk<2>(x, 0);
  expect_values(rows[1].value(), {1, 5}, {5, 6, 7, 8, 9});
}

TEST(ShapeOps, ChunkPassesGradcheck) {
  const Tensor x = uniform({2, 6, 3}, 5, -1, 1);
  expect_gradcheck([](const Vars& v) {
    const auto [a, b, c] = xtgrad::chunk<3>(v[0], 1);
    return a * 2.0 + b * c;  // each piece reaches its own rows of dx
  }, {x});
  expect_gradcheck([](const Vars& v) { return xtgrad::chunk<2>(v[0], -1)[1]; }, {uniform({2, 3}, 6, -1, 1)});
}

TEST(ShapeOpsErrors, ChunkNamesTheShapeWhenItCannotMakeNPieces) {
  // torch.chunk(4 elements, 3) gives 2 pieces of 2: not the 3 asked for
  const Variable x(Tensor::from_shape({2, 4}));
  expect_throws_with<std::invalid_argument>([&] { xtgrad::chunk<3>(x, 1); }, {"chunk", "3 non-empty pieces", "(2, 4)"});
  expect_throws_with<std::invalid_argument>([&] { xtgrad::chunk<3>(x, 0); }, {"chunk", "(2, 4)"});
  expect_throws_with<std::invalid_argument>([&] { xtgrad::chunk<2>(x, 2); }, {"chunk", "axis 2", "(2, 4)"});
}

TEST(ShapeOps, GradientsFlowBackToTheirElements) {
  Variable x = Variable::parameter(Tensor{{1.0, 2.0, 3.0}, {4.0, 5.0, 6.0}});
  // the middle column twice (slice and narrow), the first row once
  const Variable y = xtgrad::sum(xtgrad::slice(x, 1, 1, 2)) + xtgrad::sum(xtgrad::narrow(x, 1, 1, 1)) +
                     xtgrad::sum(xtgrad::split(x, 1, 0)[0]);
  y.backward();
  expect_tensor_near(x.grad(), Tensor{{1.0, 3.0, 1.0}, {0.0, 2.0, 0.0}}, 0.0);
}

TEST(ShapeOps, PassGradcheck) {
  const Tensor x = uniform({2, 3, 4}, 1, -1, 1);
  expect_gradcheck([](const Vars& v) { return xtgrad::squeeze(xtgrad::unsqueeze(v[0], 1)); }, {x});
  expect_gradcheck([](const Vars& v) { return xtgrad::flatten(v[0], 1) * 2.0; }, {x});
  for (const Perm& perm : {Perm{0, 1, 2}, Perm{2, 0, 1}, Perm{1, 2, 0}, Perm{-1, -2, -3}}) {
    expect_gradcheck([=](const Vars& v) { return xtgrad::permute(v[0], perm); }, {x});
  }
  expect_gradcheck([](const Vars& v) { return xtgrad::swap_axes(v[0], 0, 2); }, {x});
  const Tensor y = uniform({2, 5, 4}, 2, -1, 1);
  for (int axis : {0, 1, 2}) {
    SCOPED_TRACE(testing::Message() << "axis " << axis);
    expect_gradcheck([=](const Vars& v) { return xtgrad::stack({v[0], v[1], v[0]}, axis); }, {x, x * 0.5});
    expect_gradcheck([=](const Vars& v) { return xtgrad::slice(v[0], axis, 1, 5, 2); }, {x});
    expect_gradcheck([=](const Vars& v) { return xtgrad::split(v[0], 1, axis)[1]; }, {x});
  }
  expect_gradcheck([](const Vars& v) { return xtgrad::concat({v[0], v[1], v[0]}, 1); }, {x, y});
}

TEST(ShapeOpsErrors, NameTheOpAndShapes) {
  const Variable x(Tensor::from_shape({2, 3}));
  expect_throws_with<std::invalid_argument>([&] { xtgrad::unsqueeze(x, 3); }, {"unsqueeze", "axis 3", "(2, 3)"});
  expect_throws_with<std::invalid_argument>([&] { xtgrad::squeeze(x, 2); }, {"squeeze", "axis 2", "(2, 3)"});
  expect_throws_with<std::invalid_argument>([&] { xtgrad::flatten(x, 1, 0); }, {"flatten", "(2, 3)"});
  expect_throws_with<std::invalid_argument>([&] { xtgrad::permute(x, Perm{0}); }, {"permute", "1 axes", "(2, 3)"});
  expect_throws_with<std::invalid_argument>([&] { xtgrad::permute(x, Perm{1, 1}); }, {"permute", "twice", "(2, 3)"});
  const Variable y(Tensor::from_shape({3, 3}));
  expect_throws_with<std::invalid_argument>([&] { xtgrad::concat({x, y}, 1); },
                                            {"concat", "input 1", "(3, 3)", "(2, 3)"});
  expect_throws_with<std::invalid_argument>([&] { xtgrad::stack({x, y}); }, {"stack", "input 1", "(3, 3)", "(2, 3)"});
  expect_throws_with<std::invalid_argument>([&] { xtgrad::concat(std::vector<Variable>{}); }, {"concat", "at least one"});
  expect_throws_with<std::invalid_argument>([&] { xtgrad::slice(x, 1, 0, 2, 0); }, {"slice", "step", "(2, 3)"});
  expect_throws_with<std::invalid_argument>([&] { xtgrad::narrow(x, 1, 2, 2); }, {"narrow", "start 2", "(2, 3)"});
  expect_throws_with<std::invalid_argument>([&] { xtgrad::split_sizes(x, {1, 1}, 1); }, {"split_sizes", "2", "(2, 3)"});
}

// ---- rows (issue 22 §3.2) ----

TEST(Rows, PythonSliceOfTheFirstAxis) {
  const Variable x = Variable::parameter(reshaped(Tensor{0, 1, 2, 3, 4, 5, 6, 7}, {4, 2}));
  expect_values(x.rows(1, 3).value(), {2, 2}, {2, 3, 4, 5});
  expect_values(xtgrad::rows(x, -1, 10).value(), {1, 2}, {6, 7});
  expect_values(xtgrad::rows(x, 3, 1).value(), {0, 2}, {});
  xtgrad::sum(x.rows(1, 3) * 2.0).backward();
  expect_values(x.grad(), {4, 2}, {0, 0, 2, 2, 2, 2, 0, 0});
  expect_gradcheck([](const Vars& v) { return v[0].rows(1, -1); }, {uniform({4, 3, 2}, 5, -1, 1)});
  expect_throws_with<std::invalid_argument>([] { Variable(Tensor(1.0)).rows(0, 1); }, {"rows", "()"});
}

}  // namespace
}  // namespace xtgrad_test
