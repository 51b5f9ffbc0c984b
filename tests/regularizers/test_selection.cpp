// Which parameters a regularizer sees: weights by default, a regex, a predicate, or the tensors
// of one optimizer parameter group (Selection::among).
#include <gtest/gtest.h>

#include <algorithm>
#include <initializer_list>
#include <stdexcept>
#include <string>
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
using L1 = xg::BasicL1<double>;
using L2 = xg::BasicL2<double>;
using Selection = xg::BasicSelection<double>;

namespace {

// A (rows, cols) tensor from row-major values (nested braces are ambiguous for one column).
Tensor matrix(std::size_t rows, std::size_t cols, std::initializer_list<double> values) {
  Tensor t = Tensor::from_shape({rows, cols});
  std::copy(values.begin(), values.end(), t.data());
  return t;
}

// fc1 (2, 2) + bias, fc2 (2, 1) + bias, and a Sequential-style "0.weight".
NamedParameters params() {
  return {{"fc1.weight", Variable::parameter(Tensor{{1.0, -2.0}, {0.0, 3.0}})},
          {"fc1.bias", Variable::parameter(Tensor{0.5, -0.5})},
          {"fc2.weight", Variable::parameter(matrix(2, 1, {4.0, -1.0}))},
          {"fc2.bias", Variable::parameter(Tensor{2.0})},
          {"0.weight", Variable::parameter(matrix(1, 1, {10.0}))}};
}

std::vector<std::string> chosen(const Selection& selection) {
  std::vector<std::string> names;
  for (const auto& [name, param] : params()) {
    if (selection.selects(name, param)) names.push_back(name);
  }
  return names;
}

using Names = std::vector<std::string>;

}  // namespace

TEST(Selection, WeightNameIsTheLastDottedComponent) {
  for (const char* name : {"fc1.weight", "0.weight", "weight", "encoder.layers.3.weight"}) {
    EXPECT_TRUE(xg::is_weight_name(name)) << name;
  }
  for (const char* name : {"fc1.bias", "bias", "fc1.weight_scale", "weights", "fc1.weight.bias",
                           "weight.bias", "fc1weight", "", "."}) {
    EXPECT_FALSE(xg::is_weight_name(name)) << name;
  }
}

TEST(Selection, DefaultIsWeightsOnlyNeverBiases) {
  const Names expected = {"fc1.weight", "fc2.weight", "0.weight"};
  EXPECT_EQ(chosen(Selection()), expected);
  EXPECT_EQ(chosen(Selection::weights_only()), expected);
  EXPECT_EQ(chosen(xg::weights_only<double>()), expected);
  EXPECT_EQ(Selection().describe(), "weights");
}

TEST(Selection, AllSelectsEverything) {
  EXPECT_EQ(chosen(Selection::all()).size(), 5u);
  EXPECT_EQ(Selection::all().describe(), "all");
}

TEST(Selection, PatternSearchesTheFullName) {
  EXPECT_EQ(chosen(Selection::pattern("^fc1\\.")), (Names{"fc1.weight", "fc1.bias"}));
  EXPECT_EQ(chosen(Selection::pattern("bias$")), (Names{"fc1.bias", "fc2.bias"}));
  EXPECT_EQ(chosen(Selection::pattern("^fc2\\.weight$")), (Names{"fc2.weight"}));
  EXPECT_EQ(chosen(Selection::pattern("^[0-9]+\\.")), (Names{"0.weight"}));
  EXPECT_TRUE(chosen(Selection::pattern("^W\\d+")).empty());  // the seed's names
  EXPECT_EQ(Selection::pattern("^fc1\\.").describe(), "pattern(^fc1\\.)");
}

TEST(Selection, PatternIsAnchoredOnlyWhereTheRegexSaysSo) {
  const auto s = Selection::pattern("^fc1\\.");
  const Variable w(Tensor{1.0});
  EXPECT_TRUE(s.selects("fc1.weight", w));
  EXPECT_FALSE(s.selects("xfc1.weight", w));
  EXPECT_FALSE(s.selects("fc10.weight", w));
  EXPECT_TRUE(Selection::pattern("fc1").selects("block.fc1.weight", w));
}

TEST(Selection, BadRegexThrowsWithThePattern) {
  try {
    Selection::pattern("fc1.(weight");
    FAIL() << "no exception";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("'fc1.(weight'"), std::string::npos) << e.what();
  }
}

TEST(Selection, PredicateSeesNameAndValue) {
  const auto matrices = Selection::predicate(
      [](const std::string&, const Variable& p) { return p.dim() == 2; }, "matrices");
  EXPECT_EQ(chosen(matrices), (Names{"fc1.weight", "fc2.weight", "0.weight"}));
  EXPECT_EQ(matrices.describe(), "matrices");
  const auto fc2_any = Selection::predicate(
      [](const std::string& name, const Variable&) { return name.rfind("fc2.", 0) == 0; });
  EXPECT_EQ(chosen(fc2_any), (Names{"fc2.weight", "fc2.bias"}));
  EXPECT_EQ(fc2_any.describe(), "predicate");
  EXPECT_THROW(Selection::predicate(nullptr), std::invalid_argument);
}

TEST(Selection, RegularizerPenalizesOnlyWhatThePatternSelects) {
  const auto ps = params();
  // fc1.*: Σw² = 1 + 4 + 0 + 9 + 0.25 + 0.25 = 14.5
  const L2 l2(0.2, Selection::pattern("^fc1\\."));
  const Variable p = l2.penalty(ps);
  EXPECT_NEAR(p.item(), 0.5 * 0.2 * 14.5, 1e-12);
  p.backward();
  EXPECT_TRUE(ps[0].second.has_grad());
  EXPECT_TRUE(ps[1].second.has_grad());  // the pattern chose the bias too
  EXPECT_NEAR(ps[1].second.grad()(0), 0.2 * 0.5, 1e-12);
  EXPECT_FALSE(ps[2].second.has_grad());
  EXPECT_FALSE(ps[3].second.has_grad());
  EXPECT_FALSE(ps[4].second.has_grad());
  const auto rows = l2.coverage(ps);
  EXPECT_TRUE(rows[0].penalized);
  EXPECT_TRUE(rows[1].penalized);
  EXPECT_FALSE(rows[2].penalized);
  EXPECT_FALSE(rows[4].penalized);
}

TEST(Selection, RegularizerPenalizesOnlyWhatThePredicateSelects) {
  const auto ps = params();
  const L1 l1(0.1, Selection::predicate(
                           [](const std::string& name, const Variable&) { return name == "fc2.weight"; }));
  const Variable p = l1.penalty(ps);
  EXPECT_NEAR(p.item(), 0.1 * 5.0, 1e-12);
  p.backward();
  EXPECT_NEAR(ps[2].second.grad()(0, 0), 0.1, 1e-12);
  EXPECT_NEAR(ps[2].second.grad()(1, 0), -0.1, 1e-12);
  EXPECT_FALSE(ps[0].second.has_grad());
  EXPECT_FALSE(ps[4].second.has_grad());
}

// ---- Per-group penalty coverage: Selection::among(group.params) --------------------------

namespace {

using ParamGroup = xtgrad::nn::BasicParamGroup<double>;
using ParamGroups = xtgrad::nn::BasicParamGroups<double>;

// Two optimizer groups over params(): fc1 (lr 0.1, the default) and fc2 (lr 0.5).
ParamGroups two_groups(const NamedParameters& ps) {
  return {ParamGroup({ps[0], ps[1]}), ParamGroup({ps[2], ps[3]}, 0.5)};
}

TEST(SelectionAmong, APenaltyCoversOneOptimizerGroupOnly) {
  const auto ps = params();
  const ParamGroups groups = two_groups(ps);
  const L1 l1(0.25, Selection::among(groups[1].params));  // weights of group 1: fc2.weight
  EXPECT_EQ(Selection::among(groups[1].params).describe(), "weights of [fc2.weight, fc2.bias]");
  const auto rows = l1.coverage(ps);
  std::vector<std::string> penalized;
  for (const auto& row : rows)
    if (row.penalized) penalized.push_back(row.name);
  EXPECT_EQ(penalized, std::vector<std::string>{"fc2.weight"});
  EXPECT_NEAR(l1.penalty(ps).item(), 0.25 * (4.0 + 1.0), 1e-12);
  // within: every tensor of the group, biases included.
  const L2 l2(0.5, Selection::among(groups[1].params, Selection::all()));
  EXPECT_NEAR(l2.penalty(ps).item(), 0.5 * 0.5 * (16.0 + 1.0 + 4.0), 1e-12);
}

TEST(SelectionAmong, MatchesTensorsNotNames) {
  const auto ps = params();
  const Selection group1 = Selection::among({ps[2], ps[3]});
  EXPECT_TRUE(group1.selects("fc2.weight", ps[2].second));
  EXPECT_TRUE(group1.selects("renamed.weight", ps[2].second));  // the same tensor under another name
  const Variable other = Variable::parameter(matrix(2, 1, {4.0, -1.0}));
  EXPECT_FALSE(group1.selects("fc2.weight", other));  // another tensor with the group's name
  EXPECT_FALSE(Selection::among({}).selects("fc2.weight", ps[2].second));
}

// One SGD step on data + penalty: group 0 moves by its lr times the data gradient alone, group
// 1's weight by its own lr times data gradient + λ·sign(w).
TEST(SelectionAmong, GroupsStepWithTheirOwnLrAndOnlyTheirOwnPenalty) {
  const auto ps = params();
  std::vector<Tensor> before;
  for (const auto& p : ps) before.push_back(p.second.value());
  const ParamGroups groups = two_groups(ps);
  xtgrad::nn::BasicSGD<double> sgd(groups, 0.1);
  const L1 l1(0.25, Selection::among(groups[1].params));
  Variable data = xg::sum(ps[0].second) + xg::sum(ps[1].second) + xg::sum(ps[2].second) + xg::sum(ps[3].second);
  Variable loss = data + l1(ps);
  sgd.zero_grad();
  loss.backward();
  sgd.step();
  // d data / dw = 1 everywhere; the penalty adds 0.25·sign(w) to fc2.weight = (4, −1) only.
  EXPECT_NEAR(ps[0].second.value()(0, 1), before[0](0, 1) - 0.1 * 1.0, 1e-12);
  EXPECT_NEAR(ps[1].second.value()(0), before[1](0) - 0.1 * 1.0, 1e-12);
  EXPECT_NEAR(ps[2].second.value()(0, 0), before[2](0, 0) - 0.5 * (1.0 + 0.25), 1e-12);
  EXPECT_NEAR(ps[2].second.value()(1, 0), before[2](1, 0) - 0.5 * (1.0 - 0.25), 1e-12);
  EXPECT_NEAR(ps[3].second.value()(0), before[3](0) - 0.5 * 1.0, 1e-12);
  EXPECT_NEAR(ps[4].second.value()(0, 0), before[4](0, 0), 0.0);  // in no group: untouched
}

}  // namespace
