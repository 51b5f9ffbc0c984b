// index_select, gather, scatter_add, one_hot, and matmul_nd (batched, broadcast, 1-d operands):
// values, gradients, gradient checks, errors.
#include <stdexcept>

#include "test_util.hpp"

namespace xtgrad_test {
namespace {

using Vars = std::vector<Variable>;

TEST(Indexing, IndexSelectValuesAndRepeatedIndexGradient) {
  Variable x = Variable::parameter(Tensor{{1.0, 2.0, 3.0}, {4.0, 5.0, 6.0}});
  const Variable y = xtgrad::index_select(x, 1, {2, 0, 2});
  expect_values(y.value(), {2, 3}, {3, 1, 3, 6, 4, 6});
  xtgrad::sum(y).backward();
  expect_tensor_near(x.grad(), Tensor{{1.0, 0.0, 2.0}, {1.0, 0.0, 2.0}}, 0.0);
}

TEST(Indexing, GatherPicksAlongTheAxisLikePyTorch) {
  // torch.gather(x, 1, [[0, 0], [1, 0]]) = [[1, 1], [4, 3]]
  Variable x = Variable::parameter(Tensor{{1.0, 2.0}, {3.0, 4.0}});
  const Variable y = xtgrad::gather(x, 1, Tensor{{0.0, 0.0}, {1.0, 0.0}});
  expect_values(y.value(), {2, 2}, {1, 1, 4, 3});
  xtgrad::sum(y).backward();
  expect_tensor_near(x.grad(), Tensor{{2.0, 0.0}, {1.0, 1.0}}, 0.0);
  // along axis 0, an index smaller than x
  expect_values(xtgrad::gather(x, 0, filled({1, 1}, 1.0)).value(), {1, 1}, {3});
}

TEST(Indexing, ScatterAddAddsSourceAtTheIndexedPositions) {
  Variable x = Variable::parameter(Tensor{{0.0, 0.0, 0.0}, {10.0, 10.0, 10.0}});
  Variable src = Variable::parameter(Tensor{{1.0, 2.0}, {3.0, 4.0}});
  const Variable y = xtgrad::scatter_add(x, 1, Tensor{{2.0, 2.0}, {0.0, 1.0}}, src);
  expect_values(y.value(), {2, 3}, {0, 0, 3, 13, 14, 10});
  xtgrad::sum(y * Variable(Tensor{{1.0, 2.0, 3.0}, {4.0, 5.0, 6.0}})).backward();
  expect_tensor_near(x.grad(), Tensor{{1.0, 2.0, 3.0}, {4.0, 5.0, 6.0}}, 0.0);
  expect_tensor_near(src.grad(), Tensor{{3.0, 3.0}, {4.0, 5.0}}, 0.0);
}

TEST(Indexing, OneHotRows) {
  expect_values(xtgrad::one_hot<Scalar>({2, 0}, 3), {2, 3}, {0, 0, 1, 1, 0, 0});
}

TEST(Indexing, PassGradcheck) {
  const Tensor x = uniform({3, 4, 2}, 1, -1, 1);
  expect_gradcheck([](const Vars& v) { return xtgrad::index_select(v[0], 1, {3, 0, 3, 1}); }, {x});
  expect_gradcheck([](const Vars& v) { return xtgrad::index_select(v[0], 0, {2, 2}); }, {x});
  const Tensor idx{{{1.0, 0.0}, {3.0, 3.0}}, {{0.0, 1.0}, {2.0, 0.0}}};  // (2, 2, 2) along axis 1
  expect_gradcheck([&](const Vars& v) { return xtgrad::gather(v[0], 1, idx); }, {x});
  const Tensor src = uniform({2, 3, 2}, 2, -1, 1);
  expect_gradcheck([&](const Vars& v) { return xtgrad::scatter_add(v[0], 1, idx, v[1]); }, {x, src});
}

TEST(IndexingErrors, NameTheOpIndexAndShapes) {
  const Variable x(Tensor::from_shape({2, 3}));
  expect_throws_with<std::invalid_argument>([&] { xtgrad::index_select(x, 1, {0, 3}); },
                                            {"index_select", "index 3", "(2, 3)"});
  expect_throws_with<std::invalid_argument>([&] { xtgrad::gather(x, 1, Tensor{{0.0, 3.0}}); },
                                            {"gather", "index value 3", "(2, 3)"});
  expect_throws_with<std::invalid_argument>([&] { xtgrad::gather(x, 1, filled({1, 1}, 0.5)); }, {"gather", "integer"});
  expect_throws_with<std::invalid_argument>([&] { xtgrad::gather(x, 1, Tensor{0.0}); }, {"gather", "rank", "(2, 3)"});
  expect_throws_with<std::invalid_argument>([&] { xtgrad::gather(x, 0, Tensor::from_shape({1, 4})); },
                                            {"gather", "larger", "(2, 3)"});
  expect_throws_with<std::invalid_argument>(
      [&] {
        xtgrad::scatter_add(x, 1, Tensor{{0.0, 1.0}}, Variable(filled({1, 1}, 1.0)));
      },
      {"scatter_add", "src", "(1, 1)"});
  expect_throws_with<std::invalid_argument>([&] { xtgrad::one_hot({3}, 3); }, {"one_hot", "label 3", "3 classes"});
}

// ---- matmul_nd -----------------------------------------------------------------------------

TEST(MatmulNd, ShapesFollowTorchMatmul) {
  const auto shape = [](const Shape& a, const Shape& b) {
    return xtgrad::matmul_nd(Variable(Tensor::from_shape(a)), Variable(Tensor::from_shape(b))).shape();
  };
  EXPECT_EQ(shape({3}, {3}), (Shape{}));
  EXPECT_EQ(shape({2, 3}, {3}), (Shape{2}));
  EXPECT_EQ(shape({3}, {3, 4}), (Shape{4}));
  EXPECT_EQ(shape({5, 2, 3}, {3, 4}), (Shape{5, 2, 4}));
  EXPECT_EQ(shape({3}, {5, 3, 4}), (Shape{5, 4}));
  EXPECT_EQ(shape({5, 2, 3}, {3}), (Shape{5, 2}));
  EXPECT_EQ(shape({5, 1, 2, 3}, {6, 3, 4}), (Shape{5, 6, 2, 4}));
}

TEST(MatmulNd, ValuesMatchPerBatchProducts) {
  // a (2, 2, 3), b (3, 2) broadcast over the batch
  const Tensor a{{{1.0, 2.0, 3.0}, {4.0, 5.0, 6.0}}, {{1.0, 0.0, 0.0}, {0.0, 1.0, 0.0}}};
  const Tensor b{{1.0, 2.0}, {3.0, 4.0}, {5.0, 6.0}};
  expect_values(xtgrad::matmul_nd(Variable(a), Variable(b)).value(), {2, 2, 2}, {22, 28, 49, 64, 1, 2, 3, 4});
  EXPECT_EQ(xtgrad::matmul_nd(Variable(Tensor{1.0, 2.0}), Variable(Tensor{3.0, 4.0})).item(), 11.0);
}

TEST(MatmulNd, PassesGradcheckForEveryRule) {
  const auto check = [](const Shape& a, const Shape& b, std::uint64_t seed) {
    SCOPED_TRACE(testing::Message() << xtgrad::shape_str(a) << " @ " << xtgrad::shape_str(b));
    expect_gradcheck([](const Vars& v) { return xtgrad::matmul_nd(v[0], v[1]); },
                     {uniform(a, seed, -1, 1), uniform(b, seed + 1, -1, 1)});
  };
  check({3}, {3}, 1);
  check({2, 3}, {3}, 3);
  check({3}, {3, 4}, 5);
  check({2, 3}, {3, 4}, 7);
  check({4, 2, 3}, {3, 2}, 9);
  check({3}, {4, 3, 2}, 11);
  check({4, 2, 3}, {3}, 13);
  check({2, 1, 2, 3}, {3, 3, 2}, 15);
  check({1, 2, 3}, {4, 3, 2}, 17);
}

TEST(MatmulNdErrors, NameBothShapes) {
  const auto mm = [](const Shape& a, const Shape& b) {
    xtgrad::matmul_nd(Variable(Tensor::from_shape(a)), Variable(Tensor::from_shape(b)));
  };
  expect_throws_with<std::invalid_argument>([&] { mm({2, 3}, {4, 2}); }, {"matmul_nd", "inner", "(2, 3)", "(4, 2)"});
  expect_throws_with<std::invalid_argument>(
      [&] {
        mm({2, 2, 3}, {3, 3, 2});
      },
      {"matmul_nd", "batch", "(2, 2, 3)", "(3, 3, 2)"});
  expect_throws_with<std::invalid_argument>([&] { mm({}, {3}); }, {"matmul_nd", "()"});
}

}  // namespace
}  // namespace xtgrad_test
