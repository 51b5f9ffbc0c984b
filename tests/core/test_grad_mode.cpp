// NoGrad: ops record nothing while it lives; it nests, restores the mode, and is per thread.
#include <gtest/gtest.h>

#include <algorithm>
#include <future>
#include <stdexcept>
#include <thread>

#include "test_util.hpp"
#include "xtgrad/core/core.hpp"
#include "xtgrad/ops/ops.hpp"

namespace xtgrad_test {

using namespace xtgrad;  // the names under test; Scalar, Tensor, Variable, ... are this program's (test_util.hpp)

namespace {

using xtgrad_test::filled;

TEST(GradMode, EnabledByDefault) { EXPECT_TRUE(is_grad_enabled()); }

TEST(GradMode, UnderNoGradOpsRecordNothingButStillComputeValues) {
  Variable w = Variable::parameter(filled({2, 2}, 3));
  Variable x(filled({3, 2}, 1));
  {
    NoGrad no_grad;
    EXPECT_FALSE(is_grad_enabled());
    for (const Variable& y : {w * 2.0, w + w, exp(w), sigmoid(matmul(x, w)), sum(w)}) {
      EXPECT_FALSE(y.requires_grad()) << y.op();
      EXPECT_TRUE(y.node()->parents.empty()) << y.op();
      EXPECT_FALSE(static_cast<bool>(y.node()->backward_fn)) << y.op();
    }
    Variable y = w * 2.0;
    EXPECT_EQ(y.value().data()[0], 6);
    EXPECT_EQ(sum(w).item(), 12);
    EXPECT_EQ(w.node().use_count(), 1);  // nothing holds the parameter
  }
  EXPECT_TRUE(is_grad_enabled());
}

TEST(GradMode, OutputComputedUnderNoGradCannotBackward) {
  Variable w = Variable::parameter(filled({2}, 1));
  Variable loss;
  {
    NoGrad no_grad;
    loss = sum(w * w);
  }
  EXPECT_THROW(loss.backward(), std::invalid_argument);
  EXPECT_FALSE(w.has_grad());
}

TEST(GradMode, RecordingResumesAfterTheGuardEnds) {
  Variable w = Variable::parameter(filled({2}, 1));
  { NoGrad no_grad; }
  Variable y = w * 2.0;
  EXPECT_TRUE(y.requires_grad());
  EXPECT_EQ(y.node()->parents.size(), 1u);
}

TEST(GradMode, ManualParameterUpdateUnderNoGradLeavesTheParameterALeaf) {
  Variable w = Variable::parameter(filled({2}, 1));
  sum(w * w).backward();  // grad 2w = 2
  {
    NoGrad no_grad;
    Variable updated = w - Variable(w.grad()) * 0.5;
    w.mutable_value() = updated.value();
  }
  EXPECT_EQ(w.value().data()[0], 0);
  EXPECT_TRUE(w.node()->is_leaf());
  EXPECT_TRUE(w.requires_grad());
}

TEST(GradMode, NestingRestoresThePreviousMode) {
  EXPECT_TRUE(is_grad_enabled());
  {
    NoGrad outer;
    EXPECT_FALSE(is_grad_enabled());
    {
      NoGrad inner;
      EXPECT_FALSE(is_grad_enabled());
    }
    EXPECT_FALSE(is_grad_enabled());  // the inner guard restores "off", not "on"
  }
  EXPECT_TRUE(is_grad_enabled());
}

TEST(GradMode, GuardIsRestoredWhenAnExceptionUnwinds) {
  try {
    NoGrad no_grad;
    throw std::runtime_error("boom");
  } catch (const std::runtime_error&) {
  }
  EXPECT_TRUE(is_grad_enabled());
}

TEST(GradMode, NoGradOnOneThreadDoesNotAffectAnother) {
  Variable w = Variable::parameter(filled({2}, 1));
  NoGrad here;  // this thread: off
  ASSERT_FALSE(is_grad_enabled());
  bool other_enabled = false, other_records = false;
  std::thread t([&] {
    other_enabled = is_grad_enabled();
    Variable y = w * 2.0;  // only reads w's node: safe alongside the idle main thread
    other_records = y.requires_grad() && y.node()->parents.size() == 1;
  });
  t.join();
  EXPECT_TRUE(other_enabled);
  EXPECT_TRUE(other_records);
  EXPECT_FALSE(is_grad_enabled());
}

TEST(GradMode, NoGradAliveOnAnotherThreadLeavesThisOneRecording) {
  std::promise<void> guard_up, may_finish;
  std::future<void> guard_up_f = guard_up.get_future();
  std::shared_future<void> may_finish_f = may_finish.get_future().share();
  bool off_there = true;
  std::thread t([&] {
    NoGrad no_grad;
    off_there = !is_grad_enabled();
    guard_up.set_value();
    may_finish_f.wait();  // the guard stays alive while the main thread checks
  });
  guard_up_f.wait();
  EXPECT_TRUE(is_grad_enabled());
  Variable w = Variable::parameter(filled({2}, 1));
  EXPECT_TRUE((w * 2.0).requires_grad());
  may_finish.set_value();
  t.join();
  EXPECT_TRUE(off_there);
  EXPECT_TRUE(is_grad_enabled());
}

}  // namespace
}  // namespace xtgrad_test
