// The sparsity report on hand-made tensors.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

#include "xtgrad/core/core.hpp"
#include "xtgrad/regularizers/regularizers.hpp"

namespace xg = xtgrad;
// In double: exact comparisons and gradient checks (the float aliases xg::L1, ... train).
using Tensor = xg::TensorOf<double>;
using Variable = xg::BasicVariable<double>;
using NamedParameters = xg::NamedParametersOf<double>;
using Selection = xg::BasicSelection<double>;

namespace {

// W (3, 4): 8 exact zeros, 2 more below 1e-3 (5e-4, −1e-4), −1e-3 exactly at the threshold.
// Row 0 is all zero; columns 0 and 2 are all zero; column 1 is all below 1e-3.
Tensor matrix() {
  return Tensor{{0.0, 0.0, 0.0, 0.0}, {0.0, 5e-4, 0.0, -1e-3}, {0.0, -1e-4, 0.0, 0.5}};
}

NamedParameters params() {
  return {{"fc1.weight", Variable::parameter(matrix())},
          {"fc1.bias", Variable::parameter(Tensor{0.0, 1.0, 0.0, 0.0})},
          {"conv.weight", Variable::parameter(Tensor{{{0.0, 1.0}, {2.0, 0.0}}, {{0.0, 0.0}, {3.0, 4.0}}})}};
}

}  // namespace

TEST(Sparsity, MatrixCountsZerosNearZerosRowsAndColumns) {
  const auto rows = xg::sparsity_report(params());
  ASSERT_EQ(rows.size(), 2u);  // the bias is not a weight
  const auto& w = rows[0];
  EXPECT_EQ(w.name, "fc1.weight");
  EXPECT_EQ(w.shape, (xg::Shape{3, 4}));
  EXPECT_EQ(w.count, 12u);
  EXPECT_EQ(w.zeros, 8u);
  EXPECT_EQ(w.near_zeros, 10u);
  EXPECT_NEAR(w.zero_fraction, 8.0 / 12.0, 1e-15);
  EXPECT_NEAR(w.near_zero_fraction, 10.0 / 12.0, 1e-15);
  EXPECT_EQ(w.eps, 1e-3);
  EXPECT_TRUE(w.is_matrix);
  EXPECT_EQ(w.rows, 3u);
  EXPECT_EQ(w.cols, 4u);
  EXPECT_EQ(w.zero_rows, 1u);
  EXPECT_EQ(w.zero_cols, 2u);
  EXPECT_EQ(w.near_zero_rows, 1u);
  EXPECT_EQ(w.near_zero_cols, 3u);
}

TEST(Sparsity, ThresholdIsConfigurableAndStrict) {
  const auto rows = xg::sparsity_report(params(), xg::weights_only<double>(), 2e-3);
  const auto& w = rows[0];
  EXPECT_EQ(w.zeros, 8u);
  EXPECT_EQ(w.near_zeros, 11u);  // −1e-3 now counts
  EXPECT_EQ(w.near_zero_rows, 2u);
  EXPECT_EQ(w.near_zero_cols, 3u);
  EXPECT_EQ(xg::sparsity_report(params(), xg::weights_only<double>(), 1e-4)[0].near_zeros, 8u);  // 1e-4 is not < 1e-4
}

TEST(Sparsity, OtherRanksHaveNoRowsOrColumns) {
  const auto rows = xg::sparsity_report(params(), Selection::all());
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[1].name, "fc1.bias");
  EXPECT_EQ(rows[1].count, 4u);
  EXPECT_EQ(rows[1].zeros, 3u);
  EXPECT_FALSE(rows[1].is_matrix);
  EXPECT_EQ(rows[1].zero_rows, 0u);
  EXPECT_EQ(rows[2].name, "conv.weight");
  EXPECT_EQ(rows[2].count, 8u);
  EXPECT_EQ(rows[2].zeros, 4u);
  EXPECT_NEAR(rows[2].zero_fraction, 0.5, 1e-15);
  EXPECT_FALSE(rows[2].is_matrix);
}

TEST(Sparsity, SelectionByPattern) {
  const auto rows = xg::sparsity_report(params(), Selection::pattern("bias$"));
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].name, "fc1.bias");
}

TEST(Sparsity, BadEpsThrows) {
  for (const double eps : {0.0, -1e-3, std::numeric_limits<double>::quiet_NaN(),
                           std::numeric_limits<double>::infinity()}) {
    EXPECT_THROW(xg::sparsity_report(params(), xg::weights_only<double>(), eps), std::invalid_argument) << eps;
  }
}

TEST(Sparsity, FormatIsATableWithTotals) {
  const std::string table = xg::format_sparsity(xg::sparsity_report(params()));
  for (const char* word : {"parameter", "|w|<0.001", "fc1.weight", "(3, 4)", "8 (66.67%)",
                           "10 (83.33%)", "1/3", "2/4", "conv.weight", "total", "12 (60.00%)"}) {
    EXPECT_NE(table.find(word), std::string::npos) << "missing '" << word << "' in\n" << table;
  }
}
