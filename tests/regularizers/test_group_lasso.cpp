// The group lasso: its groups and norms, block soft-thresholding against its closed form, the
// penalty's value and gradient (gradcheck in double, away from w_g = 0, and a deliberately
// wrong gradient the checker must catch), the proximal step through apply_prox, a least-squares
// problem whose optimum is known in closed form, and the spec term.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "test_util.hpp"
#include "xtgrad/core/core.hpp"
#include "xtgrad/nn/optimizers.hpp"
#include "xtgrad/ops/ops.hpp"
#include "xtgrad/regularizers/regularizers.hpp"

namespace xg = xtgrad;
using Tensor = xg::TensorOf<double>;
using Variable = xg::BasicVariable<double>;
using NamedParameters = xg::NamedParametersOf<double>;
using GroupLasso = xg::BasicGroupLasso<double>;
using Selection = xg::BasicSelection<double>;
using xg::GroupBy;
using xg::L1Mode;
using xtgrad_test::away_from_zero;
using xtgrad_test::expect_tensor_near;
using xtgrad_test::expect_throws_with;
using xtgrad_test::make_tensor;

namespace {

// The closed form, written out for one group g: z_g·max(0, 1 − t·√|g|/‖z_g‖).
std::vector<double> block_soft(const std::vector<double>& z, double t) {
  double n = 0;
  for (double v : z) n += v * v;
  n = std::sqrt(n);
  const double scale = n <= t * std::sqrt(double(z.size())) ? 0.0 : 1 - t * std::sqrt(double(z.size())) / n;
  std::vector<double> out;
  for (double v : z) out.push_back(v * scale);
  return out;
}

// ½‖x − z‖² + t·√|g|·‖x‖: the function block soft-thresholding minimizes.
double prox_objective(const std::vector<double>& x, const std::vector<double>& z, double t) {
  double d = 0, n = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    d += (x[i] - z[i]) * (x[i] - z[i]);
    n += x[i] * x[i];
  }
  return 0.5 * d + t * std::sqrt(double(x.size())) * std::sqrt(n);
}

// Over every selected weight (layers=all): the tests below give one weight, which the default
// (hidden units only) would leave out as the output layer.
GroupLasso every_layer(double lambd, GroupBy groups = GroupBy::units, Selection selection = {},
                       L1Mode mode = L1Mode::subgradient, std::size_t start = 1) {
  return GroupLasso(lambd, groups, std::move(selection), mode, start, xg::GroupLayers::all);
}

}  // namespace

// ---- groups and norms -----------------------------------------------------------------------

TEST(GroupLayout, UnitsAreAxisZeroSlicesInputsAxisOne) {
  const auto linear_units = xg::group_layout({5, 3}, GroupBy::units);
  EXPECT_EQ(linear_units.count, 5u);
  EXPECT_EQ(linear_units.size, 3u);
  const auto linear_inputs = xg::group_layout({5, 3}, GroupBy::inputs);
  EXPECT_EQ(linear_inputs.count, 3u);
  EXPECT_EQ(linear_inputs.size, 5u);
  const auto conv_units = xg::group_layout({6, 2, 5, 5}, GroupBy::units);  // filters of 2·5·5
  EXPECT_EQ(conv_units.count, 6u);
  EXPECT_EQ(conv_units.size, 50u);
  const auto conv_inputs = xg::group_layout({6, 2, 5, 5}, GroupBy::inputs);  // channels of 6·5·5
  EXPECT_EQ(conv_inputs.count, 2u);
  EXPECT_EQ(conv_inputs.size, 150u);
}

TEST(GroupLayout, OneAxisIsRefusedNamingTheTensorAndShape) {
  expect_throws_with<std::invalid_argument>([] { xg::group_layout({7}, GroupBy::units, "GroupLasso", "parameter 'fc.bias'"); },
                                            {"GroupLasso", "'fc.bias'", "(7)", "2 or more axes"});
}

TEST(GroupNorms, ConvFiltersAndChannelsMatchAHandSum) {
  const Tensor w = away_from_zero({3, 2, 2, 2}, 1);
  const auto units = xg::group_norms(w, GroupBy::units);
  const auto inputs = xg::group_norms(w, GroupBy::inputs);
  ASSERT_EQ(units.size(), 3u);
  ASSERT_EQ(inputs.size(), 2u);
  for (std::size_t o = 0; o < 3; ++o) {
    double s = 0;
    for (std::size_t c = 0; c < 2; ++c)
      for (std::size_t i = 0; i < 2; ++i)
        for (std::size_t j = 0; j < 2; ++j) s += w(o, c, i, j) * w(o, c, i, j);
    EXPECT_NEAR(units[o], std::sqrt(s), 1e-14);
  }
  for (std::size_t c = 0; c < 2; ++c) {
    double s = 0;
    for (std::size_t o = 0; o < 3; ++o)
      for (std::size_t i = 0; i < 2; ++i)
        for (std::size_t j = 0; j < 2; ++j) s += w(o, c, i, j) * w(o, c, i, j);
    EXPECT_NEAR(inputs[c], std::sqrt(s), 1e-14);
  }
}

// ---- block soft-thresholding ----------------------------------------------------------------

TEST(GroupSoftThreshold, RowsShrinkByTheClosedFormAndSmallOnesVanish) {
  // |g| = 2, t = 1/√2: the group threshold t·√|g| is 1. (3, 4) has norm 5 → ·(1 − 1/5);
  // (0.3, 0.4) has norm 0.5 ≤ 1 → exactly 0; (−0.6, 0.8) has norm 1 → exactly 0 (the boundary).
  Tensor w = make_tensor({3, 2}, {3, 4, 0.3, 0.4, -0.6, 0.8});
  EXPECT_EQ(xg::group_soft_threshold(w, GroupBy::units, 1 / std::sqrt(2.0)), 2u);
  expect_tensor_near(w, make_tensor({3, 2}, {2.4, 3.2, 0, 0, 0, 0}), 1e-14);
  EXPECT_FALSE(std::signbit(w(2, 0))) << "a vanished group is +0";
}

TEST(GroupSoftThreshold, ColumnsOfALinearAndChannelsOfAConvMatchTheClosedForm) {
  for (const xg::Shape& shape : {xg::Shape{4, 3}, xg::Shape{3, 4, 2, 2}}) {
    const Tensor z = away_from_zero(shape, 7, 0.05, 1.0);
    const auto layout = xg::group_layout(shape, GroupBy::inputs);
    const std::vector<double> norms = xg::group_norms(z, GroupBy::inputs);
    // a threshold that makes some group vanish and keeps another
    const double t = (*std::min_element(norms.begin(), norms.end()) + *std::max_element(norms.begin(), norms.end())) /
                     2 / std::sqrt(double(layout.size));
    Tensor w = z;
    const std::size_t zeros = xg::group_soft_threshold(w, GroupBy::inputs, t);
    EXPECT_GT(zeros, 0u);
    EXPECT_LT(zeros, layout.count);
    const std::size_t rest = z.size() / (shape[0] * shape[1]);
    for (std::size_t c = 0; c < layout.count; ++c) {
      std::vector<double> group;
      for (std::size_t o = 0; o < shape[0]; ++o)
        for (std::size_t r = 0; r < rest; ++r) group.push_back(z.data()[(o * shape[1] + c) * rest + r]);
      const std::vector<double> expected = block_soft(group, t);
      std::size_t k = 0;
      for (std::size_t o = 0; o < shape[0]; ++o)
        for (std::size_t r = 0; r < rest; ++r, ++k) {
          EXPECT_NEAR(w.data()[(o * shape[1] + c) * rest + r], expected[k], 1e-14) << xg::shape_str(shape);
        }
    }
  }
}

TEST(GroupSoftThreshold, IsTheMinimizerOfItsProximalObjective) {
  // prox(z) = argmin_x ½‖x − z‖² + t·√|g|·‖x‖: no nearby point does better, for a kept group
  // and for a vanished one.
  xg::Rng rng(3);
  for (const double t : {0.05, 0.4, 2.0}) {
    const Tensor z = away_from_zero({1, 5}, 11, 0.1, 1.0);
    Tensor x = z;
    xg::group_soft_threshold(x, GroupBy::units, t);
    const std::vector<double> zv(z.data(), z.data() + 5), xv(x.data(), x.data() + 5);
    const double best = prox_objective(xv, zv, t);
    for (int trial = 0; trial < 200; ++trial) {
      const Tensor d = xg::rand_uniform<double>({5}, rng, -1e-3, 1e-3);
      std::vector<double> y = xv;
      for (std::size_t i = 0; i < 5; ++i) y[i] += d.data()[i];
      EXPECT_LE(best, prox_objective(y, zv, t) + 1e-15) << "t = " << t;
    }
  }
}

TEST(GroupSoftThreshold, BadThresholdsAndShapesThrow) {
  Tensor w = make_tensor({2, 2}, {1, 2, 3, 4});
  expect_throws_with<std::invalid_argument>([&] { xg::group_soft_threshold(w, GroupBy::units, -1.0); },
                                            {"group_soft_threshold", "threshold", "-1"});
  expect_throws_with<std::invalid_argument>([&] { xg::group_soft_threshold(w, GroupBy::units, NAN); }, {"threshold"});
  Tensor b{1.0, 2.0};
  expect_throws_with<std::invalid_argument>([&] { xg::group_soft_threshold(b, GroupBy::units, 0.1); },
                                            {"group_soft_threshold", "(2)", "2 or more axes"});
}

// ---- the penalty ----------------------------------------------------------------------------

TEST(GroupLassoPenalty, ValueIsLambdaTimesRootSizeTimesGroupNorms) {
  // rows (3, 4) and (0, 0): λ·√2·(5 + 0); columns (3, 0) and (4, 0): λ·√2·(3 + 4)
  Variable w = Variable::parameter(make_tensor({2, 2}, {3, 4, 0, 0}), "fc.weight");
  Variable b = Variable::parameter(Tensor{5.0, 5.0}, "fc.bias");
  const NamedParameters params = {{"fc.weight", w}, {"fc.bias", b}};
  EXPECT_NEAR(every_layer(0.1).penalty(params).value()(), 0.1 * std::sqrt(2.0) * 5, 1e-14);
  EXPECT_NEAR(every_layer(0.1, GroupBy::inputs).penalty(params).value()(), 0.1 * std::sqrt(2.0) * 7, 1e-14);
  const auto terms = every_layer(0.1).penalty_terms(params);
  EXPECT_NEAR(terms[0], 0.1 * std::sqrt(2.0) * 5, 1e-14);
  EXPECT_EQ(terms[1], 0.0);  // the bias is not selected
  // mode prox: the same value, as a constant
  const Variable reported = every_layer(0.1, GroupBy::units, {}, L1Mode::prox).penalty(params);
  EXPECT_NEAR(reported.value()(), 0.1 * std::sqrt(2.0) * 5, 1e-14);
  EXPECT_FALSE(reported.requires_grad());
}

TEST(GroupLassoPenalty, GradcheckLinearAndConvWeightsBothGroupings) {
  for (const GroupBy groups : {GroupBy::units, GroupBy::inputs}) {
    for (const xg::Shape& shape : {xg::Shape{4, 3}, xg::Shape{3, 2, 2, 2}}) {
      const GroupLasso reg = every_layer(0.3, groups);
      const auto f = [&](const std::vector<Variable>& x) { return reg.penalty({{"layer.weight", x[0]}}); };
      xtgrad_test::expect_gradcheck(f, {away_from_zero(shape, 21)});  // every group far from 0
    }
  }
}

TEST(GroupLassoPenalty, AnAllZeroGroupGetsZeroGradient) {
  Variable w = Variable::parameter(make_tensor({2, 2}, {0, 0, 3, 4}), "fc.weight");
  every_layer(0.5).penalty({{"fc.weight", w}}).backward();
  // row 0 is 0 (gradient 0, the minimum-norm subgradient); row 1: λ·√2·w/‖w‖
  expect_tensor_near(w.grad(), make_tensor({2, 2}, {0, 0, 0.5 * std::sqrt(2.0) * 0.6, 0.5 * std::sqrt(2.0) * 0.8}), 1e-14);
}

TEST(GroupLassoPenalty, GradcheckCatchesAGradientWithoutTheRootSize) {
  // The penalty's value with a hand-written backward that forgets √|g| (the classic slip):
  // the checker must reject it, and accept the same wrapper with the factor in.
  const auto wrapped = [](bool forget_root) {
    return [forget_root](const std::vector<Variable>& x) {
      const Tensor value = every_layer(0.3).penalty({{"fc.weight", x[0]}}).value();
      return xg::make_result<double>("group_lasso_by_hand", Tensor(value), {x[0]}, [forget_root](xg::BasicNode<double>& self) {
        const Tensor& w = self.parent_value(0);
        const std::vector<double> norms = xg::group_norms(w, GroupBy::units);
        Tensor dw = Tensor::from_shape(xg::shape_of(w));
        const double root = forget_root ? 1.0 : std::sqrt(double(w.shape()[1]));
        for (std::size_t o = 0; o < w.shape()[0]; ++o)
          for (std::size_t i = 0; i < w.shape()[1]; ++i) dw(o, i) = self.grad() * 0.3 * root * w(o, i) / norms[o];
        self.add_to_parent(0, std::move(dw));
      });
    };
  };
  const std::vector<Tensor> in{away_from_zero({3, 4}, 31)};
  EXPECT_TRUE(xtgrad_test::run_gradcheck(wrapped(false), in).ok);
  const xg::GradcheckReport wrong = xtgrad_test::run_gradcheck(wrapped(true), in);
  EXPECT_FALSE(wrong.ok) << wrong.message;
}

TEST(GroupLassoPenalty, ABiasInTheSelectionIsRefusedNamingIt) {
  Variable w = Variable::parameter(make_tensor({2, 2}, {1, 2, 3, 4}), "fc.weight");
  Variable b = Variable::parameter(Tensor{1.0, 2.0}, "fc.bias");
  const NamedParameters params = {{"fc.weight", w}, {"fc.bias", b}};
  const GroupLasso all = every_layer(0.1, GroupBy::units, Selection::all());
  expect_throws_with<std::invalid_argument>([&] { all.penalty(params); }, {"GroupLasso", "'fc.bias'", "(2)"});
  expect_throws_with<std::invalid_argument>([&] { all.coverage(params); }, {"'fc.bias'"});
  expect_throws_with<std::invalid_argument>([] { GroupLasso(-0.1); }, {"GroupLasso", "lambd", "-0.1"});
  expect_throws_with<std::invalid_argument>([] { GroupLasso(0.1, GroupBy::units, {}, L1Mode::prox, 0); }, {"start"});
}

TEST(GroupLassoPenalty, ByDefaultOnlyTheHiddenUnitsGroupsArePenalized) {
  // fc1 (3, 4) → fc2 (2, 3): the hidden units are fc1's rows; fc2's rows are the outputs, and
  // the inputs are fc1's columns.
  Variable w1 = Variable::parameter(away_from_zero({3, 4}, 41), "fc1.weight");
  Variable b1 = Variable::parameter(Tensor{0.1, 0.1, 0.1}, "fc1.bias");
  Variable w2 = Variable::parameter(away_from_zero({2, 3}, 42), "fc2.weight");
  const NamedParameters params = {{"fc1.weight", w1}, {"fc1.bias", b1}, {"fc2.weight", w2}};
  double rows1 = 0, cols1 = 0, rows2 = 0;
  for (double n : xg::group_norms(w1.value(), GroupBy::units)) rows1 += n;
  for (double n : xg::group_norms(w1.value(), GroupBy::inputs)) cols1 += n;
  for (double n : xg::group_norms(w2.value(), GroupBy::units)) rows2 += n;
  EXPECT_NEAR(GroupLasso(0.1).penalty(params).value()(), 0.1 * 2 * rows1, 1e-14);  // √4 = 2
  EXPECT_NEAR(GroupLasso(0.1, GroupBy::inputs).penalty(params).value()(), 0.1 * std::sqrt(3.0) * cols1, 1e-14);
  EXPECT_NEAR(every_layer(0.1).penalty(params).value()(), 0.1 * (2 * rows1 + std::sqrt(3.0) * rows2), 1e-14);
  const auto rows = GroupLasso(0.1).coverage(params);
  EXPECT_TRUE(rows[0].penalized);
  EXPECT_FALSE(rows[1].penalized);
  EXPECT_FALSE(rows[2].penalized) << "the output layer's rows are not hidden units";
  // the proximal step leaves the output layer alone too
  const Tensor before = w2.value();
  xg::apply_prox(GroupLasso(10.0, GroupBy::units, {}, L1Mode::prox), params, 1.0, 1);
  expect_tensor_near(w2.value(), before, 0.0);
  EXPECT_EQ(xg::group_norms(w1.value(), GroupBy::units)[0], 0.0);
  EXPECT_EQ(GroupLasso(0.1, GroupBy::units, {}, L1Mode::subgradient, 1, xg::GroupLayers::all).describe(),
            "group_lasso(lambd=0.1, layers=all)");
}

TEST(GroupLassoPenalty, CoverageAndDescribe) {
  Variable w = Variable::parameter(make_tensor({2, 2}, {1, 2, 3, 4}), "fc.weight");
  Variable b = Variable::parameter(Tensor{1.0, 2.0}, "fc.bias");
  const GroupLasso reg(1e-3, GroupBy::inputs, {}, L1Mode::prox, 3);
  EXPECT_EQ(reg.describe(), "group_lasso(lambd=0.001, groups=inputs, mode=prox, start=3)");
  EXPECT_EQ(GroupLasso(0.01).describe(), "group_lasso(lambd=0.01)");
  const auto rows = reg.coverage({{"fc.weight", w}, {"fc.bias", b}});
  EXPECT_TRUE(rows[0].penalized);
  EXPECT_EQ(rows[0].group, 1e-3);
  EXPECT_EQ(rows[0].groups, "inputs");
  EXPECT_FALSE(rows[1].penalized);
  const std::string table = xg::format_coverage(reg, {{"fc.weight", w}, {"fc.bias", b}});
  EXPECT_NE(table.find("0.001 (inputs)"), std::string::npos) << table;
  EXPECT_NE(table.find("w_g ← w_g·max(0, 1 − lr·0.001·√|g|/‖w_g‖₂)"), std::string::npos) << table;
  EXPECT_EQ(table.find("no penalty"), std::string::npos) << table;
}

// ---- the proximal step ----------------------------------------------------------------------

TEST(GroupLassoProx, ApplyProxRunsInModeProxFromItsStartEpoch) {
  Variable w = Variable::parameter(make_tensor({2, 2}, {3, 4, 0.3, 0.4}), "fc.weight");
  Variable b = Variable::parameter(Tensor{0.1, 0.1}, "fc.bias");
  const NamedParameters params = {{"fc.weight", w}, {"fc.bias", b}};
  EXPECT_FALSE(xg::apply_prox(every_layer(0.5), params, 1 / std::sqrt(2.0) / 0.5, 1));  // subgradient mode
  const GroupLasso late = every_layer(0.5, GroupBy::units, {}, L1Mode::prox, 2);
  EXPECT_FALSE(xg::apply_prox(late, params, 1 / std::sqrt(2.0) / 0.5, 1));
  expect_tensor_near(w.value(), make_tensor({2, 2}, {3, 4, 0.3, 0.4}), 0.0);
  // lr·λ·√|g| = 1: the closed form of the first test
  EXPECT_TRUE(xg::apply_prox(late, params, 1 / std::sqrt(2.0) / 0.5, 2));
  expect_tensor_near(w.value(), make_tensor({2, 2}, {2.4, 3.2, 0, 0}), 1e-14);
  expect_tensor_near(b.value(), Tensor{0.1, 0.1}, 0.0);
  expect_throws_with<std::invalid_argument>([&] { xg::apply_prox(late, params, 0.0, 2); }, {"lr"});
}

// min_W (1/2n)·‖X·Wᵀ − Y‖² + λ·Σ_c √|g|·‖W[:, c]‖ with XᵀX = n·I (four columns of the 8×8
// Hadamard matrix): the data gradient is W − Z with Z = YᵀX/n, so the objective separates per
// column into ½‖w_c − z_c‖² + λ√2‖w_c‖, minimized by block soft-thresholding z_c by λ.
// Proximal gradient (SGD step η, then apply_prox) has that as its fixed point; the
// subgradient reaches it only approximately and leaves the vanishing columns non-zero.
TEST(GroupLassoProx, ProximalGradientReachesTheClosedFormOptimumWithExactZeroColumns) {
  constexpr std::size_t n = 8, p = 4, outs = 2;
  constexpr double lambda = 0.1;
  const double z[outs][p] = {{1.0, 0.04, -0.5, 0.02}, {-0.5, -0.05, 0.8, 0.01}};  // columns 1, 3 small
  Tensor xs = Tensor::from_shape({n, p}), ys = Tensor::from_shape({n, outs});
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = 0; j < p; ++j) xs(i, j) = __builtin_popcountll(i & (j + 1)) % 2 ? -1.0 : 1.0;
    for (std::size_t o = 0; o < outs; ++o) {
      double y = 0.3 * (__builtin_popcountll(i & 5) % 2 ? -1.0 : 1.0) * (o + 1);  // a residual ⟂ the columns
      for (std::size_t j = 0; j < p; ++j) y += xs(i, j) * z[o][j];
      ys(i, o) = y;
    }
  }
  const Variable x(xs), y(ys);
  const auto train = [&](L1Mode mode) {
    Variable w = Variable::parameter(Tensor(xg::full<double>({outs, p}, 0.3)), "fc.weight");
    const NamedParameters params = {{"fc.weight", w}};
    const GroupLasso reg(lambda, GroupBy::inputs, {}, mode);
    const double eta = 0.5;
    xg::nn::BasicSGD<double> sgd(params, eta);
    for (int step = 0; step < 200; ++step) {
      Variable loss = xg::sum(xg::square(xg::matmul(x, xg::transpose(w)) - y)) * (0.5 / double(n));
      const Variable penalty = reg.penalty(params);
      if (penalty.requires_grad()) loss = loss + penalty;
      sgd.zero_grad();
      loss.backward();
      sgd.step();
      xg::apply_prox(reg, params, eta, 1);
    }
    return w.value();
  };
  Tensor expected = Tensor::from_shape({outs, p});
  for (std::size_t c = 0; c < p; ++c) {
    const std::vector<double> col = block_soft({z[0][c], z[1][c]}, lambda);
    expected(0, c) = col[0];
    expected(1, c) = col[1];
  }
  EXPECT_EQ(expected(0, 1), 0.0);  // the problem has zero columns to find
  EXPECT_EQ(expected(0, 3), 0.0);
  const Tensor prox = train(L1Mode::prox);
  expect_tensor_near(prox, expected, 1e-12);
  for (std::size_t o = 0; o < outs; ++o) {
    EXPECT_EQ(prox(o, 1), 0.0);
    EXPECT_EQ(prox(o, 3), 0.0);
  }
  const Tensor sub = train(L1Mode::subgradient);
  EXPECT_NE(sub(0, 1), 0.0) << "the subgradient circles around 0 instead";
}

// ---- the spec term --------------------------------------------------------------------------

TEST(GroupLassoSpec, ParsesKeysAndRoundTripsThroughDescribe) {
  const auto spec = xg::parse_regularizer_spec("group_lasso(lambd=1e-3, groups=inputs, mode=prox, start=2)");
  EXPECT_EQ(spec.kind, "group_lasso");
  EXPECT_EQ(spec.group, 1e-3);
  EXPECT_EQ(spec.groups, GroupBy::inputs);
  EXPECT_EQ(spec.mode, L1Mode::prox);
  EXPECT_EQ(spec.start, 2u);
  EXPECT_EQ(spec.l1, 0.0);
  EXPECT_EQ(spec.l2, 0.0);
  const auto reg = xg::make_regularizer<double>(spec);
  EXPECT_EQ(reg->describe(), "group_lasso(lambd=0.001, groups=inputs, mode=prox, start=2)");
  const auto again = xg::make_regularizer<double>(reg->describe());
  EXPECT_EQ(again->describe(), reg->describe());
  EXPECT_NE(dynamic_cast<const GroupLasso*>(again.get()), nullptr);
  EXPECT_EQ(xg::parse_regularizer_spec("group_lasso(lambd=1)").groups, GroupBy::units);
  EXPECT_EQ(xg::parse_regularizer_spec("group_lasso(lambd=1)").layers, xg::GroupLayers::hidden);
  const auto all = xg::make_regularizer<double>("group_lasso(lambd=1, layers=all, groups=inputs)");
  EXPECT_EQ(all->describe(), "group_lasso(lambd=1, groups=inputs, layers=all)");
}

TEST(GroupLassoSpec, BadSpecsSayWhatIsWrong) {
  using xg::parse_regularizer_spec;
  const auto bad = [](const char* text, std::initializer_list<const char*> parts) {
    expect_throws_with<std::invalid_argument>([&] { parse_regularizer_spec(text); }, parts);
  };
  bad("group_lasso", {"missing '(' after 'group_lasso'", "group_lasso(lambd=X)"});
  bad("group_lasso()", {"missing key 'lambd'"});
  bad("group_lasso(lambd=1e-3, groups=rows)", {"value 'rows' for key 'groups' is not units or inputs"});
  bad("group_lasso(lambd=-1)", {"value '-1' for key 'lambd' is negative"});
  bad("group_lasso(lambd=1, mode=exact)", {"value 'exact' for key 'mode' is not subgradient or prox"});
  bad("group_lasso(l1=1)", {"unknown key 'l1' for group_lasso", "groups=units|inputs"});
  bad("l1(lambd=1, groups=units)", {"unknown key 'groups' for l1"});
  bad("group_lasso(lambd=1, layers=output)", {"value 'output' for key 'layers' is not hidden or all"});
  bad("group_laso(lambd=1)", {"unknown regularizer 'group_laso'", "group_lasso"});
  xg::RegSpec odd;
  odd.kind = "l2";
  odd.l2 = 0.1;
  odd.groups = GroupBy::inputs;
  expect_throws_with<std::invalid_argument>([&] { xg::make_regularizer(odd); }, {"make_regularizer", "'l2'", "groups"});
}
