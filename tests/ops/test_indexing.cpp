// index_select, gather, scatter_add, one_hot, and matmul_nd (batched, broadcast, 1-d operands):
// values, gradients, gradient checks, errors.
#include <cstdint>
#include <stdexcept>
#include <type_traits>

#include "test_util.hpp"
#include "xtgrad/nn/normalization.hpp"

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

// ---- IndexTensor: one integer index type (issue 22 §3.3) -----------------------------------

using xtgrad::Index;
using xtgrad::IndexTensor;

// `values` reshaped (a braced {{3}, {0}} is ambiguous for an integer xarray).
IndexTensor shaped(std::initializer_list<Index> values, const Shape& shape) {
  IndexTensor t = xtgrad::index_tensor(values);
  t.reshape(shape);
  return t;
}

TEST(IndexTensor, IsInt64AndArgmaxArgminReturnIt) {
  static_assert(std::is_same_v<IndexTensor::value_type, std::int64_t>);
  const Variable x(Tensor{{1.0, 5.0, 2.0}, {7.0, 0.0, 3.0}});
  static_assert(std::is_same_v<decltype(xtgrad::argmax(x, 1)), IndexTensor>);
  static_assert(std::is_same_v<decltype(xtgrad::argmin(x, 1)), IndexTensor>);
  const IndexTensor am = xtgrad::argmax(x, 1);
  EXPECT_EQ(am, (IndexTensor{1, 0}));
  EXPECT_EQ(xtgrad::argmin(x, 1), (IndexTensor{0, 1}));
  EXPECT_EQ(xtgrad::argmax(x)(), 3);
  // argmax feeds the index ops directly: the row maxima, picked back by gather
  IndexTensor column = am;
  column.reshape({2, 1});
  expect_values(xtgrad::gather(x, 1, column).value(), {2, 1}, {5, 7});
  expect_values(xtgrad::one_hot<Scalar>(am, 3), {2, 3}, {0, 1, 0, 1, 0, 0});
}

TEST(IndexTensor, EveryIndexOpTakesIt) {
  Variable x = Variable::parameter(Tensor{{1.0, 2.0, 3.0}, {4.0, 5.0, 6.0}});
  expect_values(xtgrad::index_select(x, 1, IndexTensor{2, 0, 2}).value(), {2, 3}, {3, 1, 3, 6, 4, 6});
  expect_values(xtgrad::index_select(x, 1, xtgrad::index_tensor({1})).value(), {2, 1}, {2, 5});
  const Variable g = xtgrad::gather(x, 1, IndexTensor{{0, 0}, {2, 1}});
  expect_values(g.value(), {2, 2}, {1, 1, 6, 5});
  xtgrad::sum(g).backward();
  expect_tensor_near(x.grad(), Tensor{{2.0, 0.0, 0.0}, {0.0, 1.0, 1.0}}, 0.0);
  const Variable src(Tensor{{10.0, 20.0}, {30.0, 40.0}});
  expect_values(xtgrad::scatter_add(x, 1, IndexTensor{{2, 2}, {0, 1}}, src).value(), {2, 3},
                {1, 2, 33, 34, 45, 6});
  expect_values(xtgrad::one_hot<Scalar>(IndexTensor{2, 0}, 3), {2, 3}, {0, 0, 1, 1, 0, 0});
  // embedding: indices of any shape → indices.shape + (dim)
  Variable table = Variable::parameter(Tensor{{0.0, 1.0}, {2.0, 3.0}, {4.0, 5.0}});
  const Variable e = xtgrad::embedding(IndexTensor{{2, 0}, {2, 2}}, table);
  expect_values(e.value(), {2, 2, 2}, {4, 5, 0, 1, 4, 5, 4, 5});
  xtgrad::sum(e).backward();
  expect_tensor_near(table.grad(), Tensor{{1.0, 1.0}, {0.0, 0.0}, {3.0, 3.0}}, 0.0);
}

TEST(IndexTensor, FormsAgreeWithTheOlderOnes) {
  const Tensor xv = uniform({3, 4}, 5, -1, 1);
  const Variable x(xv);
  const auto same = [](const Variable& a, const Variable& b) { expect_tensor_near(a.value(), b.value(), 0.0); };
  same(xtgrad::index_select(x, 0, IndexTensor{2, 0}), xtgrad::index_select(x, 0, std::vector<std::size_t>{2, 0}));
  Tensor float_index{3.0, 0.0, 1.0};
  float_index.reshape({3, 1});
  same(xtgrad::gather(x, 1, shaped({3, 0, 1}, {3, 1})), xtgrad::gather(x, 1, float_index));
  const Variable table(uniform({5, 3}, 6, -1, 1));
  same(xtgrad::embedding(IndexTensor{4, 1, 1}, table), xtgrad::embedding(Variable(Tensor{4.0, 1.0, 1.0}), table));
  // the nn::Embedding module takes both too
  xtgrad::Rng rng(3);
  xtgrad::nn::BasicEmbedding<Scalar> emb(5, 2, rng);
  same(emb(IndexTensor{{4, 0}}), emb(Variable(Tensor{{4.0, 0.0}})));
}

TEST(IndexTensor, FormsPassGradcheck) {
  const Tensor x = uniform({3, 4, 2}, 1, -1, 1);
  const IndexTensor idx{{{1, 0}, {3, 3}}, {{0, 1}, {2, 0}}};  // (2, 2, 2) along axis 1
  expect_gradcheck([&](const Vars& v) { return xtgrad::gather(v[0], 1, idx); }, {x});
  const Tensor src = uniform({2, 3, 2}, 2, -1, 1);
  expect_gradcheck([&](const Vars& v) { return xtgrad::scatter_add(v[0], 1, idx, v[1]); }, {x, src});
  expect_gradcheck([](const Vars& v) { return xtgrad::index_select(v[0], 1, IndexTensor{3, 0, 3}); }, {x});
  const IndexTensor rows{{1, 0, 1}, {2, 2, 0}};
  expect_gradcheck([&](const Vars& v) { return xtgrad::embedding(rows, v[0]); }, {uniform({3, 4}, 3, -1, 1)});
}

TEST(Embedding, FloatIndexFormPassesGradcheckAndReadsItsIndicesAtBackward) {
  // the float-index form keeps no copy of the rows: backward reads them from the index input
  const Variable idx(Tensor{{1.0, 0.0, 3.0}, {1.0, 1.0, 2.0}});
  expect_gradcheck([&](const Vars& v) { return xtgrad::embedding(idx, v[0]) * v[1]; },
                   {uniform({4, 3}, 7, -1, 1), uniform({2, 3, 3}, 8, -1, 1)});
  // indices changed in place after the forward: backward refuses to use them
  Variable ids(Tensor{2.0, 0.0});
  Variable table = Variable::parameter(uniform({3, 2}, 9, -1, 1));
  const Variable e = xtgrad::embedding(ids, table);
  ids.mutable_value()(0) = 1.0;
  expect_throws_with<std::logic_error>([&] { xtgrad::sum(e).backward(); }, {"embedding"});
  // the IndexTensor form's rows outlive the IndexTensor (they travel with the node)
  Variable t2 = Variable::parameter(uniform({3, 2}, 10, -1, 1));
  Variable y;
  {
    const IndexTensor rows{2, 2, 0};
    y = xtgrad::embedding(rows, t2);
  }
  xtgrad::sum(y).backward();
  expect_tensor_near(t2.grad(), Tensor{{1.0, 1.0}, {0.0, 0.0}, {2.0, 2.0}}, 0.0);
}

TEST(IndexTensor, OutOfRangeAndNegativeIndicesNameTheOpIndexAndSize) {
  const Variable x(Tensor::from_shape({2, 3}));
  expect_throws_with<std::invalid_argument>([&] { xtgrad::index_select(x, 1, IndexTensor{0, 3}); },
                                            {"index_select", "index 3", "size 3", "(2, 3)"});
  expect_throws_with<std::invalid_argument>([&] { xtgrad::index_select(x, 0, {-1}); },
                                            {"index_select", "index -1", "size 2"});
  expect_throws_with<std::invalid_argument>([&] { xtgrad::gather(x, 1, IndexTensor{{0, -2}}); },
                                            {"gather", "index -2", "size 3", "(2, 3)"});
  expect_throws_with<std::invalid_argument>(
      [&] { xtgrad::scatter_add(x, 0, shaped({2}, {1, 1}), Variable(filled({1, 1}, 1.0))); },
      {"scatter_add", "index 2", "size 2"});
  expect_throws_with<std::invalid_argument>([&] { xtgrad::one_hot(IndexTensor{-1}, 3); },
                                            {"one_hot", "label -1", "3 classes"});
  const Variable table(Tensor::from_shape({4, 2}));
  expect_throws_with<std::invalid_argument>([&] { xtgrad::embedding(IndexTensor{1, 4}, table); },
                                            {"embedding", "index 4", "size 4", "(4, 2)"});
  expect_throws_with<std::invalid_argument>([&] { xtgrad::embedding(IndexTensor{-1}, table); },
                                            {"embedding", "index -1"});
  expect_throws_with<std::invalid_argument>([&] { xtgrad::index_select(x, 1, shaped({0}, {1, 1})); },
                                            {"index_select", "1-d", "(1, 1)"});
  // a float tensor of whole numbers converts; anything else is refused by name
  EXPECT_EQ(xtgrad::to_index_tensor(Tensor{2.0, 0.0}), (IndexTensor{2, 0}));
  expect_throws_with<std::invalid_argument>([&] { xtgrad::to_index_tensor(Tensor{0.5}, "labels"); },
                                            {"labels", "integer"});
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
