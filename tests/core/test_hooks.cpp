// Gradient hooks (inspect, replace) and retain_grad() for interior values.
#include <gtest/gtest.h>

#include <vector>

#include "test_util.hpp"

namespace xtgrad_test {

using namespace xtgrad;  // the names under test; Scalar, Tensor, Variable, ... are this program's (test_util.hpp)

namespace {

using xtgrad_test::expect_throws_with;
using xtgrad_test::expect_values;
using xtgrad_test::make_tensor;

TEST(Hooks, SeeTheCompleteGradientOfAnInteriorValue) {
  Variable x = Variable::parameter(make_tensor({2}, {1, 2}));
  Variable h = x * 3.0;
  std::vector<Tensor> seen;
  h.register_hook([&seen](const Variable& g) {
    seen.push_back(g.value());
    return Variable();
  });
  sum(h * h + h).backward();  // two uses of h: the hook sees their sum once, 2h + 1
  ASSERT_EQ(seen.size(), 1u);
  expect_values(seen[0], {2}, {7, 13});
  expect_values(x.grad(), {2}, {21, 39});
}

TEST(Hooks, ReplaceTheGradientPassedOn) {
  Variable x = Variable::parameter(make_tensor({2}, {1, 2}));
  Variable h = x * 3.0;
  h.register_hook([](const Variable& g) { return g * 0.5; });
  h.register_hook([](const Variable& g) { return g + 1.0; });  // runs second, on the halved one
  sum(h * 2.0).backward();  // dh = 2 → 1 → 2; dx = 3·2
  expect_values(x.grad(), {2}, {6, 6});
}

TEST(Hooks, OnALeafSeeItsGradient) {
  Variable x = Variable::parameter(make_tensor({2}, {1, 2}));
  x.register_hook([](const Variable& g) { return g * 10.0; });
  sum(x * x).backward();
  expect_values(x.grad(), {2}, {20, 40});
}

TEST(Hooks, RunInACreateGraphPassOnGradientsWithHistory) {
  Variable x = Variable::parameter(make_tensor({1}, {2}));
  Variable h = x * x;
  bool had_history = false;
  h.register_hook([&had_history](const Variable& g) {
    had_history = g.requires_grad();
    return g * 2.0;
  });
  const Variable y = sum(h * h);  // dy/dh = 2h, doubled by the hook: dx = 4h·2x = 8x³ = 64
  const Variable g = grad({y}, {x}, {.create_graph = true})[0];
  EXPECT_TRUE(had_history);
  expect_values(g.value(), {1}, {64});
  // g = 2·(2h)·2x = 8hx. Its derivative: 8h directly, plus 8x through h, where the hook fires
  // again (as in PyTorch) and doubles it: 8h + 2·8x·2x = 32 + 128.
  expect_values(grad({sum(g)}, {x})[0].value(), {1}, {160});
}

TEST(Hooks, AWrongShapeIsAnError) {
  Variable x = Variable::parameter(make_tensor({2}, {1, 2}));
  Variable h = x * 3.0;
  h.register_hook([](const Variable&) { return Variable(make_tensor({3}, {1, 2, 3})); });
  expect_throws_with<std::invalid_argument>([&] { sum(h).backward(); }, {"hook", "(2)", "(3)"});
}

TEST(Hooks, NeedAValueThatRequiresGrad) {
  Variable c(make_tensor({1}, {1}));
  expect_throws_with<std::logic_error>([&] { c.register_hook([](const Variable&) { return Variable(); }); },
                                       {"register_hook", "does not require grad"});
}

// issue 22 §3.5: register_hook returns a handle whose remove() unregisters the hook.
TEST(Hooks, TheHandleRemovesTheHook) {
  Variable x = Variable::parameter(make_tensor({2}, {1, 2}));
  Variable h = x * 3.0;
  int calls = 0;
  HookHandle handle = h.register_hook([&calls](const Variable& g) {
    ++calls;
    return g * 2.0;
  });
  sum(h).backward(BackwardOptions().set_retain_graph(true));
  EXPECT_EQ(calls, 1);
  expect_values(x.grad(), {2}, {6, 6});  // doubled by the hook
  handle.remove();
  handle.remove();  // a second remove does nothing
  x.zero_grad();
  sum(h).backward();
  EXPECT_EQ(calls, 1);
  expect_values(x.grad(), {2}, {3, 3});
}

TEST(Hooks, AHookMayRemoveItselfWhileHooksFire) {
  Variable x = Variable::parameter(make_tensor({1}, {1}));
  Variable h = x * 1.0;
  int first = 0, second = 0;
  HookHandle self;
  self = h.register_hook([&](const Variable&) {
    ++first;
    self.remove();
    return Variable();
  });
  h.register_hook([&second](const Variable&) {
    ++second;
    return Variable();
  });
  sum(h).backward(BackwardOptions().set_retain_graph(true));
  sum(h).backward();
  EXPECT_EQ(first, 1);
  EXPECT_EQ(second, 2);
}

// Hooks fire inside grad() too (documented in docs/autograd.md; libtorch 1.13 did not run them there).
TEST(Hooks, FireInsideGrad) {
  Variable x = Variable::parameter(make_tensor({2}, {1, 2}));
  Variable h = x * 3.0;
  int calls = 0;
  h.register_hook([&calls](const Variable& g) {
    ++calls;
    return g * 0.5;
  });
  int leaf_calls = 0;  // a leaf's hook too (libtorch 1.13 ran only interior ones in grad())
  x.register_hook([&leaf_calls](const Variable&) {
    ++leaf_calls;
    return Variable();
  });
  const Variable g = grad({sum(h)}, {x})[0];
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(leaf_calls, 1);
  expect_values(g.value(), {2}, {1.5, 1.5});
  EXPECT_FALSE(x.has_grad());  // grad() leaves .grad alone
}

TEST(RetainGrad, KeepsAnInteriorGradientAcrossPassesUntilZeroGrad) {
  Variable x = Variable::parameter(make_tensor({2}, {1, 2}));
  Variable h = x * 3.0;
  h.retain_grad();
  EXPECT_FALSE(h.has_grad());
  const Variable y = sum(h * h);
  y.backward({.retain_graph = true});
  ASSERT_TRUE(h.has_grad());
  expect_values(h.grad(), {2}, {6, 12});
  y.backward();
  expect_values(h.grad(), {2}, {12, 24});   // accumulated, like a leaf
  expect_values(x.grad(), {2}, {36, 72});   // and what was passed on is not doubled twice
  h.zero_grad();
  EXPECT_FALSE(h.has_grad());
}

TEST(RetainGrad, WithoutItAnInteriorValueHasNoGradient) {
  Variable x = Variable::parameter(make_tensor({2}, {1, 2}));
  Variable h = x * 3.0;
  sum(h).backward();
  EXPECT_FALSE(h.has_grad());
  expect_throws_with<std::logic_error>([&] { (void)h.grad(); }, {"retain_grad"});
}

TEST(RetainGrad, KeepsHistoryInACreateGraphPass) {
  Variable x = Variable::parameter(make_tensor({1}, {2}));
  Variable h = x * x;
  h.retain_grad();
  sum(h * h).backward({.create_graph = true});  // dh = 2h = 2x²
  expect_values(h.grad(), {1}, {8});
  expect_values(grad({sum(h.grad_variable())}, {x})[0].value(), {1}, {8});  // 4x
  x.zero_grad();
  h.zero_grad();
}

}  // namespace
}  // namespace xtgrad_test
