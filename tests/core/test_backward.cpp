// backward(): accumulation over shared uses, seeds, retain_graph, accumulation across calls,
// detach, constants, and a 100,000-node chain.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>
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
using xtgrad_test::message_of;

TEST(Backward, ValueUsedTwiceInMulAccumulatesTwoX) {
  Variable x = Variable::parameter(make_tensor({3}, {1, -2, 3}));
  sum(x * x).backward();
  expect_values(x.grad(), {3}, {2, -4, 6});
}

TEST(Backward, ValueUsedTwiceInAddGivesTwo) {
  Variable x = Variable::parameter(make_tensor({2, 2}, {1, 2, 3, 4}));
  sum(x + x).backward();
  expect_values(x.grad(), {2, 2}, {2, 2, 2, 2});
}

TEST(Backward, DiamondSumsBothPaths) {
  // b = 3a, c = a², d = b·c = 3a³: dd/da = c·3 + b·2a = 12 + 24 = 36 at a = 2.
  Variable a = Variable::parameter(make_tensor({1}, {2}));
  Variable b = a * 3.0;
  Variable c = a * a;
  Variable d = b * c;
  d.backward();
  expect_values(a.grad(), {1}, {36});
}

TEST(Backward, DiamondWithUnequalPathsAndVectorValues) {
  // d = exp-free diamond: b = a + 1, c = 2a, d = Σ b⊙c = Σ 2a² + 2a: dd/da = 4a + 2.
  Variable a = Variable::parameter(make_tensor({3}, {0, 1, -3}));
  Variable b = a + 1.0;
  Variable c = 2.0 * a;
  sum(b * c).backward();
  expect_values(a.grad(), {3}, {2, 6, -10});
}

TEST(Backward, SharedInteriorNodeIsPropagatedOncePerNodeInOrder) {
  // h = 2x is used by three consumers: y = Σ(h + h + h·h) → dy/dh = 2 + 2h → dy/dx = 2·(2 + 4x).
  Variable x = Variable::parameter(make_tensor({2}, {1, -1}));
  Variable h = x * 2.0;
  sum(h + h + h * h).backward();
  expect_values(x.grad(), {2}, {12, -4});
}

TEST(Backward, ImplicitSeedOnAOneElementOutput) {
  Variable x = Variable::parameter(make_tensor({1, 1}, {5}));
  (x * 4.0).backward();  // shape (1, 1): one element, seed 1
  expect_values(x.grad(), {1, 1}, {4});
}

TEST(Backward, BackwardOnAParameterItselfSeedsOne) {
  Variable p = Variable::parameter(make_tensor({1}, {7}));
  p.backward();
  expect_values(p.grad(), {1}, {1});
}

TEST(Backward, ImplicitSeedOnAManyElementOutputThrowsNamingTheShape) {
  Variable x = Variable::parameter(filled({2, 3}, 1));
  Variable y = x * 2.0;
  const std::string msg = message_of<std::invalid_argument>([&] { y.backward(); });
  EXPECT_NE(msg.find("(2, 3)"), std::string::npos) << msg;
  EXPECT_FALSE(x.has_grad());
}

TEST(Backward, ExplicitUpstreamGradientWithMatchingShape) {
  Variable x = Variable::parameter(filled({2, 3}, 1));
  Variable y = x * 2.0;
  y.backward(make_tensor({2, 3}, {1, 2, 3, 4, 5, 6}));
  expect_values(x.grad(), {2, 3}, {2, 4, 6, 8, 10, 12});
}

TEST(Backward, ExplicitUpstreamGradientWithMismatchedShapeThrowsNamingBothShapes) {
  Variable x = Variable::parameter(filled({2, 3}, 1));
  Variable y = x * 2.0;
  const std::string msg = message_of<std::invalid_argument>([&] { y.backward(filled({3, 2}, 1)); });
  EXPECT_NE(msg.find("(3, 2)"), std::string::npos) << msg;
  EXPECT_NE(msg.find("(2, 3)"), std::string::npos) << msg;
  // Same element count in another rank is also a mismatch.
  EXPECT_THROW(y.backward(filled({6}, 1)), std::invalid_argument);
  EXPECT_FALSE(x.has_grad());
  // The graph is intact: a correct call still works.
  y.backward(filled({2, 3}, 1));
  expect_values(x.grad(), {2, 3}, {2, 2, 2, 2, 2, 2});
}

TEST(Backward, GradientsAccumulateAcrossCallsUntilZeroGrad) {
  Variable x = Variable::parameter(make_tensor({2}, {1, 3}));
  sum(x * x).backward();
  sum(x * x).backward();
  expect_values(x.grad(), {2}, {4, 12});
  sum(x * 5.0).backward();
  expect_values(x.grad(), {2}, {9, 17});
  x.zero_grad();
  EXPECT_FALSE(x.has_grad());
  sum(x * x).backward();
  expect_values(x.grad(), {2}, {2, 6});
}

TEST(Backward, RetainGraphAllowsASecondBackwardAndGradsDouble) {
  Variable x = Variable::parameter(make_tensor({2}, {1, 3}));
  Variable y = sum(x * x);
  BackwardOptions retain;
  retain.retain_graph = true;
  y.backward(retain);
  expect_values(x.grad(), {2}, {2, 6});
  y.backward(retain);
  expect_values(x.grad(), {2}, {4, 12});
  y.backward();  // the last one may release
  expect_values(x.grad(), {2}, {6, 18});
  EXPECT_THROW(y.backward(), std::logic_error);
}

TEST(Backward, SecondBackwardWithoutRetainGraphThrowsLogicErrorMentioningRetainGraph) {
  Variable x = Variable::parameter(make_tensor({2}, {1, 3}));
  Variable y = sum(exp(x));
  y.backward();
  const Tensor first = x.grad();
  const std::string msg = message_of<std::logic_error>([&] { y.backward(); });
  EXPECT_NE(msg.find("retain_graph"), std::string::npos) << msg;
  // The failed call added nothing.
  for (std::size_t i = 0; i < 2; ++i) EXPECT_EQ(x.grad().data()[i], first.data()[i]);
}

TEST(Backward, OutputThatDoesNotRequireGradThrowsInvalidArgument) {
  Variable c(make_tensor({2}, {1, 2}));
  Variable y = sum(c * 2.0);
  EXPECT_FALSE(y.requires_grad());
  EXPECT_THROW(y.backward(), std::invalid_argument);
  Variable leaf = Variable::scalar(3);
  EXPECT_THROW(leaf.backward(), std::invalid_argument);
}

TEST(Backward, OnlyLeavesKeepGradients) {
  Variable x = Variable::parameter(make_tensor({2}, {1, 2}));
  Variable h = x * 2.0;
  Variable g = h * h;
  Variable y = sum(g);
  y.backward();
  EXPECT_TRUE(x.has_grad());
  EXPECT_FALSE(h.has_grad());
  EXPECT_FALSE(g.has_grad());
  EXPECT_FALSE(y.has_grad());
  expect_values(x.grad(), {2}, {8, 16});  // dy/dx = 2h·2 = 8x
}

TEST(Backward, OnlyLeavesKeepGradientsWithRetainGraph) {
  Variable x = Variable::parameter(make_tensor({2}, {1, 2}));
  Variable h = x * 2.0;
  Variable y = sum(h * h);
  BackwardOptions retain;
  retain.retain_graph = true;
  y.backward(retain);
  EXPECT_FALSE(h.has_grad());
  y.backward(retain);  // interior grads started clean, so x's doubles exactly
  expect_values(x.grad(), {2}, {16, 32});
}

TEST(Backward, DetachCutsTheGraph) {
  // y = (2x).detach() is a constant; z = y·x → dz/dx = y only, not y + 2x.
  Variable x = Variable::parameter(make_tensor({3}, {1, 2, -3}));
  Variable y = (x * 2.0).detach();
  EXPECT_FALSE(y.requires_grad());
  Variable z = y * x;
  z.backward(filled({3}, 1));
  expect_values(x.grad(), {3}, {2, 4, -6});
  EXPECT_FALSE(y.has_grad());
}

TEST(Backward, ConstantInputOfMatmulNeverGetsAGradient) {
  Variable x(make_tensor({2, 3}, {1, 2, 3, 4, 5, 6}));  // a data batch: constant
  Variable w = Variable::parameter(filled({3, 2}, 0.5));
  Variable y = matmul(x, w);
  ASSERT_TRUE(y.requires_grad());
  sum(y).backward();
  EXPECT_FALSE(x.has_grad());
  EXPECT_THROW((void)x.grad(), std::logic_error);
  // dW = xᵀ·1 : (3, 2), each row the column sum of x.
  expect_values(w.grad(), {3, 2}, {5, 5, 7, 7, 9, 9});
}

TEST(Backward, ConstantInputOfMulNeverGetsAGradient) {
  Variable c(make_tensor({2}, {3, 4}));
  Variable w = Variable::parameter(make_tensor({2}, {1, 1}));
  sum(c * w).backward();
  EXPECT_FALSE(c.has_grad());
  expect_values(w.grad(), {2}, {3, 4});
}

TEST(Backward, BroadcastGradientIsReducedToTheInputShape) {
  Variable x = Variable::parameter(filled({2, 3}, 1));
  Variable b = Variable::parameter(make_tensor({3}, {0, 0, 0}));
  Variable r = Variable::parameter(make_tensor({2, 1}, {0, 0}));
  sum(x + b + r).backward();
  expect_values(b.grad(), {3}, {2, 2, 2});
  expect_values(r.grad(), {2, 1}, {3, 3});
  expect_values(x.grad(), {2, 3}, {1, 1, 1, 1, 1, 1});
}

TEST(Backward, DeepChainOfOneHundredThousandMulsBuildsBackpropagatesAndFrees) {
  const int n = 100000;
  const double k = 1.0000001;
  Variable x = Variable::parameter(make_tensor({2}, {1, 2}));
  {
    Variable y = x;
    for (int i = 0; i < n; ++i) y = y * k;
    sum(y).backward();
  }  // the whole chain is dropped here
  // d(Σ kⁿx)/dx = kⁿ ≈ e^0.01, accumulated by n multiplications.
  const double expected = std::pow(k, n);
  for (std::size_t i = 0; i < 2; ++i) EXPECT_NEAR(x.grad().data()[i], expected, 1e-9 * expected);
  EXPECT_EQ(x.node().use_count(), 1);  // no node of the chain survives
}

TEST(Backward, DeepChainOfOneHundredThousandAddsWithRetainGraph) {
  Variable x = Variable::parameter(make_tensor({2}, {1, 2}));
  Variable y = x;
  for (int i = 0; i < 100000; ++i) y = y + 0.0;
  Variable loss = sum(y);
  BackwardOptions retain;
  retain.retain_graph = true;
  loss.backward(retain);
  expect_values(x.grad(), {2}, {1, 1});
  loss.backward();
  expect_values(x.grad(), {2}, {2, 2});
  // y and loss still hold the chain's head; it is freed when they go out of scope.
}

TEST(Backward, DeepChainDroppedWithoutBackwardIsFreedWithoutStackOverflow) {
  Variable x = Variable::parameter(make_tensor({2}, {1, 2}));
  {
    Variable y = x;
    for (int i = 0; i < 100000; ++i) y = y + 0.0;
  }
  EXPECT_FALSE(x.has_grad());
  EXPECT_EQ(x.node().use_count(), 1);  // no node of the chain survives
}

TEST(Backward, ErrorInsideABackwardClosurePropagates) {
  Variable x = Variable::parameter(make_tensor({2}, {1, 2}));
  Variable y = make_result("broken", Tensor(x.value()), {x}, [](Node& self) {
    self.add_to_parent(0, Tensor::from_shape({5}));  // cannot be reduced to (2)
  });
  const std::string msg = message_of<std::logic_error>([&] { y.backward(filled({2}, 1)); });
  EXPECT_NE(msg.find("broken"), std::string::npos) << msg;
  EXPECT_NE(msg.find("(5)"), std::string::npos) << msg;
  EXPECT_NE(msg.find("(2)"), std::string::npos) << msg;
}

}  // namespace
}  // namespace xtgrad_test
