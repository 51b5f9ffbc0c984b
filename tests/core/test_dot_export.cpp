// to_dot: Graphviz text with op names, parameter names, shapes and edges; no recursion.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <string>

#include "test_util.hpp"
#include "xtgrad/core/core.hpp"
#include "xtgrad/ops/ops.hpp"

namespace xtgrad_test {

using namespace xtgrad;  // the names under test; Scalar, Tensor, Variable, ... are this program's (test_util.hpp)

namespace {

using xtgrad_test::filled;

std::size_t count_of(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (std::size_t pos = text.find(needle); pos != std::string::npos; pos = text.find(needle, pos + needle.size())) ++n;
  return n;
}

bool contains(const std::string& text, const std::string& needle) { return text.find(needle) != std::string::npos; }

TEST(ToDot, ShowsOpsParameterNamesShapesAndEdges) {
  Variable x(filled({4, 2}, 1));                                     // constant input
  Variable w = Variable::parameter(filled({2, 3}, 0.5), "fc1.weight");  // (2, 3)
  Variable h = sigmoid(matmul(x, w));                                // (4, 3)
  const std::string dot = to_dot(h);
  EXPECT_TRUE(contains(dot, "digraph")) << dot;
  EXPECT_TRUE(contains(dot, "matmul")) << dot;
  EXPECT_TRUE(contains(dot, "sigmoid")) << dot;
  EXPECT_TRUE(contains(dot, "fc1.weight")) << dot;
  EXPECT_TRUE(contains(dot, "(2, 3)")) << dot;
  EXPECT_TRUE(contains(dot, "(4, 2)")) << dot;
  EXPECT_TRUE(contains(dot, "(4, 3)")) << dot;
  // x → matmul, w → matmul, matmul → sigmoid.
  EXPECT_EQ(count_of(dot, "->"), 3u) << dot;
  EXPECT_EQ(dot.back(), '\n');
  EXPECT_TRUE(contains(dot, "}")) << dot;
}

TEST(ToDot, SharedInputIsOneNodeWithTwoEdges) {
  Variable w = Variable::parameter(filled({2}, 1), "w");
  const std::string dot = to_dot(w * w);
  EXPECT_EQ(count_of(dot, "label=\"w\\n(2)\""), 1u) << dot;
  EXPECT_EQ(count_of(dot, "->"), 2u) << dot;
}

TEST(ToDot, DiamondNodesAppearOnce) {
  Variable a = Variable::parameter(filled({1}, 2), "a");
  Variable b = exp(a);
  Variable c = tanh(a);
  const std::string dot = to_dot(b * c);
  EXPECT_EQ(count_of(dot, "label=\"a\\n"), 1u) << dot;
  EXPECT_EQ(count_of(dot, "label=\"exp"), 1u) << dot;
  EXPECT_EQ(count_of(dot, "label=\"tanh"), 1u) << dot;
  EXPECT_EQ(count_of(dot, "->"), 4u) << dot;  // a→exp, a→tanh, exp→mul, tanh→mul
}

TEST(ToDot, LeafAndEmptyVariableExport) {
  EXPECT_TRUE(contains(to_dot(Variable::parameter(filled({3}, 0), "bias")), "bias"));
  const std::string empty = to_dot(Variable());
  EXPECT_TRUE(contains(empty, "digraph")) << empty;
  EXPECT_FALSE(contains(empty, "->")) << empty;
}

TEST(ToDot, ChainOfOneHundredThousandNodesExportsWithoutRecursion) {
  Variable x = Variable::parameter(filled({2}, 1), "x");
  Variable y = x;
  for (int i = 0; i < 100000; ++i) y = y + 0.0;
  const std::string dot = to_dot(y);
  EXPECT_TRUE(contains(dot, "digraph"));
  EXPECT_EQ(count_of(dot, "->"), 100000u);
}

}  // namespace
}  // namespace xtgrad_test
