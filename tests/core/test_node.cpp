// Node: sum_to and accumulate_grad (the one place broadcasting is undone), and lifetime:
// graphs are freed after backward and when dropped, with no cycles and no recursion.
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <stdexcept>
#include <string>
#include <unordered_set>
#include <vector>

#include "test_util.hpp"
#include "xtgrad/core/core.hpp"
#include "xtgrad/ops/ops.hpp"

namespace xtgrad_test {

using namespace xtgrad;  // the names under test; Scalar, Tensor, Variable, ... are this program's (test_util.hpp)

namespace {

using xtgrad_test::make_tensor;
using xtgrad_test::filled;
using xtgrad_test::expect_values;

// Weak references to every node reachable from `root` through parents (iteratively).
std::vector<std::weak_ptr<Node>> all_nodes(const Variable& root) {
  std::vector<std::weak_ptr<Node>> out;
  std::unordered_set<const Node*> seen{root.node().get()};
  std::vector<NodePtr> stack{root.node()};
  while (!stack.empty()) {
    NodePtr n = stack.back();
    stack.pop_back();
    out.emplace_back(n);
    for (const NodePtr& p : n->parents) {
      if (seen.insert(p.get()).second) stack.push_back(p);
    }
  }
  return out;
}

std::size_t live_count(const std::vector<std::weak_ptr<Node>>& nodes) {
  return static_cast<std::size_t>(
      std::count_if(nodes.begin(), nodes.end(), [](const std::weak_ptr<Node>& w) { return !w.expired(); }));
}

// --- sum_to -------------------------------------------------------------------------------

TEST(SumTo, SameShapeIsACopy) {
  Tensor t = make_tensor({2, 2}, {1, 2, 3, 4});
  expect_values(sum_to(t, {2, 2}), {2, 2}, {1, 2, 3, 4});
}

TEST(SumTo, LeadingAxesAreSummedAway) {
  Tensor t = make_tensor({2, 3}, {1, 2, 3, 4, 5, 6});
  expect_values(sum_to(t, {3}), {3}, {5, 7, 9});
  Tensor t3 = filled({4, 2, 3}, 1);
  expect_values(sum_to(t3, {2, 3}), {2, 3}, {4, 4, 4, 4, 4, 4});
  expect_values(sum_to(t3, {3}), {3}, {8, 8, 8});
}

TEST(SumTo, AxesOfSizeOneAreSummedWithKeepdims) {
  Tensor t = make_tensor({2, 3}, {1, 2, 3, 4, 5, 6});
  expect_values(sum_to(t, {2, 1}), {2, 1}, {6, 15});
  expect_values(sum_to(t, {1, 3}), {1, 3}, {5, 7, 9});
  expect_values(sum_to(t, {1, 1}), {1, 1}, {21});
}

TEST(SumTo, LeadingAndSizeOneAxesTogether) {
  Tensor t = filled({2, 3, 4}, 1);
  expect_values(sum_to(t, {3, 1}), {3, 1}, {8, 8, 8});
  // Distinct values: t[a, j, l] = 12a + 4j + l; to (3, 1): Σ_a Σ_l, to (1, 4): Σ_a Σ_j.
  Tensor u = Tensor::from_shape({2, 3, 4});
  for (std::size_t i = 0; i < u.size(); ++i) u.data()[i] = Scalar(i);
  expect_values(sum_to(u, {3, 1}), {3, 1}, {6 + 54, 22 + 70, 38 + 86});
  expect_values(sum_to(u, {1, 4}), {1, 4}, {60, 66, 72, 78});
  expect_values(sum_to(u, {2, 1, 4}), {2, 1, 4}, {12, 15, 18, 21, 48, 51, 54, 57});
}

TEST(SumTo, AnEmptyLeadingAxisSumsToZeros) {
  const Tensor t = Tensor::from_shape({0, 3});
  expect_values(sum_to(t, {3}), {3}, {0, 0, 0});
  expect_values(sum_to(t, {1, 3}), {1, 3}, {0, 0, 0});
}

TEST(SumTo, ToAScalarShapeSumsEverything) {
  Tensor t = make_tensor({2, 3}, {1, 2, 3, 4, 5, 6});
  Tensor s = sum_to(t, {});
  EXPECT_EQ(s.dimension(), 0u);
  EXPECT_EQ(s.data()[0], 21);
}

TEST(SumTo, IncompatibleShapesThrowLogicErrorNamingBoth) {
  Tensor t = filled({2, 3}, 1);
  try {
    (void)sum_to(t, {4});
    FAIL() << "expected std::logic_error";
  } catch (const std::logic_error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("(2, 3)"), std::string::npos) << msg;
    EXPECT_NE(msg.find("(4)"), std::string::npos) << msg;
  }
  EXPECT_THROW((void)sum_to(t, {1, 2, 3}), std::logic_error);  // cannot grow rank
}

// --- accumulate_grad ----------------------------------------------------------------------

TEST(AccumulateGrad, FirstContributionIsStoredLaterOnesAdded) {
  Node n;
  n.value = filled({2}, 0);
  n.requires_grad = true;
  accumulate_grad(n, make_tensor({2}, {1, 2}), "test");
  EXPECT_TRUE(n.has_grad);
  accumulate_grad(n, make_tensor({2}, {10, 20}), "test");
  expect_values(n.grad, {2}, {11, 22});
}

TEST(AccumulateGrad, BroadcastContributionIsReducedToTheTargetShape) {
  Node n;
  n.value = filled({1, 3}, 0);
  n.requires_grad = true;
  accumulate_grad(n, make_tensor({2, 3}, {1, 2, 3, 4, 5, 6}), "test");
  expect_values(n.grad, {1, 3}, {5, 7, 9});
}

TEST(AccumulateGrad, NodeThatNeedsNoGradientIsLeftAlone) {
  Node n;
  n.value = filled({2}, 0);
  accumulate_grad(n, make_tensor({2}, {1, 2}), "test");
  EXPECT_FALSE(n.has_grad);
}

TEST(AccumulateGrad, ImpossibleShapeThrowsLogicErrorNamingTheOpAndShapes) {
  Node n;
  n.value = filled({2, 2}, 0);
  n.requires_grad = true;
  try {
    accumulate_grad(n, filled({3}, 1), "my_op");
    FAIL() << "expected std::logic_error";
  } catch (const std::logic_error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("my_op"), std::string::npos) << msg;
    EXPECT_NE(msg.find("(3)"), std::string::npos) << msg;
    EXPECT_NE(msg.find("(2, 2)"), std::string::npos) << msg;
  }
  EXPECT_FALSE(n.has_grad);
}

TEST(AccumulateGrad, RestartsAfterHasGradIsCleared) {
  Node n;
  n.value = filled({2}, 0);
  n.requires_grad = true;
  accumulate_grad(n, make_tensor({2}, {1, 2}), "test");
  n.has_grad = false;  // what zero_grad does
  accumulate_grad(n, make_tensor({2}, {5, 6}), "test");
  expect_values(n.grad, {2}, {5, 6});
}

// --- leaves and recording -----------------------------------------------------------------

TEST(Node, OpResultRecordsParentsOpNameAndClosure) {
  Variable w = Variable::parameter(filled({2}, 1));
  Variable c(filled({2}, 2));
  Variable y = w * c;
  const Node& n = *y.node();
  EXPECT_STREQ(n.op, "mul");
  ASSERT_EQ(n.parents.size(), 2u);
  EXPECT_EQ(n.parents[0].get(), w.node().get());
  EXPECT_EQ(n.parents[1].get(), c.node().get());
  EXPECT_TRUE(static_cast<bool>(n.backward_fn));
  EXPECT_FALSE(n.is_leaf());
  EXPECT_TRUE(w.node()->is_leaf());
}

TEST(Node, OpOnConstantsOnlyRecordsNothing) {
  Variable a(filled({2}, 1));
  Variable b(filled({2}, 2));
  Variable y = a * b;
  EXPECT_FALSE(y.requires_grad());
  EXPECT_TRUE(y.node()->parents.empty());
  EXPECT_FALSE(static_cast<bool>(y.node()->backward_fn));
}

TEST(Node, BackwardWithoutRetainReleasesClosuresAndParents) {
  Variable w = Variable::parameter(filled({2}, 1));
  Variable h = w * 3.0;
  Variable y = sum(h);
  y.backward();
  for (const Variable& v : {h, y}) {
    EXPECT_TRUE(v.node()->released);
    EXPECT_TRUE(v.node()->parents.empty());
    EXPECT_FALSE(static_cast<bool>(v.node()->backward_fn));
    EXPECT_FALSE(v.node()->is_leaf());
  }
  EXPECT_FALSE(w.node()->released);
}

// --- lifetime -----------------------------------------------------------------------------

TEST(NodeLifetime, InteriorNodeIsFreedAfterBackwardAndScopeExit) {
  Variable x = Variable::parameter(filled({3}, 2));
  std::weak_ptr<Node> interior;
  {
    Variable h = x * 2.0;
    interior = h.node();
    Variable y = sum(h * h);
    y.backward();
    EXPECT_FALSE(interior.expired());  // h still holds it
  }
  EXPECT_TRUE(interior.expired());
  EXPECT_EQ(x.node().use_count(), 1);
}

TEST(NodeLifetime, BackwardReleasesTheGraphWhileTheOutputIsStillAlive) {
  Variable x = Variable::parameter(filled({3}, 2));
  std::weak_ptr<Node> interior;
  Variable y;
  {
    Variable h = x * 2.0;
    interior = h.node();
    y = sum(exp(h) * h);
  }
  EXPECT_FALSE(interior.expired());  // the graph behind y holds it
  y.backward();
  EXPECT_TRUE(interior.expired());   // released by backward though y lives on
  EXPECT_EQ(x.node().use_count(), 1);
}

TEST(NodeLifetime, RetainedGraphIsFreedWhenTheOutputGoesOutOfScope) {
  Variable x = Variable::parameter(filled({3}, 2));
  std::weak_ptr<Node> interior;
  {
    Variable y;
    {
      Variable h = x * 2.0;
      interior = h.node();
      y = sum(h * h);
    }
    BackwardOptions retain;
    retain.retain_graph = true;
    y.backward(retain);
    EXPECT_FALSE(interior.expired());
  }
  EXPECT_TRUE(interior.expired());
}

TEST(NodeLifetime, GraphDroppedWithoutBackwardFreesEveryNode) {
  // Exercises many ops' closures: none may own its node (that would be a cycle).
  Variable x(filled({4, 3}, 0.5));  // constant batch
  Variable w1 = Variable::parameter(filled({5, 3}, 0.1), "fc1.weight");
  Variable b1 = Variable::parameter(filled({5}, 0), "fc1.bias");
  Variable w2 = Variable::parameter(filled({5, 2}, 0.2), "fc2.weight");
  Variable target(make_tensor({4, 2}, {1, 0, 0, 1, 1, 0, 0, 1}));
  std::vector<std::weak_ptr<Node>> nodes;
  {
    Variable h = sigmoid(linear(x, w1, b1));
    Variable z = matmul(tanh(relu(h) + h), w2);
    Variable loss = cross_entropy(z, target) + cross_entropy(z, std::vector<std::size_t>{0, 1, 0, 1}) +
                    mse(softmax(z), target) + mean(log_softmax(z)) + l1(w1) + squared_l2(w2) +
                    sum(sum(sqrt(exp(z) + 1.0), 0)) + mean(mean(abs(pow(square(z), 1.5)), 1, true)) +
                    sum(log(exp(transpose(reshape(z, {2, 4}))) / 2.0)) + sum(affine(-z, 2.0, 1.0) - 1.0);
    nodes = all_nodes(loss);
    EXPECT_GT(nodes.size(), 30u);
  }
  // Leaves and constants held by this test stay; every other node is gone.
  const std::size_t held = 5;
  EXPECT_EQ(live_count(nodes), held);
  EXPECT_EQ(w1.node().use_count(), 1);
  EXPECT_EQ(b1.node().use_count(), 1);
  EXPECT_EQ(w2.node().use_count(), 1);
}

TEST(NodeLifetime, GraphFreedAfterBackwardOfAManyOpLoss) {
  Variable x(filled({4, 3}, 0.5));
  Variable w1 = Variable::parameter(filled({5, 3}, 0.1));
  Variable b1 = Variable::parameter(filled({1, 5}, 0));
  Variable w2 = Variable::parameter(filled({5, 2}, 0.2));
  std::vector<std::weak_ptr<Node>> nodes;
  {
    Variable z = matmul(sigmoid(linear(x, w1, b1)), w2);
    Variable loss = cross_entropy(z, std::vector<std::size_t>{0, 1, 1, 0}) + l1(w1);
    nodes = all_nodes(loss);
    loss.backward();
  }
  EXPECT_EQ(live_count(nodes), 4u);  // x, w1, b1, w2
  EXPECT_TRUE(w1.has_grad() && b1.has_grad() && w2.has_grad());
  EXPECT_FALSE(x.has_grad());
}

TEST(NodeLifetime, ValueUsedTwiceByOneNodeIsFreed) {
  Variable x = Variable::parameter(filled({2}, 3));
  std::weak_ptr<Node> interior;
  {
    Variable h = exp(x);
    interior = h.node();
    Variable y = h * h;  // h appears twice among y's parents
  }
  EXPECT_TRUE(interior.expired());
}

TEST(NodeLifetime, UnreleasedChainOfOneHundredThousandNodesIsDestroyedIteratively) {
  Variable x = Variable::parameter(filled({2}, 1));
  std::weak_ptr<Node> first, middle;
  {
    Variable y = x * 1.0000001;
    first = y.node();
    for (int i = 0; i < 100000; ++i) {
      y = y * 1.0000001;
      if (i == 50000) middle = y.node();
    }
    EXPECT_FALSE(first.expired());
  }  // ~Node of the head frees the rest through a worklist
  EXPECT_TRUE(first.expired());
  EXPECT_TRUE(middle.expired());
  EXPECT_EQ(x.node().use_count(), 1);
}

TEST(NodeLifetime, ChainWithABranchHeldElsewhereStopsAtTheHeldNode) {
  Variable x = Variable::parameter(filled({2}, 1));
  Variable kept;
  std::weak_ptr<Node> below;
  {
    Variable y = x + 0.0;
    below = y.node();
    for (int i = 0; i < 1000; ++i) {
      y = y + 0.0;
      if (i == 500) kept = y;
    }
  }
  EXPECT_FALSE(below.expired());  // an ancestor of `kept`
  ASSERT_TRUE(kept.defined());
  sum(kept).backward();
  EXPECT_EQ(x.grad().data()[0], 1);
  kept = Variable();
  EXPECT_TRUE(below.expired());
}

}  // namespace
}  // namespace xtgrad_test
