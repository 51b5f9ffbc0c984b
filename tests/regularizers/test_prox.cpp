// The proximal L1 step: soft_threshold's values, apply_prox's conditions, mode=prox penalties,
// and a lasso with a closed-form optimum where prox reaches the exact zeros that the
// subgradient only circles around.
#include <gtest/gtest.h>

#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include "test_util.hpp"
#include "xtgrad/core/core.hpp"
#include "xtgrad/nn/optimizers.hpp"
#include "xtgrad/ops/ops.hpp"
#include "xtgrad/regularizers/regularizers.hpp"

namespace xg = xtgrad;
// In double: exact comparisons and gradient checks (the float aliases L1, ... train).
using Tensor = xg::TensorOf<double>;
using Variable = xg::BasicVariable<double>;
using NamedParameters = xg::NamedParametersOf<double>;
using Regularizer = xg::BasicRegularizer<double>;
using L1 = xg::BasicL1<double>;
using L2 = xg::BasicL2<double>;
using ElasticNet = xg::BasicElasticNet<double>;
using NoPenalty = xg::BasicNoPenalty<double>;
using Selection = xg::BasicSelection<double>;
using xtgrad_test::expect_tensor_near;

namespace {

double soft(double z, double t) { return z > t ? z - t : z < -t ? z + t : 0.0; }

// ---- the lasso ----------------------------------------------------------------------------
// min_w (1/2n)·‖Xw − y‖² + λ·‖w‖₁ with an orthogonal design XᵀX = n·I (four columns of the
// 8×8 Hadamard matrix). The data gradient is (1/n)Xᵀ(Xw − y) = w − z with z = Xᵀy/n, so the
// objective separates per coordinate into ½(wⱼ − zⱼ)² + λ|wⱼ|, minimized by the soft
// threshold w*ⱼ = sign(zⱼ)·max(|zⱼ| − λ, 0). Proximal gradient with step η is
// w ← S(w − η(w − z), ηλ); its fixed point is exactly w*, reached at rate (1 − η).
constexpr std::size_t kN = 8, kP = 4;
constexpr double kLambda = 0.1;
const std::vector<double> kZ = {2.0, -0.05, 0.5, 0.02};  // |z₁|, |z₃| < λ: w*₁ = w*₃ = 0

// Hadamard H₈ entry (i, j) = (−1)^popcount(i & j).
double hadamard(std::size_t i, std::size_t j) {
  return __builtin_popcountll(i & j) % 2 ? -1.0 : 1.0;
}

struct Lasso {
  Variable x, y;
  Lasso() {
    Tensor xs = Tensor::from_shape({kN, kP});
    Tensor ys = Tensor::from_shape({kN, 1});
    for (std::size_t i = 0; i < kN; ++i) {
      double yi = 0.3 * hadamard(i, 5);  // a residual orthogonal to the four columns
      for (std::size_t j = 0; j < kP; ++j) {
        xs(i, j) = hadamard(i, j + 1);
        yi += xs(i, j) * kZ[j];
      }
      ys(i, 0) = yi;
    }
    x = Variable(xs);
    y = Variable(ys);
  }
  Variable data_loss(const Variable& w) const {
    return xg::sum(xg::square(xg::matmul(x, w) - y)) * (0.5 / double(kN));
  }
};

// Runs `steps` of SGD(η) on the data loss plus reg's penalty, then reg's proximal step,
// like nn::fit with after_step. Returns w after each of the last two steps.
std::vector<Tensor> train_lasso(const Regularizer& reg, double eta, std::size_t steps) {
  Lasso lasso;
  Variable w = Variable::parameter(xtgrad_test::reshaped(Tensor{0.3, 0.3, 0.3, 0.3}, {kP, 1}), "fc.weight");
  const NamedParameters params = {{"fc.weight", w}};
  xg::nn::BasicSGD<double> sgd(params, eta);
  std::vector<Tensor> last;
  for (std::size_t s = 0; s < steps; ++s) {
    Variable loss = lasso.data_loss(w);
    Variable penalty = reg.penalty(params);
    if (penalty.requires_grad()) loss = loss + penalty;
    sgd.zero_grad();
    loss.backward();
    sgd.step();
    xg::apply_prox(reg, params, eta, 1);
    if (s + 2 >= steps) last.push_back(w.value());
  }
  return last;
}

}  // namespace

// ---- soft_threshold -------------------------------------------------------------------------

TEST(SoftThreshold, ShrinksTowardZeroAndClipsAtZero) {
  Tensor w{0.5, -0.5, 0.1, -0.1, 0.0, 0.3, -2.0};
  const std::size_t zeros = xg::soft_threshold(w, 0.3);
  expect_tensor_near(w, Tensor{0.2, -0.2, 0.0, 0.0, 0.0, 0.0, -1.7}, 1e-15);
  EXPECT_EQ(zeros, 4u);
  for (std::size_t i = 2; i < 6; ++i) {
    EXPECT_FALSE(std::signbit(w(i))) << "a clipped weight is +0, at " << i;
  }
}

TEST(SoftThreshold, ZeroThresholdChangesNothing) {
  Tensor w{0.5, -1e-30, 0.0};
  EXPECT_EQ(xg::soft_threshold(w, 0.0), 1u);
  expect_tensor_near(w, Tensor{0.5, -1e-30, 0.0}, 0.0);
}

TEST(SoftThreshold, BadThresholdsThrowNamingTheValue) {
  Tensor w{1.0};
  using xtgrad_test::expect_throws_with;
  expect_throws_with<std::invalid_argument>([&] { xg::soft_threshold(w, -0.1); }, {"threshold", "-0.1"});
  expect_throws_with<std::invalid_argument>([&] { xg::soft_threshold(w, std::nan("")); }, {"threshold"});
  expect_throws_with<std::invalid_argument>([&] { xg::soft_threshold(w, INFINITY); }, {"threshold"});
}

TEST(SoftThreshold, OnlySelectedTensorsEachOnceBiasUntouched) {
  Variable w = Variable::parameter(Tensor{0.5, -0.05}, "fc.weight");
  Variable b = Variable::parameter(Tensor{0.5, -0.05}, "fc.bias");
  // The weight listed twice (a shared tensor) is shrunk once, not twice.
  const NamedParameters params = {{"fc.weight", w}, {"fc.bias", b}, {"tied.weight", w}};
  EXPECT_EQ(xg::soft_threshold(params, xg::weights_only<double>(), 0.1), 1u);
  expect_tensor_near(w.value(), Tensor{0.4, 0.0}, 1e-15);
  expect_tensor_near(b.value(), Tensor{0.5, -0.05}, 0.0);
  xg::soft_threshold(params, Selection::all(), 0.1);
  expect_tensor_near(b.value(), Tensor{0.4, 0.0}, 1e-15);
}

// ---- apply_prox -----------------------------------------------------------------------------

TEST(ApplyProx, ThresholdIsLearningRateTimesLambda) {
  Variable w = Variable::parameter(Tensor{1.0, -0.01}, "fc.weight");
  const NamedParameters params = {{"fc.weight", w}};
  EXPECT_TRUE(xg::apply_prox(L1(0.5, {}, xg::L1Mode::prox), params, 0.2, 1));
  expect_tensor_near(w.value(), Tensor{0.9, 0.0}, 1e-15);
}

TEST(ApplyProx, DoesNothingInSubgradientModeForL2OrBeforeStart) {
  Variable w = Variable::parameter(Tensor{1.0, -0.01}, "fc.weight");
  const NamedParameters params = {{"fc.weight", w}};
  EXPECT_FALSE(xg::apply_prox(L1(0.5), params, 0.2, 1));
  EXPECT_FALSE(xg::apply_prox(L2(0.5), params, 0.2, 1));
  EXPECT_FALSE(xg::apply_prox(NoPenalty(), params, 0.2, 1));
  const L1 late(0.5, {}, xg::L1Mode::prox, 3);
  EXPECT_FALSE(xg::apply_prox(late, params, 0.2, 2));
  expect_tensor_near(w.value(), Tensor{1.0, -0.01}, 0.0);
  EXPECT_TRUE(xg::apply_prox(late, params, 0.2, 3));
  expect_tensor_near(w.value(), Tensor{0.9, 0.0}, 1e-15);
}

TEST(ApplyProx, ElasticNetProxShrinksByItsL1Part) {
  Variable w = Variable::parameter(Tensor{1.0, -0.01}, "fc.weight");
  const NamedParameters params = {{"fc.weight", w}};
  EXPECT_TRUE(xg::apply_prox(ElasticNet(0.5, 3.0, {}, xg::L1Mode::prox), params, 0.2, 1));
  expect_tensor_near(w.value(), Tensor{0.9, 0.0}, 1e-15);
}

TEST(ApplyProx, RejectsABadLearningRate) {
  NamedParameters params = {{"fc.weight", Variable::parameter(Tensor{1.0}, "fc.weight")}};
  xtgrad_test::expect_throws_with<std::invalid_argument>(
      [&] { xg::apply_prox(L1(0.5, {}, xg::L1Mode::prox), params, 0.0, 1); }, {"lr"});
}

// ---- mode=prox penalties --------------------------------------------------------------------

TEST(ProxMode, L1PenaltyIsReportedButIsAConstant) {
  Variable w = Variable::parameter(Tensor{1.0, -3.0}, "fc.weight");
  const NamedParameters params = {{"fc.weight", w}};
  const Variable p = L1(0.01, {}, xg::L1Mode::prox).penalty(params);
  EXPECT_NEAR(p.item(), 0.04, 1e-15);
  EXPECT_FALSE(p.requires_grad());
}

TEST(ProxMode, ElasticNetKeepsOnlyTheL2TermInTheGraph) {
  Variable w = Variable::parameter(Tensor{1.0, -3.0}, "fc.weight");
  const NamedParameters params = {{"fc.weight", w}};
  const Variable p = ElasticNet(0.01, 0.5, {}, xg::L1Mode::prox).penalty(params);
  EXPECT_NEAR(p.item(), 0.01 * 4 + 0.25 * 10, 1e-13);
  ASSERT_TRUE(p.requires_grad());
  p.backward();
  expect_tensor_near(w.grad(), Tensor{0.5, -1.5}, 1e-15);  // l2·w, no l1·sign(w)
}

TEST(ProxMode, DescribeAndCoverageNameTheMode) {
  const L1 reg(1e-4, {}, xg::L1Mode::prox);
  EXPECT_EQ(reg.describe(), "l1(lambd=1e-4, mode=prox)");
  EXPECT_EQ(ElasticNet(1e-4, 0.01, {}, xg::L1Mode::prox).describe(), "l1_l2(l1=1e-4, l2=0.01, mode=prox)");
  EXPECT_EQ(L1(1e-4).describe(), "l1(lambd=1e-4)");
  const auto rows = reg.coverage({{"fc.weight", Variable::parameter(Tensor{1.0}, "fc.weight")}});
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].l1_mode, xg::L1Mode::prox);
  EXPECT_EQ(reg.prox_l1(), 1e-4);
  EXPECT_EQ(L1(1e-4).prox_l1(), 0.0);
  EXPECT_NE(xg::format_equivalents(reg).find("L1 mode prox"), std::string::npos);
}

// ---- the lasso ------------------------------------------------------------------------------

TEST(Lasso, DesignIsOrthogonalSoTheOptimumIsTheSoftThresholdOfXty) {
  Lasso lasso;
  const Tensor& x = lasso.x.value();
  for (std::size_t a = 0; a < kP; ++a) {
    for (std::size_t b = 0; b < kP; ++b) {
      double dot = 0, xty = 0;
      for (std::size_t i = 0; i < kN; ++i) dot += x(i, a) * x(i, b);
      for (std::size_t i = 0; i < kN; ++i) xty += x(i, a) * lasso.y.value()(i, 0);
      EXPECT_EQ(dot, a == b ? double(kN) : 0.0);
      EXPECT_NEAR(xty / kN, kZ[a], 1e-15);
    }
  }
}

TEST(Lasso, ProxReachesTheClosedFormOptimumWithExactZeros) {
  const double eta = 0.05;
  const auto last = train_lasso(L1(kLambda, {}, xg::L1Mode::prox), eta, 1500);
  const Tensor& w = last.back();
  for (std::size_t j = 0; j < kP; ++j) {
    const double expected = soft(kZ[j], kLambda);  // (1.9, 0, 0.4, 0)
    if (expected == 0) {
      EXPECT_EQ(w(j, 0), 0.0) << "coordinate " << j << " is exactly zero";
    } else {
      EXPECT_NEAR(w(j, 0), expected, 1e-12) << "coordinate " << j;
    }
  }
  expect_tensor_near(last.front(), last.back(), 1e-14);  // converged: a fixed point
}

TEST(Lasso, SubgradientLeavesTinyOscillatingValuesWhereTheOptimumIsZero) {
  const double eta = 0.05;
  const auto last = train_lasso(L1(kLambda), eta, 1500);
  const Tensor &before = last.front(), &after = last.back();
  for (std::size_t j : {std::size_t(1), std::size_t(3)}) {
    EXPECT_NE(after(j, 0), 0.0) << "coordinate " << j << " never lands on zero";
    // Within one step of zero: |w| ≤ η(λ + |z|), and the sign flips from step to step.
    EXPECT_LE(std::abs(after(j, 0)), eta * (kLambda + std::abs(kZ[j]))) << "coordinate " << j;
    EXPECT_LT(before(j, 0) * after(j, 0), 0.0) << "coordinate " << j << " oscillates";
  }
  // The nonzero coordinates still find the optimum (there the subgradient is a gradient).
  EXPECT_NEAR(after(0, 0), soft(kZ[0], kLambda), 1e-12);
  EXPECT_NEAR(after(2, 0), soft(kZ[2], kLambda), 1e-12);
}
