// cross_entropy (one-hot, soft and index targets) and mse: values, gradients, extreme logits,
// shape and label errors.
#include <cmath>
#include <cstddef>
#include <functional>
#include <stdexcept>
#include <vector>

#include "test_util.hpp"

namespace xtgrad_test {
namespace {

using Vars = std::vector<Variable>;
using Labels = std::vector<std::size_t>;

// log_softmax rows of kLogits: (−2.4076…, −1.4076…, −0.4076…) and −log 3 three times.
const Tensor kLogits{{1.0, 2.0, 3.0}, {1.0, 1.0, 1.0}};
const Tensor kOneHot{{0.0, 0.0, 1.0}, {1.0, 0.0, 0.0}};  // labels {2, 0}
const Tensor kSoft{{0.2, 0.3, 0.5}, {0.6, 0.4, 0.0}};
const Tensor kHuge{{1000.0, -1000.0, 0.0}, {-1000.0, 1000.0, 999.0}};

// ---- cross_entropy: values ----------------------------------------------------------------

TEST(CrossEntropy, OneHotTargetsMatchHandValue) {
  // (0.4076059644443804 + log 3) / 2
  EXPECT_NEAR(xtgrad::cross_entropy(Variable(kLogits), Variable(kOneHot)).item(), 0.7531091265562451, 1e-14);
}

TEST(CrossEntropy, IndexLabelsMatchOneHotTargets) {
  EXPECT_NEAR(xtgrad::cross_entropy(Variable(kLogits), Labels{2, 0}).item(), 0.7531091265562451, 1e-14);
}

// issue 22 §3.3: class indices as an IndexTensor, or as a float (n) Variable (what a DataLoader
// over label_tensor gives), equal the one-hot form.
TEST(CrossEntropy, IndexTensorAndFloatClassIndicesMatchOneHotTargets) {
  const Variable z(kLogits);
  EXPECT_NEAR(xtgrad::cross_entropy(z, xtgrad::IndexTensor{2, 0}).item(), 0.7531091265562451, 1e-14);
  EXPECT_NEAR(xtgrad::cross_entropy(z, {2, 0}).item(), 0.7531091265562451, 1e-14);
  EXPECT_NEAR(xtgrad::cross_entropy(z, Variable(Tensor{2.0, 0.0})).item(), 0.7531091265562451, 1e-14);
  Variable a = Variable::parameter(kLogits), b = Variable::parameter(kLogits);
  xtgrad::cross_entropy(a, Variable(Tensor{2.0, 0.0})).backward();
  xtgrad::cross_entropy(b, Variable(kOneHot)).backward();
  expect_tensor_near(a.grad(), b.grad(), 1e-15);
  expect_throws_with<std::invalid_argument>([&] { xtgrad::cross_entropy(z, Variable(Tensor{2.0, 0.5})); },
                                            {"cross_entropy", "0.5", "integer"});
  expect_throws_with<std::invalid_argument>([&] { xtgrad::cross_entropy(z, Variable(Tensor{3.0, 0.0})); },
                                            {"cross_entropy", "label 3", "3 classes"});
  expect_throws_with<std::invalid_argument>([&] { xtgrad::cross_entropy(z, Variable(Tensor{1.0, 0.0, 1.0})); },
                                            {"cross_entropy", "(2, 3)", "(3)"});
}

TEST(CrossEntropy, SoftTargetsMatchHandValue) {
  EXPECT_NEAR(xtgrad::cross_entropy(Variable(kLogits), Variable(kSoft)).item(), 1.1031091265562452, 1e-14);
}

TEST(CrossEntropy, GradientIsSoftmaxMinusTargetOverN) {
  const Tensor expected{{0.09003057317038043 / 2, 0.24472847105479764 / 2, (0.6652409557748218 - 1) / 2},
                        {-1.0 / 3, 1.0 / 6, 1.0 / 6}};
  Variable z1 = Variable::parameter(kLogits);
  xtgrad::cross_entropy(z1, Variable(kOneHot)).backward();
  expect_tensor_near(z1.grad(), expected, 1e-14);
  Variable z2 = Variable::parameter(kLogits);
  xtgrad::cross_entropy(z2, Labels{2, 0}).backward();
  expect_tensor_near(z2.grad(), expected, 1e-14);
}

TEST(CrossEntropy, SoftTargetGradientIsMinusLogSoftmaxOverN) {
  const Variable z(kLogits);
  const Variable y = Variable::parameter(kSoft);
  xtgrad::cross_entropy(z, y).backward();
  const double l3 = std::log(3.0) / 2;
  expect_tensor_near(y.grad(), Tensor{{2.4076059644443806 / 2, 1.4076059644443804 / 2, 0.4076059644443804 / 2},
                                      {l3, l3, l3}},
                     1e-14);
  EXPECT_FALSE(z.has_grad());
}

// ---- cross_entropy: gradient checks -------------------------------------------------------

TEST(CrossEntropy, OneHotTargetsPassGradcheck) {
  const Tensor onehot{{0.0, 1.0, 0.0, 0.0}, {0.0, 0.0, 0.0, 1.0}, {1.0, 0.0, 0.0, 0.0}};
  expect_gradcheck([&](const Vars& v) { return xtgrad::cross_entropy(v[0], Variable(onehot)); },
                   {uniform({3, 4}, 1, -2, 2)});
}

TEST(CrossEntropy, SoftTargetsRequiringGradPassGradcheck) {
  // probability rows, and rows that do not sum to 1 (the Σ_c y factor of dz)
  expect_gradcheck([](const Vars& v) { return xtgrad::cross_entropy(v[0], v[1]); },
                   {uniform({3, 4}, 2, -2, 2), Tensor{{0.1, 0.2, 0.3, 0.4}, {0.25, 0.25, 0.25, 0.25}, {0.7, 0.0, 0.3, 0.0}}});
  expect_gradcheck([](const Vars& v) { return xtgrad::cross_entropy(v[0], v[1]); },
                   {uniform({3, 4}, 3, -2, 2), uniform({3, 4}, 4, 0.1, 1.0)});
}

TEST(CrossEntropy, IndexLabelsPassGradcheck) {
  expect_gradcheck([](const Vars& v) { return xtgrad::cross_entropy(v[0], Labels{1, 3, 0}); },
                   {uniform({3, 4}, 5, -2, 2)});
}

TEST(CrossEntropy, ScaledLossPassesGradcheck) {
  // the upstream gradient is not 1: 2.5·CE
  expect_gradcheck([](const Vars& v) { return xtgrad::cross_entropy(v[0], Labels{2, 0}) * 2.5; },
                   {uniform({2, 3}, 6, -2, 2)});
}

// ---- cross_entropy: extreme logits --------------------------------------------------------

TEST(CrossEntropy, HugeLogitsGiveFiniteCorrectValuesAndGradients) {
  const double l = 0.31326168751822286;  // log(1 + e⁻¹): row 1's log-sum-exp is 1000 + l
  {
    Variable z = Variable::parameter(kHuge);
    const Variable loss = xtgrad::cross_entropy(z, Labels{0, 1});  // the big logits: small loss
    EXPECT_NEAR(loss.item(), l / 2, 1e-12);
    loss.backward();
    expect_all_finite(z.grad());
    const double p = 0.7310585786300049;
    expect_tensor_near(z.grad(), Tensor{{0.0, 0.0, 0.0}, {0.0, (p - 1) / 2, (1 - p) / 2}}, 1e-14);
  }
  {
    Variable z = Variable::parameter(kHuge);
    const Variable loss = xtgrad::cross_entropy(z, Variable(Tensor{{0.0, 1.0, 0.0}, {1.0, 0.0, 0.0}}));
    EXPECT_NEAR(loss.item(), (2000.0 + 2000.0 + l) / 2, 1e-9);  // the −1000 logits: huge but finite
    loss.backward();
    expect_all_finite(z.grad());
    EXPECT_NEAR(z.grad()(0, 0), 0.5, 1e-14);
    EXPECT_NEAR(z.grad()(0, 1), -0.5, 1e-14);
    EXPECT_NEAR(z.grad()(1, 0), -0.5, 1e-14);
  }
}

TEST(CrossEntropy, HugeLogitsWithSoftTargetsHaveFiniteGradients) {
  Variable z = Variable::parameter(kHuge);
  Variable y = Variable::parameter(Tensor{{0.5, 0.25, 0.25}, {0.2, 0.3, 0.5}});
  const Variable loss = xtgrad::cross_entropy(z, y);
  EXPECT_TRUE(std::isfinite(loss.item()));
  loss.backward();
  expect_all_finite(z.grad());
  expect_all_finite(y.grad());
}

// ---- cross_entropy: errors ----------------------------------------------------------------

// Second derivatives with probability targets at logits near 1e7 (issue 19 §5): the fused op's
// create_graph path against −Σ y ⊙ log_softmax(z) / n written with ops (which matches PyTorch
// there to 1e-15: tests/diff, edge case "cross_entropy ... near 1e7"). Both Hessian-vector
// products, in z and in y, along random directions; and at ordinary logits.
TEST(CrossEntropy, SoftTargetSecondDerivativesMatchTheComposedOpsAtLargeLogits) {
  for (double offset : {0.0, 1e7, -1e7}) {
    SCOPED_TRACE(testing::Message() << "logits " << offset << " + U(-2, 2)");
    const Tensor z0 = uniform({3, 4}, 21, -2.0, 2.0) + offset;
    const Tensor y0 = uniform({3, 4}, 22, 0.0, 1.0);  // rows need not sum to 1
    const Tensor uz = uniform({3, 4}, 23, -1.0, 1.0), uy = uniform({3, 4}, 24, -1.0, 1.0);
    // H·u of f at (z0, y0), u = (uz, uy), by double backward: ∇⟨∇f, u⟩
    auto hvp = [&](const std::function<Variable(const Variable&, const Variable&)>& f) {
      Variable z = Variable::parameter(z0), y = Variable::parameter(y0);
      const std::vector<Variable> g = xtgrad::grad({f(z, y)}, {z, y}, {.create_graph = true});
      const Variable s = xtgrad::sum(g[0] * Variable(uz)) + xtgrad::sum(g[1] * Variable(uy));
      std::vector<Tensor> out{g[0].value(), g[1].value()};
      for (const Variable& h : xtgrad::grad({s}, {z, y})) out.push_back(h.value());
      return out;
    };
    const std::vector<Tensor> fused = hvp([](const Variable& z, const Variable& y) { return cross_entropy(z, y); });
    const std::vector<Tensor> composed = hvp([](const Variable& z, const Variable& y) {
      return xtgrad::sum(y * log_softmax(z, 1)) * (-1.0 / 3);
    });
    for (std::size_t k = 0; k < 4; ++k) {  // dz, dy, then the two second-derivative blocks
      SCOPED_TRACE(k);
      const double scale = xt::amax(xt::abs(composed[k]))();
      expect_tensor_near(fused[k], composed[k], 1e-14 * scale);
    }
  }
}

// An empty batch: the mean over zero rows is NaN (0/0), as mean() and PyTorch
// (F.cross_entropy and F.mse_loss give nan); gradients are empty. Before, these three threw
// while the CrossEntropyOptions overload and the Reduction losses gave NaN.
TEST(CrossEntropy, EmptyBatchGivesNaNAndEmptyGradients) {
  Variable z = Variable::parameter(Tensor::from_shape({0, 3})), y = Variable::parameter(Tensor::from_shape({0, 3}));
  const Variable soft = xtgrad::cross_entropy(z, y), hard = xtgrad::cross_entropy(z, Labels{});
  EXPECT_TRUE(std::isnan(soft.item()));
  EXPECT_TRUE(std::isnan(hard.item()));
  (soft + hard).backward();
  EXPECT_EQ(z.grad().shape(), (Shape{0, 3}));
  EXPECT_EQ(y.grad().shape(), (Shape{0, 3}));
  Variable p = Variable::parameter(Tensor::from_shape({0, 2}));
  const Variable m = xtgrad::mse(p, Variable(Tensor::from_shape({0, 2})));
  EXPECT_TRUE(std::isnan(m.item()));
  m.backward();
  EXPECT_EQ(p.grad().shape(), (Shape{0, 2}));
  // no classes is still an error
  expect_throws_with<std::invalid_argument>([] { xtgrad::cross_entropy(Variable(Tensor::from_shape({2, 0})), Labels{0, 0}); },
                                            {"cross_entropy", "classes > 0", "(2, 0)"});
}

TEST(CrossEntropyErrors, LogitsAndTargetsShapesDifferNamesBothShapes) {
  const Variable z(Tensor::from_shape({2, 3})), y(Tensor::from_shape({2, 4}));
  expect_throws_with<std::invalid_argument>([&] { xtgrad::cross_entropy(z, y); },
                                            {"cross_entropy", "logits", "targets", "(2, 3)", "(2, 4)"});
}

TEST(CrossEntropyErrors, LabelOutOfRangeNamesTheLabelRowAndShape) {
  const Variable z(Tensor::from_shape({2, 3}));
  expect_throws_with<std::invalid_argument>([&] { xtgrad::cross_entropy(z, Labels{0, 3}); },
                                            {"cross_entropy", "label 3", "row 1", "(2, 3)"});
}

TEST(CrossEntropyErrors, LabelCountNamesTheCountAndShape) {
  const Variable z(Tensor::from_shape({2, 3}));
  expect_throws_with<std::invalid_argument>([&] { xtgrad::cross_entropy(z, Labels{0, 1, 2}); },
                                            {"cross_entropy", "3 labels", "(2, 3)"});
}

TEST(CrossEntropyErrors, NonMatrixLogitsNameTheShape) {
  const Variable z(Tensor::from_shape({6})), y(Tensor::from_shape({6}));
  expect_throws_with<std::invalid_argument>([&] { xtgrad::cross_entropy(z, y); }, {"cross_entropy", "(6)"});
  expect_throws_with<std::invalid_argument>([&] { xtgrad::cross_entropy(z, Labels{0}); }, {"cross_entropy", "(6)"});
}

// ---- mse ----------------------------------------------------------------------------------

TEST(Mse, MatchesHandValueAndGradient) {
  // differences 1, 0, −2, 1: (1 + 0 + 4 + 1) / 4; dp = 2(p − t)/4, dt = −dp
  const Variable p = Variable::parameter(Tensor{{1.0, 2.0}, {3.0, 4.0}});
  const Variable t = Variable::parameter(Tensor{{0.0, 2.0}, {5.0, 3.0}});
  const Variable loss = xtgrad::mse(p, t);
  EXPECT_EQ(loss.dim(), 0u);
  EXPECT_NEAR(loss.item(), 1.5, 1e-14);
  loss.backward();
  expect_tensor_near(p.grad(), Tensor{{0.5, 0.0}, {-1.0, 0.5}});
  expect_tensor_near(t.grad(), Tensor{{-0.5, 0.0}, {1.0, -0.5}});
}

TEST(Mse, PassesGradcheck) {
  expect_gradcheck([](const Vars& v) { return xtgrad::mse(v[0], v[1]); },
                   {uniform({3, 4}, 7, -1, 1), uniform({3, 4}, 8, -1, 1)});
  const Tensor target = uniform({5}, 9, -1, 1);
  expect_gradcheck([&](const Vars& v) { return xtgrad::mse(v[0], Variable(target)); }, {uniform({5}, 10, -1, 1)});
}

TEST(MseErrors, ShapesDifferNamesBothShapes) {
  const Variable p(Tensor::from_shape({2, 3}));
  expect_throws_with<std::invalid_argument>([&] { xtgrad::mse(p, Variable(Tensor::from_shape({3, 2}))); },
                                            {"mse", "(2, 3)", "(3, 2)"});
  // no broadcasting: (3) against (2, 3) is an error too
  expect_throws_with<std::invalid_argument>([&] { xtgrad::mse(p, Variable(Tensor::from_shape({3}))); },
                                            {"mse", "(2, 3)", "(3)"});
}

}  // namespace
}  // namespace xtgrad_test
