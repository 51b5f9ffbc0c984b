// Penalty values, exact gradient contributions, gradient checks, coverage and the
// coefficient checks of L1, L2, ElasticNet and NoPenalty.
#include <gtest/gtest.h>

#include <cmath>
#include <algorithm>
#include <functional>
#include <limits>
#include <memory>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

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

namespace {

// Two weights with exact zeros and one bias. Σ|W| = 4.25 + 4.75 = 9; ΣW² = 6.5625 + 10.5625
// = 17.125; the bias alone would add Σ|b| = 1 and Σb² = 0.58.
Tensor w1_value() { return Tensor{{0.5, -1.5, 0.0}, {0.0, 2.0, -0.25}}; }  // a Linear weight (out, in)
Tensor b1_value() { return Tensor{0.3, -0.7}; }
Tensor w2_value() { return Tensor{{1.0, -3.0}, {0.75, 0.0}}; }

struct Net {
  Variable w1 = Variable::parameter(w1_value(), "fc1.weight");
  Variable b1 = Variable::parameter(b1_value(), "fc1.bias");
  Variable w2 = Variable::parameter(w2_value(), "fc2.weight");
  NamedParameters params() const { return {{"fc1.weight", w1}, {"fc1.bias", b1}, {"fc2.weight", w2}}; }
};

double sign(double x) { return x > 0 ? 1.0 : x < 0 ? -1.0 : 0.0; }

void expect_tensor_near(const Tensor& actual, const Tensor& expected, double tol,
                        const std::string& what) {
  ASSERT_EQ(xg::shape_of(actual), xg::shape_of(expected)) << what;
  for (std::size_t i = 0; i < expected.size(); ++i) {
    EXPECT_NEAR(actual.data()[i], expected.data()[i], tol) << what << " at flat index " << i;
  }
}

// Elementwise f over a tensor.
Tensor map(const Tensor& t, const std::function<double(double)>& f) {
  Tensor out = t;
  for (std::size_t i = 0; i < out.size(); ++i) out.data()[i] = f(t.data()[i]);
  return out;
}

// A data loss over the net: mean cross-entropy of sigmoid(x·W1ᵀ + b1)·W2 on fixed data.
Variable data_loss(const Net& net) {
  const Variable x(Tensor{{0.2, -1.0, 0.5}, {1.5, 0.3, -0.4}, {-0.7, 0.8, 0.1}, {0.0, 0.6, -1.2}});
  const Variable h = xg::sigmoid(xg::linear(x, net.w1, net.b1));
  return xg::cross_entropy(xg::matmul(h, net.w2), std::vector<std::size_t>{0, 1, 1, 0});
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "(no std::invalid_argument thrown)";
}

constexpr double kTol = 1e-12;

}  // namespace

// ---- values ---------------------------------------------------------------------------------

TEST(Regularizer, L1PenaltyIsLambdaTimesSumOfAbsoluteWeightsBiasExcluded) {
  Net net;
  const Variable p = L1(0.01).penalty(net.params());
  EXPECT_EQ(p.dim(), 0u);
  EXPECT_TRUE(p.requires_grad());
  EXPECT_NEAR(p.item(), 0.01 * 9.0, kTol);
}

TEST(Regularizer, L2PenaltyIsHalfLambdaTimesSumOfSquaredWeightsBiasExcluded) {
  Net net;
  const Variable p = L2(0.1).penalty(net.params());
  EXPECT_EQ(p.dim(), 0u);
  EXPECT_NEAR(p.item(), 0.5 * 0.1 * 17.125, kTol);
}

TEST(Regularizer, ElasticNetPenaltyIsL1TermPlusHalfL2Term) {
  Net net;
  const Variable p = ElasticNet(0.01, 0.1).penalty(net.params());
  EXPECT_EQ(p.dim(), 0u);
  EXPECT_NEAR(p.item(), 0.01 * 9.0 + 0.5 * 0.1 * 17.125, kTol);
}

TEST(Regularizer, SelectingAllIncludesTheBias) {
  Net net;
  EXPECT_NEAR(L1(0.01, Selection::all()).penalty(net.params()).item(), 0.01 * 10.0, kTol);
  EXPECT_NEAR(L2(0.1, Selection::all()).penalty(net.params()).item(),
              0.5 * 0.1 * (17.125 + 0.58), kTol);
}

TEST(Regularizer, CallOperatorIsPenalty) {
  Net net;
  const L2 l2(0.1);
  EXPECT_NEAR(l2(net.params()).item(), l2.penalty(net.params()).item(), kTol);
}

TEST(Regularizer, SharedTensorListedTwiceIsPenalizedOnce) {
  Net net;
  NamedParameters params = net.params();
  params.emplace_back("tied.weight", net.w2);
  EXPECT_NEAR(L1(0.01).penalty(params).item(), 0.01 * 9.0, kTol);
}

TEST(Regularizer, NothingSelectedGivesConstantZero) {
  Net net;
  const L2 none_selected(0.1, Selection::pattern("^nothing"));
  for (const Variable& p : {none_selected.penalty(net.params()), L2(0.1).penalty({}),
                            NoPenalty().penalty(net.params()), L1(0).penalty(net.params()),
                            ElasticNet(0, 0).penalty(net.params())}) {
    ASSERT_TRUE(p.defined());
    EXPECT_EQ(p.dim(), 0u);
    EXPECT_EQ(p.item(), 0.0);
    EXPECT_FALSE(p.requires_grad());
  }
}

TEST(Regularizer, ConstantZeroPenaltyLeavesDataGradientsUnchanged) {
  Net reference, net;
  data_loss(reference).backward();
  (data_loss(net) + NoPenalty().penalty(net.params())).backward();
  expect_tensor_near(net.w1.grad(), reference.w1.grad(), kTol, "fc1.weight");
  expect_tensor_near(net.b1.grad(), reference.b1.grad(), kTol, "fc1.bias");
}

TEST(Regularizer, PenaltyUnderNoGradIsAConstantWithTheSameValue) {
  Net net;
  xg::NoGrad guard;
  const Variable p = L2(0.1).penalty(net.params());
  EXPECT_FALSE(p.requires_grad());
  EXPECT_NEAR(p.item(), 0.5 * 0.1 * 17.125, kTol);
}

// ---- exact gradient contributions -----------------------------------------------------------

TEST(Regularizer, L1GradientIsLambdaSignWZeroAtZeroAndNoneForBias) {
  Net net;
  const double lambd = 0.01;
  L1(lambd).penalty(net.params()).backward();
  auto expected = [&](const Tensor& w) { return map(w, [&](double v) { return lambd * sign(v); }); };
  expect_tensor_near(net.w1.grad(), expected(w1_value()), kTol, "fc1.weight");
  expect_tensor_near(net.w2.grad(), expected(w2_value()), kTol, "fc2.weight");
  EXPECT_EQ(net.w1.grad()(1, 0), 0.0);  // w = 0 exactly: subgradient 0, never NaN or ±λ
  EXPECT_EQ(net.w2.grad()(1, 1), 0.0);
  EXPECT_FALSE(net.b1.has_grad());
}

TEST(Regularizer, L2GradientIsLambdaWAndNoneForBias) {
  Net net;
  const double lambd = 0.1;
  L2(lambd).penalty(net.params()).backward();
  auto expected = [&](const Tensor& w) { return map(w, [&](double v) { return lambd * v; }); };
  expect_tensor_near(net.w1.grad(), expected(w1_value()), kTol, "fc1.weight");
  expect_tensor_near(net.w2.grad(), expected(w2_value()), kTol, "fc2.weight");
  EXPECT_FALSE(net.b1.has_grad());
}

TEST(Regularizer, ElasticNetGradientIsL1SignWPlusL2W) {
  Net net;
  ElasticNet(0.01, 0.1).penalty(net.params()).backward();
  auto expected = [](const Tensor& w) {
    return map(w, [](double v) { return 0.01 * sign(v) + 0.1 * v; });
  };
  expect_tensor_near(net.w1.grad(), expected(w1_value()), kTol, "fc1.weight");
  expect_tensor_near(net.w2.grad(), expected(w2_value()), kTol, "fc2.weight");
  EXPECT_FALSE(net.b1.has_grad());
}

namespace {

// grad(W) of data + penalty equals grad_data(W) + contribution(W); biases get the data grad.
void expect_penalty_adds_to_data_gradient(const Regularizer& reg,
                                          const std::function<double(double)>& contribution) {
  Net reference, net;
  data_loss(reference).backward();
  const Variable loss = data_loss(net) + reg.penalty(net.params());
  EXPECT_NEAR(loss.item(), data_loss(reference).item() + reg.penalty(reference.params()).item(), kTol);
  loss.backward();
  for (const auto& [w, ref, value] :
       {std::tuple{net.w1, reference.w1, w1_value()}, std::tuple{net.w2, reference.w2, w2_value()}}) {
    Tensor expected = ref.grad();
    const Tensor extra = map(value, contribution);
    for (std::size_t i = 0; i < expected.size(); ++i) expected.data()[i] += extra.data()[i];
    expect_tensor_near(w.grad(), expected, kTol, reg.describe() + " " + w.name());
  }
  expect_tensor_near(net.b1.grad(), reference.b1.grad(), kTol, reg.describe() + " fc1.bias");
}

}  // namespace

TEST(Regularizer, L1AddsLambdaSignWToTheDataGradient) {
  expect_penalty_adds_to_data_gradient(L1(1e-2), [](double v) { return 1e-2 * sign(v); });
}

TEST(Regularizer, L2AddsLambdaWToTheDataGradient) {
  expect_penalty_adds_to_data_gradient(L2(0.1), [](double v) { return 0.1 * v; });
}

TEST(Regularizer, ElasticNetAddsBothToTheDataGradient) {
  expect_penalty_adds_to_data_gradient(ElasticNet(1e-2, 0.1),
                                       [](double v) { return 1e-2 * sign(v) + 0.1 * v; });
}

// ---- gradient checks ------------------------------------------------------------------------

namespace {

// Weights away from 0 (|w| ≥ 0.1 ≫ the step), where |w| is differentiable.
std::vector<Tensor> gradcheck_inputs() {
  return {Tensor{{0.5, -1.5, 0.1}, {-0.2, 2.0, -0.25}}, Tensor{0.3, -0.7},  // fc1.weight (out, in)
          Tensor{{1.0, -3.0}, {0.75, -0.4}}};
}

xg::GradcheckReport check_penalty(const Regularizer& reg) {
  return xg::gradcheck(
      [&](const std::vector<Variable>& v) {
        return reg.penalty({{"fc1.weight", v[0]}, {"fc1.bias", v[1]}, {"fc2.weight", v[2]}});
      },
      gradcheck_inputs());
}

}  // namespace

TEST(Regularizer, L1PassesGradcheckAwayFromZero) {
  const auto report = check_penalty(L1(0.3));
  EXPECT_TRUE(report.ok) << report.message;
}

TEST(Regularizer, L2PassesGradcheck) {
  const auto report = check_penalty(L2(0.7));
  EXPECT_TRUE(report.ok) << report.message;
}

TEST(Regularizer, ElasticNetPassesGradcheck) {
  const auto report = check_penalty(ElasticNet(0.2, 0.5));
  EXPECT_TRUE(report.ok) << report.message;
}

TEST(Regularizer, DataLossPlusPenaltyPassesGradcheck) {
  const ElasticNet reg(0.2, 0.5);
  const auto report = xg::gradcheck(
      [&](const std::vector<Variable>& v) {
        Net net;
        net.w1 = v[0], net.b1 = v[1], net.w2 = v[2];
        return data_loss(net) + reg.penalty(net.params());
      },
      gradcheck_inputs());
  EXPECT_TRUE(report.ok) << report.message;
}

// ---- coverage -------------------------------------------------------------------------------

TEST(Regularizer, CoverageListsBothWeightsPenalizedAndTheBiasNot) {
  Net net;
  const auto rows = L2(0.01).coverage(net.params());
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].name, "fc1.weight");
  EXPECT_EQ(rows[0].shape, (xg::Shape{2, 3}));
  EXPECT_TRUE(rows[0].penalized);
  EXPECT_EQ(rows[0].l1, 0.0);
  EXPECT_EQ(rows[0].l2, 0.01);
  EXPECT_EQ(rows[1].name, "fc1.bias");
  EXPECT_EQ(rows[1].shape, (xg::Shape{2}));
  EXPECT_FALSE(rows[1].penalized);
  EXPECT_EQ(rows[1].l1, 0.0);
  EXPECT_EQ(rows[1].l2, 0.0);
  EXPECT_EQ(rows[2].name, "fc2.weight");
  EXPECT_TRUE(rows[2].penalized);
  EXPECT_EQ(rows[2].l2, 0.01);
}

TEST(Regularizer, CoverageCarriesEachKindsCoefficients) {
  Net net;
  const auto l1 = L1(1e-4).coverage(net.params());
  EXPECT_TRUE(l1[0].penalized);
  EXPECT_EQ(l1[0].l1, 1e-4);
  EXPECT_EQ(l1[0].l2, 0.0);
  const auto en = ElasticNet(1e-4, 0.01).coverage(net.params());
  EXPECT_EQ(en[2].l1, 1e-4);
  EXPECT_EQ(en[2].l2, 0.01);
  EXPECT_FALSE(en[1].penalized);
  for (const auto& row : NoPenalty().coverage(net.params())) EXPECT_FALSE(row.penalized) << row.name;
}

TEST(Regularizer, FormatCoverageIsATableWithEveryTensor) {
  Net net;
  const std::string table = xg::format_coverage(L2(0.01), net.params());
  for (const char* word : {"regularizer l2(lambd=0.01)", "parameter", "fc1.weight", "(2, 3)",
                           "fc1.bias", "fc2.weight", "yes", "no", "0.01",
                           "2 of 3 tensors penalized (10 of 12 elements)"}) {
    EXPECT_NE(table.find(word), std::string::npos) << "missing '" << word << "' in\n" << table;
  }
}

// ---- describe and coefficient checks --------------------------------------------------------

TEST(Regularizer, DescribeGivesTheCanonicalSpec) {
  EXPECT_EQ(L1(1e-4).describe(), "l1(lambd=1e-4)");
  EXPECT_EQ(L2(0.01).describe(), "l2(lambd=0.01)");
  EXPECT_EQ(ElasticNet(1e-4, 0.01).describe(), "l1_l2(l1=1e-4, l2=0.01)");
  EXPECT_EQ(NoPenalty().describe(), "none");
  EXPECT_EQ(L2(-0.0).describe(), "l2(lambd=0)");
  EXPECT_EQ(L2(5e20).describe(), "l2(lambd=5e+20)");
  EXPECT_EQ(L2(1e-300).describe(), "l2(lambd=1e-300)");
}

TEST(Regularizer, BadCoefficientsThrowNamingTheCoefficient) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  struct Case {
    std::function<void()> make;
    std::string words;
  };
  const std::vector<Case> cases = {
      {[] { (void)L1(-1e-4); }, "L1: coefficient 'lambd'"},
      {[&] { (void)L1(nan); }, "L1: coefficient 'lambd'"},
      {[&] { (void)L2(inf); }, "L2: coefficient 'lambd'"},
      {[] { (void)L2(-0.01); }, "got -0.01"},
      {[] { (void)ElasticNet(-1, 0.01); }, "ElasticNet: coefficient 'l1'"},
      {[&] { (void)ElasticNet(1e-4, nan); }, "ElasticNet: coefficient 'l2'"},
      {[&] { (void)ElasticNet(1e-4, -inf); }, "ElasticNet: coefficient 'l2'"},
  };
  for (const auto& c : cases) {
    const std::string message = error_of(c.make);
    EXPECT_NE(message.find(c.words), std::string::npos) << message;
  }
}

TEST(Regularizer, EmptyVariableIsRejectedWithItsName) {
  const NamedParameters params = {{"fc1.weight", Variable()}};
  const std::string message = error_of([&] { L2(0.01).penalty(params); });
  EXPECT_NE(message.find("'fc1.weight'"), std::string::npos) << message;
}

// ---- per-tensor values and equivalents ------------------------------------------------------

TEST(Regularizer, PenaltyTermsArePerTensorAndSumToThePenalty) {
  Net net;
  const ElasticNet en(0.01, 0.1);
  const std::vector<double> terms = en.penalty_terms(net.params());
  ASSERT_EQ(terms.size(), 3u);
  EXPECT_NEAR(terms[0], 0.01 * 4.25 + 0.05 * 6.5625, kTol);   // fc1.weight
  EXPECT_EQ(terms[1], 0.0);                                    // fc1.bias: not penalized
  EXPECT_NEAR(terms[2], 0.01 * 4.75 + 0.05 * 10.5625, kTol);  // fc2.weight
  EXPECT_NEAR(terms[0] + terms[1] + terms[2], en.penalty(net.params()).item(), kTol);
  // A second name of the same tensor counts once, under its first name.
  NamedParameters params = net.params();
  params.emplace_back("tied.weight", net.w2);
  const auto tied = L1(0.01).penalty_terms(params);
  ASSERT_EQ(tied.size(), 4u);
  EXPECT_EQ(tied[3], 0.0);
  for (double t : NoPenalty().penalty_terms(net.params())) EXPECT_EQ(t, 0.0);
}

TEST(Regularizer, EquivalentsGiveOtherLibrariesCoefficients) {
  const std::string l2 = xg::format_equivalents(L2(0.01), 64);
  for (const char* word : {"L2 = ½·l2·Σw²", "weight_decay=0.01", "L2(0.005)", "MLPClassifier(alpha=0.64)",
                           "at batch 64", "SGDClassifier(penalty='l2', alpha=0.01)"}) {
    EXPECT_NE(l2.find(word), std::string::npos) << "missing '" << word << "' in\n" << l2;
  }
  EXPECT_EQ(xg::format_equivalents(L2(0.01)).find("MLPClassifier"), std::string::npos);
  const std::string l1 = xg::format_equivalents(L1(1e-4));
  for (const char* word : {"no built-in L1", "L1(1e-4)", "penalty='l1', alpha=1e-4", "mode subgradient"}) {
    EXPECT_NE(l1.find(word), std::string::npos) << "missing '" << word << "' in\n" << l1;
  }
  const std::string en = xg::format_equivalents(ElasticNet(1e-4, 0.01));
  EXPECT_NE(en.find("L1L2(l1=1e-4, l2=0.005)"), std::string::npos) << en;
  const std::string table = xg::format_coverage(L2(0.01), Net().params(), 64);
  EXPECT_NE(table.find("alpha=0.64"), std::string::npos) << table;
}

// ---- the L2 node against optimizers' weight decay -------------------------------------------
// Five steps on the same data from the same weights, every parameter penalized so that the
// optimizers' weight_decay (which decays every parameter it holds) means the same thing.

namespace {

constexpr double kLambda = 0.1;

// The weights of `net` after each of five steps with `optimizer`, the loss being the data
// loss plus `penalty` (when given).
template <class MakeOptimizer>
std::vector<std::vector<Tensor>> five_steps(MakeOptimizer make, const Regularizer* penalty) {
  Net net;
  auto optimizer = make(net.params());
  std::vector<std::vector<Tensor>> out;
  for (int step = 0; step < 5; ++step) {
    Variable loss = data_loss(net);
    if (penalty != nullptr) loss = loss + penalty->penalty(net.params());
    optimizer->zero_grad();
    loss.backward();
    optimizer->step();
    out.push_back({net.w1.value(), net.b1.value(), net.w2.value()});
  }
  return out;
}

double max_difference(const std::vector<std::vector<Tensor>>& a, const std::vector<std::vector<Tensor>>& b) {
  double worst = 0;
  for (std::size_t s = 0; s < a.size(); ++s)
    for (std::size_t t = 0; t < a[s].size(); ++t)
      for (std::size_t i = 0; i < a[s][t].size(); ++i)
        worst = std::max(worst, std::abs(double(a[s][t].data()[i]) - double(b[s][t].data()[i])));
  return worst;
}

}  // namespace

TEST(Regularizer, SgdWithTheL2NodeEqualsSgdWithWeightDecayStepForStep) {
  const L2 l2(kLambda, Selection::all());
  for (const double momentum : {0.0, 0.9}) {
    const auto with_node = five_steps(
        [&](const NamedParameters& p) { return std::make_unique<xg::nn::BasicSGD<double>>(p, 0.5, momentum); }, &l2);
    const auto with_decay = five_steps(
        [&](const NamedParameters& p) {
          return std::make_unique<xg::nn::BasicSGD<double>>(p, 0.5, momentum, false, kLambda);
        },
        nullptr);
    const auto without = five_steps(
        [&](const NamedParameters& p) { return std::make_unique<xg::nn::BasicSGD<double>>(p, 0.5, momentum); }, nullptr);
    EXPECT_LT(max_difference(with_node, with_decay), 1e-14) << "momentum " << momentum;
    EXPECT_GT(max_difference(with_node, without), 1e-3) << "momentum " << momentum << ": the penalty acts";
  }
}

TEST(Regularizer, AdamWithTheL2NodeIsCoupledAdamNotAdamW) {
  const L2 l2(kLambda, Selection::all());
  auto adam = [](double wd) {
    return [wd](const NamedParameters& p) { return std::make_unique<xg::nn::BasicAdam<double>>(p, 0.05, 0.9, 0.999, 1e-8, wd); };
  };
  const auto with_node = five_steps(adam(0.0), &l2);
  const auto coupled = five_steps(adam(kLambda), nullptr);
  const auto decoupled = five_steps(
      [](const NamedParameters& p) { return std::make_unique<xg::nn::BasicAdamW<double>>(p, 0.05, 0.9, 0.999, 1e-8, kLambda); },
      nullptr);
  // The L2 node is exactly Adam's (coupled) weight_decay: the decay goes through m and v.
  EXPECT_LT(max_difference(with_node, coupled), 1e-14);
  // AdamW with the same λ decays the weights outside the moments: a different trajectory.
  EXPECT_GT(max_difference(with_node, decoupled), 1e-3);
}
