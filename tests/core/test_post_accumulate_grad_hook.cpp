// Variable::register_post_accumulate_grad_hook: the engine says when a leaf's gradient is
// final for a backward pass (what data-parallel training overlaps its allreduce with).
#include <gtest/gtest.h>

#include <stdexcept>
#include <vector>

#include "test_util.hpp"
#include "xtgrad/core/core.hpp"
#include "xtgrad/ops/ops.hpp"

namespace xtgrad_test {

using namespace xtgrad;  // the names under test; Scalar, Tensor, Variable, ... are this program's (test_util.hpp)

namespace {

using xtgrad_test::expect_values;
using xtgrad_test::make_tensor;

// Records each call: which leaf, and its gradient at that moment.
struct Recorder {
  std::vector<std::string> names;
  std::vector<Tensor> grads;
  PostAccumulateGradHook hook() {
    return [this](const Variable& leaf) {
      names.push_back(leaf.name());
      grads.push_back(leaf.grad());
    };
  }
};

TEST(PostAccumulateGradHook, FiresOncePerLeafPerBackwardAfterItsLastContribution) {
  // W is used twice: y = Σ (x·W) + Σ W⊙W, so dy/dW = xᵀ·1 + 2W, the sum of both uses.
  Variable w = Variable::parameter(make_tensor({2, 2}, {1, 2, 3, 4}), "w");
  Variable b = Variable::parameter(make_tensor({2}, {0.5, -0.5}), "b");
  Variable x(make_tensor({1, 2}, {10, 20}));
  Recorder rec;
  w.register_post_accumulate_grad_hook(rec.hook());
  b.register_post_accumulate_grad_hook(rec.hook());
  for (int pass = 1; pass <= 2; ++pass) {
    w.zero_grad();
    b.zero_grad();
    (sum(matmul(x, w) + b) + sum(w * w)).backward();
    ASSERT_EQ(rec.names.size(), 2u * pass) << "one call per leaf per backward";
    // Each leaf once per pass, holding its complete gradient when called.
    const std::size_t first = 2 * (pass - 1);
    const std::size_t iw = rec.names[first] == "w" ? first : first + 1;
    const std::size_t ib = iw == first ? first + 1 : first;
    EXPECT_EQ(rec.names[iw], "w");
    EXPECT_EQ(rec.names[ib], "b");
    // dW[i][j] = x[i] + 2W[i][j]: x = (10, 20)
    expect_values(rec.grads[iw], {2, 2}, {12, 14, 26, 28});
    expect_values(rec.grads[ib], {2}, {1, 1});
    expect_values(w.grad(), {2, 2}, {12, 14, 26, 28});
  }
}

TEST(PostAccumulateGradHook, FiresWhileTheSweepGoesOnToEarlierLayers) {
  // h = x·W1, y = Σ h·W2: the sweep finishes W2 before it starts on W1, so W2's hook runs
  // before W1 has any gradient, and W1's after W2's.
  Variable w1 = Variable::parameter(make_tensor({2, 2}, {1, 0, 0, 1}), "w1");
  Variable w2 = Variable::parameter(make_tensor({2, 1}, {2, 3}), "w2");
  Variable x(make_tensor({1, 2}, {1, 1}));
  std::vector<std::string> order;
  bool w1_had_grad_when_w2_fired = true;
  w2.register_post_accumulate_grad_hook([&](const Variable&) {
    order.push_back("w2");
    w1_had_grad_when_w2_fired = w1.has_grad();
  });
  w1.register_post_accumulate_grad_hook([&](const Variable&) { order.push_back("w1"); });
  sum(matmul(matmul(x, w1), w2)).backward();
  EXPECT_EQ(order, (std::vector<std::string>{"w2", "w1"}));
  EXPECT_FALSE(w1_had_grad_when_w2_fired);
}

TEST(PostAccumulateGradHook, SeesTheGradientAccumulatedOverBackwardCalls) {
  // Without zero_grad the second pass adds to the first: the hook sees the running total.
  Variable w = Variable::parameter(make_tensor({2}, {1, 2}), "w");
  Recorder rec;
  w.register_post_accumulate_grad_hook(rec.hook());
  sum(w * 3.0).backward();
  sum(w * 3.0).backward();
  ASSERT_EQ(rec.grads.size(), 2u);
  expect_values(rec.grads[0], {2}, {3, 3});
  expect_values(rec.grads[1], {2}, {6, 6});
}

TEST(PostAccumulateGradHook, FiresAgainOnARetainedGraph) {
  Variable w = Variable::parameter(make_tensor({1}, {2}), "w");
  int calls = 0;
  w.register_post_accumulate_grad_hook([&](const Variable&) { ++calls; });
  Variable y = sum(w * w);
  y.backward(BackwardOptions{true});
  y.backward();
  EXPECT_EQ(calls, 2);
}

TEST(PostAccumulateGradHook, DoesNotFireForALeafTheOutputDoesNotDependOn) {
  Variable used = Variable::parameter(make_tensor({1}, {1}), "used");
  Variable unused = Variable::parameter(make_tensor({1}, {1}), "unused");
  int calls = 0;
  unused.register_post_accumulate_grad_hook([&](const Variable&) { ++calls; });
  sum(used * 2.0).backward();
  EXPECT_EQ(calls, 0);
  EXPECT_FALSE(unused.has_grad());
}

TEST(PostAccumulateGradHook, RemovedHookNoLongerFires) {
  Variable w = Variable::parameter(make_tensor({1}, {1}), "w");
  int kept = 0, removed = 0;
  w.register_post_accumulate_grad_hook([&](const Variable&) { ++kept; });
  HookHandle handle = w.register_post_accumulate_grad_hook([&](const Variable&) { ++removed; });
  sum(w * 2.0).backward();
  handle.remove();
  handle.remove();  // a second remove does nothing
  sum(w * 2.0).backward();
  EXPECT_EQ(kept, 2);
  EXPECT_EQ(removed, 1);
}

TEST(PostAccumulateGradHook, AHookMayRemoveItselfAndALaterOneWhileFiring) {
  Variable w = Variable::parameter(make_tensor({1}, {1}), "w");
  int first = 0, second = 0;
  HookHandle first_handle, second_handle;
  first_handle = w.register_post_accumulate_grad_hook([&](const Variable&) {
    ++first;
    first_handle.remove();
    second_handle.remove();  // not run even in this same sweep
  });
  second_handle = w.register_post_accumulate_grad_hook([&](const Variable&) { ++second; });
  sum(w * 2.0).backward();
  sum(w * 2.0).backward();
  EXPECT_EQ(first, 1);
  EXPECT_EQ(second, 0);
}

TEST(PostAccumulateGradHook, RemoveAfterTheVariableIsGoneDoesNothing) {
  HookHandle handle;
  {
    Variable w = Variable::parameter(make_tensor({1}, {1}), "w");
    handle = w.register_post_accumulate_grad_hook([](const Variable&) {});
  }
  handle.remove();
  HookHandle().remove();
  SUCCEED();
}

TEST(PostAccumulateGradHook, OnlyLeavesThatRequireGradTakeOne) {
  Variable w = Variable::parameter(make_tensor({1}, {1}), "w");
  Variable y = w * 2.0;
  Variable constant(make_tensor({1}, {1}));
  auto noop = [](const Variable&) {};
  xtgrad_test::expect_throws_with<std::logic_error>([&] { y.register_post_accumulate_grad_hook(noop); },
                                                    {"only a leaf", "mul"});
  xtgrad_test::expect_throws_with<std::logic_error>([&] { constant.register_post_accumulate_grad_hook(noop); },
                                                    {"does not require grad"});
  EXPECT_THROW(w.register_post_accumulate_grad_hook(PostAccumulateGradHook{}), std::invalid_argument);
}

TEST(PostAccumulateGradHook, AnExceptionFromAHookLeavesBackward) {
  Variable w = Variable::parameter(make_tensor({1}, {1}), "w");
  w.register_post_accumulate_grad_hook([](const Variable&) { throw std::runtime_error("hook failed"); });
  EXPECT_THROW(sum(w * 2.0).backward(), std::runtime_error);
  // The engine is usable afterwards.
  Variable v = Variable::parameter(make_tensor({1}, {1}), "v");
  sum(v * 2.0).backward();
  expect_values(v.grad(), {1}, {2});
}

}  // namespace
}  // namespace xtgrad_test
