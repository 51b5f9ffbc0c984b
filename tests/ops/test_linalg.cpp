// matmul, linear, transpose, reshape: values (with xtensor-blas as an independent reference),
// gradient checks, shape errors, and constants that never get a gradient.
#include <stdexcept>

#include <xtensor-blas/xlinalg.hpp>

#include "test_util.hpp"
#include "xtgrad/core/gemm.hpp"
#include "xtgrad/core/parallel.hpp"

namespace xtgrad_test {
namespace {

using Vars = std::vector<Variable>;

const Tensor kA{{1.0, 2.0, 3.0}, {4.0, 5.0, 6.0}};      // (2, 3)
const Tensor kB{{7.0, 8.0}, {9.0, 10.0}, {11.0, 12.0}};  // (3, 2)

// ---- matmul -------------------------------------------------------------------------------

TEST(Matmul, MatchesHandValues) {
  expect_tensor_near(xtgrad::matmul(Variable(kA), Variable(kB)).value(), Tensor{{58.0, 64.0}, {139.0, 154.0}});
}

TEST(Matmul, MatchesXtensorBlasDotOnRandomMatrices) {
  const Tensor a = uniform({4, 5}, 1, -1, 1);
  const Tensor b = uniform({5, 3}, 2, -1, 1);
  const Tensor expected = xt::linalg::dot(a, b);
  expect_tensor_near(xtgrad::matmul(Variable(a), Variable(b)).value(), expected, 1e-13);
}

TEST(Matmul, BackwardGivesHandValues) {
  // L = Σ A·B: dA = 1·Bᵀ (row sums of B per column of A), dB = Aᵀ·1
  const Variable a = Variable::parameter(kA), b = Variable::parameter(kB);
  xtgrad::sum(xtgrad::matmul(a, b)).backward();
  expect_tensor_near(a.grad(), Tensor{{15.0, 19.0, 23.0}, {15.0, 19.0, 23.0}});
  expect_tensor_near(b.grad(), Tensor{{5.0, 5.0}, {7.0, 7.0}, {9.0, 9.0}});
}

TEST(Matmul, PassesGradcheck) {
  expect_gradcheck([](const Vars& v) { return xtgrad::matmul(v[0], v[1]); },
                   {uniform({3, 4}, 3, -1, 1), uniform({4, 2}, 4, -1, 1)});
  // a row vector times a matrix, and a matrix times a column
  expect_gradcheck([](const Vars& v) { return xtgrad::matmul(v[0], v[1]); },
                   {uniform({1, 3}, 5, -1, 1), uniform({3, 4}, 6, -1, 1)});
  expect_gradcheck([](const Vars& v) { return xtgrad::matmul(v[0], v[1]); },
                   {uniform({4, 3}, 7, -1, 1), uniform({3, 1}, 8, -1, 1)});
}

TEST(Matmul, SameInputOnBothSidesPassesGradcheck) {
  // x·xᵀ: one leaf reaches both operands
  expect_gradcheck([](const Vars& v) { return xtgrad::matmul(v[0], xtgrad::transpose(v[0])); },
                   {uniform({3, 2}, 9, -1, 1)});
}

TEST(Matmul, ConstantInputGetsNoGradient) {
  const Variable x(kA);  // an input: constant
  const Variable w = Variable::parameter(kB);
  const Variable z = xtgrad::matmul(x, w);
  EXPECT_TRUE(z.requires_grad());
  xtgrad::sum(z).backward();
  EXPECT_FALSE(x.has_grad());
  ASSERT_TRUE(w.has_grad());
  expect_tensor_near(w.grad(), Tensor{{5.0, 5.0}, {7.0, 7.0}, {9.0, 9.0}});
}

// ---- linear -------------------------------------------------------------------------------

// W (out, in) as torch.nn.functional.linear's: kBᵀ is (2, 3).
const Tensor kBt = xt::transpose(kB);

TEST(Linear, MatchesHandValuesWithEitherBiasShape) {
  const Tensor expected{{58.5, 63.0}, {139.5, 153.0}};
  expect_tensor_near(xtgrad::linear(Variable(kA), Variable(kBt), Variable(Tensor{0.5, -1.0})).value(), expected);
  expect_tensor_near(xtgrad::linear(Variable(kA), Variable(kBt), Variable(Tensor{{0.5, -1.0}})).value(), expected);
  expect_tensor_near(xtgrad::linear(Variable(kA), Variable(kBt)).value(), Tensor{{58.0, 64.0}, {139.0, 154.0}});
}

TEST(Linear, MatchesMatmulWithTheTransposedWeightPlusBias) {
  const Tensor x = uniform({5, 4}, 10, -1, 1), w = uniform({3, 4}, 11, -1, 1), b = uniform({3}, 12, -1, 1);
  const Tensor expected = xt::linalg::dot(x, Tensor(xt::transpose(w))) + b;
  expect_tensor_near(xtgrad::linear(Variable(x), Variable(w), Variable(b)).value(), expected, 1e-13);
}

TEST(Linear, BiasGradientKeepsTheBiasShape) {
  const Variable x(kA), w = Variable::parameter(kBt);
  const Variable b1 = Variable::parameter(Tensor{0.5, -1.0});
  const Variable b2 = Variable::parameter(Tensor{{0.5, -1.0}});
  xtgrad::sum(xtgrad::linear(x, w, b1)).backward();
  xtgrad::sum(xtgrad::linear(x, w, b2)).backward();
  expect_tensor_near(b1.grad(), Tensor{2.0, 2.0});
  expect_tensor_near(b2.grad(), Tensor{{2.0, 2.0}});
  EXPECT_FALSE(x.has_grad());
}

TEST(Linear, PassesGradcheckWithBiasOfShapeOut) {
  expect_gradcheck([](const Vars& v) { return xtgrad::linear(v[0], v[1], v[2]); },
                   {uniform({4, 3}, 13, -1, 1), uniform({2, 3}, 14, -1, 1), uniform({2}, 15, -1, 1)});
}

TEST(Linear, PassesGradcheckWithBiasOfShapeOneByOut) {
  expect_gradcheck([](const Vars& v) { return xtgrad::linear(v[0], v[1], v[2]); },
                   {uniform({4, 3}, 16, -1, 1), uniform({2, 3}, 17, -1, 1), uniform({1, 2}, 18, -1, 1)});
}

TEST(Linear, PassesGradcheckWithoutBiasAndWithCreateGraph) {
  expect_gradcheck([](const Vars& v) { return xtgrad::linear(v[0], v[1]); },
                   {uniform({2, 4, 3}, 22, -1, 1), uniform({5, 3}, 23, -1, 1)});
  expect_gradgradcheck([](const Vars& v) { return xtgrad::square(xtgrad::linear(v[0], v[1])); },
                       {uniform({4, 3}, 24, -1, 1), uniform({2, 3}, 25, -1, 1)});
}

TEST(Linear, PassesGradcheckWithOneRow) {
  expect_gradcheck([](const Vars& v) { return xtgrad::linear(v[0], v[1], v[2]); },
                   {uniform({1, 3}, 19, -1, 1), uniform({4, 3}, 20, -1, 1), uniform({4}, 21, -1, 1)});
}

// ---- N-d operands: the leading axes fold into the gemm's rows ------------------------------

TEST(MatmulFold, LeadingAxesFoldIntoRows) {
  const Tensor a = uniform({2, 3, 4}, 30, -1, 1), b = uniform({4, 5}, 31, -1, 1);
  const Tensor y = xtgrad::matmul(Variable(a), Variable(b)).value();
  ASSERT_EQ(xtgrad::shape_of(y), (Shape{2, 3, 5}));
  const Tensor flat = xtgrad::matmul(Variable(reshaped(a, {6, 4})), Variable(b)).value();
  expect_tensor_near(reshaped(y, {6, 5}), flat, 0.0);
  expect_gradcheck([](const Vars& v) { return xtgrad::matmul(v[0], v[1]); },
                   {uniform({2, 2, 3, 4}, 32, -1, 1), uniform({4, 2}, 33, -1, 1)});
  expect_gradgradcheck([](const Vars& v) { return xtgrad::square(xtgrad::matmul(v[0], v[1])); },
                       {uniform({2, 3, 2}, 34, -1, 1), uniform({2, 3}, 35, -1, 1)});
}

TEST(LinearNd, MatchesTheFlatProductForAnyLeadingShape) {
  const Tensor w = uniform({3, 4}, 40, -1, 1), b = uniform({3}, 41, -1, 1);
  for (const Shape& shape : {Shape{4}, Shape{2, 4}, Shape{2, 3, 4}, Shape{2, 1, 3, 4}, Shape{0, 4}}) {
    SCOPED_TRACE(xtgrad::shape_str(shape));
    const Tensor x = uniform(shape, 42, -1, 1);
    const Tensor y = xtgrad::linear(Variable(x), Variable(w), Variable(b)).value();
    Shape expected_shape = shape;
    expected_shape.back() = 3;
    ASSERT_EQ(xtgrad::shape_of(y), expected_shape);
    const std::size_t rows = x.size() / 4;
    const Tensor flat = xtgrad::linear(Variable(reshaped(x, {rows, 4})), Variable(w), Variable(b)).value();
    expect_tensor_near(reshaped(y, {rows, 3}), flat, 0.0);
  }
}

TEST(LinearNd, PassesGradcheckWithBothBiasShapesAndCreateGraph) {
  expect_gradcheck([](const Vars& v) { return xtgrad::linear(v[0], v[1], v[2]); },
                   {uniform({2, 3, 4}, 43, -1, 1), uniform({2, 4}, 44, -1, 1), uniform({2}, 45, -1, 1)});
  expect_gradcheck([](const Vars& v) { return xtgrad::linear(v[0], v[1], v[2]); },
                   {uniform({3, 1, 2, 4}, 46, -1, 1), uniform({3, 4}, 47, -1, 1), uniform({1, 3}, 48, -1, 1)});
  expect_gradcheck([](const Vars& v) { return xtgrad::linear(v[0], v[1], v[2]); },
                   {uniform({4}, 49, -1, 1), uniform({3, 4}, 50, -1, 1), uniform({3}, 51, -1, 1)});
  expect_gradgradcheck([](const Vars& v) { return xtgrad::square(xtgrad::linear(v[0], v[1], v[2])); },
                       {uniform({2, 2, 3}, 52, -1, 1), uniform({2, 3}, 53, -1, 1), uniform({2}, 54, -1, 1)});
}

TEST(LinearNd, OneAndThreeThreadsAgree) {
  // 2·64 rows × 96 → 80: large enough that gemm splits the products at 3 threads
  const Tensor x = uniform({2, 64, 96}, 55, -1, 1), w = uniform({80, 96}, 56, -1, 1), b = uniform({80}, 57, -1, 1);
  const Tensor r = uniform({2, 64, 80}, 58, -1, 1);
  const auto run = [&](int threads) {
    const xtgrad::NumThreadsGuard guard(threads);
    const Vars v{Variable::parameter(x), Variable::parameter(w), Variable::parameter(b)};
    const Variable y = xtgrad::linear(v[0], v[1], v[2]);
    xtgrad::sum(y * Variable(r)).backward();
    return std::vector<Tensor>{y.value(), v[0].grad(), v[1].grad(), v[2].grad()};
  };
  const std::vector<Tensor> one = run(1), three = run(3);
  // gemm's row or column blocks change nothing but BLAS's tile edges: float noise at most
  for (std::size_t i = 0; i < one.size(); ++i) expect_tensor_near(three[i], one[i], 1e-12);
}

// ---- transpose and reshape ----------------------------------------------------------------

TEST(Transpose, MatchesHandValues) {
  const Variable t = xtgrad::transpose(Variable(kA));
  expect_tensor_near(t.value(), Tensor{{1.0, 4.0}, {2.0, 5.0}, {3.0, 6.0}});
}

TEST(Transpose, ReversesAllAxesOfAThreeDimTensor) {
  Tensor x = Tensor::from_shape({2, 3, 4});
  for (std::size_t i = 0; i < x.size(); ++i) x.data()[i] = double(i);
  const Tensor t = xtgrad::transpose(Variable(x)).value();
  ASSERT_EQ(xtgrad::shape_of(t), (Shape{4, 3, 2}));
  for (std::size_t i = 0; i < 2; ++i)
    for (std::size_t j = 0; j < 3; ++j)
      for (std::size_t k = 0; k < 4; ++k) EXPECT_NEAR(t(k, j, i), x(i, j, k), 0.0);
}

TEST(Transpose, PassesGradcheck) {
  expect_gradcheck([](const Vars& v) { return xtgrad::transpose(v[0]); }, {uniform({2, 3}, 22, -1, 1)});
  expect_gradcheck([](const Vars& v) { return xtgrad::transpose(v[0]); }, {uniform({2, 3, 2}, 23, -1, 1)});
}

TEST(Reshape, KeepsRowMajorOrder) {
  const Variable r = xtgrad::reshape(Variable(kA), {3, 2});
  expect_tensor_near(r.value(), Tensor{{1.0, 2.0}, {3.0, 4.0}, {5.0, 6.0}});
  EXPECT_EQ(xtgrad::reshape(Variable(kA), {6}).shape(), (Shape{6}));
  EXPECT_EQ(xtgrad::reshape(Variable(kA), {1, 6}).shape(), (Shape{1, 6}));
}

TEST(Reshape, ABracedListAndAShapeGiveTheSameResult) {
  // reshape(x, {…}) keeps the extents in the tensor's own shape type; reshape(x, Shape) as before
  const Tensor v = uniform({2, 3, 4}, 27, -1, 1);
  const Shape s{4, 6};
  expect_tensor_near(xtgrad::reshape(Variable(v), {4, 6}).value(), xtgrad::reshape(Variable(v), s).value(), 0.0);
  // beyond the inline rank (4) too, and a 0-d result from {}
  EXPECT_EQ(xtgrad::reshape(Variable(v), {1, 2, 1, 3, 4}).shape(), (Shape{1, 2, 1, 3, 4}));
  EXPECT_EQ(xtgrad::reshape(Variable(Tensor{5.0}), {}).shape(), Shape{});
  expect_throws_with<std::invalid_argument>([&] { xtgrad::reshape(Variable(v), Shape{5, 5}); },
                                            {"reshape", "(2, 3, 4)", "(5, 5)", "25 elements"});
}

TEST(Reshape, PassesGradcheck) {
  // reshape, then an op that depends on the new layout
  expect_gradcheck([](const Vars& v) { return xtgrad::matmul(xtgrad::reshape(v[0], {3, 2}), v[1]); },
                   {uniform({2, 3}, 24, -1, 1), uniform({2, 2}, 25, -1, 1)});
  expect_gradcheck([](const Vars& v) { return xtgrad::reshape(v[0], {6}); }, {uniform({2, 3}, 26, -1, 1)});
}

// ---- shape errors -------------------------------------------------------------------------

TEST(LinalgErrors, MatmulInnerDimensionsNameBothShapes) {
  const Variable a(Tensor::from_shape({2, 3})), b(Tensor::from_shape({4, 5}));
  expect_throws_with<std::invalid_argument>([&] { xtgrad::matmul(a, b); },
                                            {"matmul", "inner dimensions", "(2, 3)", "(4, 5)"});
}

TEST(LinalgErrors, MatmulOfNonMatricesNamesBothShapes) {
  const Variable a3(Tensor::from_shape({2, 3, 4})), b(Tensor::from_shape({4, 2})), v(Tensor::from_shape({3}));
  expect_throws_with<std::invalid_argument>([&] { xtgrad::matmul(b, a3); }, {"matmul", "2-d", "(4, 2)", "(2, 3, 4)"});
  expect_throws_with<std::invalid_argument>([&] { xtgrad::matmul(b, v); }, {"matmul", "2-d", "(4, 2)", "(3)"});
  expect_throws_with<std::invalid_argument>([&] { xtgrad::matmul(v, b); }, {"matmul", "(3)", "(4, 2)"});
  expect_throws_with<std::invalid_argument>([&] { xtgrad::matmul(a3, Variable(Tensor::from_shape({3, 2}))); },
                                            {"matmul", "inner dimensions", "(2, 3, 4)", "(3, 2)"});
}

TEST(LinalgErrors, LinearBiasShapeNamesWeightAndBiasShapes) {
  const Variable x(Tensor::from_shape({4, 3})), w(Tensor::from_shape({2, 3}));
  expect_throws_with<std::invalid_argument>([&] { xtgrad::linear(x, w, Variable(Tensor::from_shape({3}))); },
                                            {"linear", "bias", "(2, 3)", "(3)"});
  expect_throws_with<std::invalid_argument>([&] { xtgrad::linear(x, w, Variable(Tensor::from_shape({4, 2}))); },
                                            {"linear", "bias", "(2, 3)", "(4, 2)"});
  expect_throws_with<std::invalid_argument>([&] { xtgrad::linear(x, w, Variable(Tensor::from_shape({2, 1}))); },
                                            {"linear", "bias", "(2, 3)", "(2, 1)"});
}

TEST(LinalgErrors, LinearInnerDimensionsNameBothShapesAndTheLayout) {
  const Variable x(Tensor::from_shape({4, 5})), w(Tensor::from_shape({2, 3})), b(Tensor::from_shape({2}));
  expect_throws_with<std::invalid_argument>([&] { xtgrad::linear(x, w, b); }, {"linear", "(4, 5)", "(2, 3)", "(out, in)"});
  expect_throws_with<std::invalid_argument>([&] { xtgrad::linear(Variable(Tensor::from_shape({2, 4, 5})), w, b); },
                                            {"linear", "(2, 4, 5)", "(2, 3)"});
  expect_throws_with<std::invalid_argument>([&] { xtgrad::linear(Variable(Tensor::from_shape(Shape{})), w, b); },
                                            {"linear", "()", "(2, 3)"});
  // a weight in the (in, out) layout of xtgrad before 0.2 is refused, not silently transposed
  expect_throws_with<std::invalid_argument>([&] { xtgrad::linear(x, Variable(Tensor::from_shape({5, 2})), b); },
                                            {"linear", "(4, 5)", "(5, 2)", "torch.nn.functional.linear"});
}

TEST(LinalgErrors, ReshapeElementCountNamesBothShapes) {
  const Variable x(Tensor::from_shape({2, 3}));
  expect_throws_with<std::invalid_argument>([&] { xtgrad::reshape(x, {4, 2}); }, {"reshape", "(2, 3)", "(4, 2)"});
}

TEST(Gemm, SplitsOnlyProductsLargeEnoughToShare) {
  using xtgrad::gemm_uses_threads;
  const xtgrad::NumThreadsGuard two(2);
  EXPECT_FALSE(gemm_uses_threads(false, 4, 4, 4));       // 64 multiply-adds
  EXPECT_TRUE(gemm_uses_threads(false, 64, 200, 784));   // the seed's x·W1: 10M
  EXPECT_TRUE(gemm_uses_threads(true, 784, 200, 64));    // its xᵀ·g
  {
    const xtgrad::NumThreadsGuard one(1);
    EXPECT_FALSE(gemm_uses_threads(false, 64, 3200, 784));  // one thread configured
  }
}

}  // namespace
}  // namespace xtgrad_test
