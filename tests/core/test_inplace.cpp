// In-place safety: changing a value that backward needs, between forward and backward, is an
// error naming the op and the tensor (PyTorch's saved-tensor version check).
#include <gtest/gtest.h>

#include "test_util.hpp"

namespace xtgrad_test {

using namespace xtgrad;  // the names under test; Scalar, Tensor, Variable, ... are this program's (test_util.hpp)

namespace {

using xtgrad_test::expect_throws_with;
using xtgrad_test::expect_values;
using xtgrad_test::make_tensor;

TEST(InPlace, MutableValueBumpsTheVersion) {
  Variable x = Variable::parameter(make_tensor({2}, {1, 2}));
  EXPECT_EQ(x.version(), 0u);
  x.mutable_value() *= 3;
  EXPECT_EQ(x.version(), 1u);
}

// The example: y = Σx², x tripled, backward would give (6, 12) instead of (2, 4).
TEST(InPlace, ChangingAnInputThatBackwardNeedsThrows) {
  Variable x = Variable::parameter(make_tensor({2}, {1, 2}));
  x.set_name("x");
  const Variable y = sum(x * x);
  x.mutable_value() *= 3;
  expect_throws_with<std::logic_error>([&] { y.backward(); }, {"mul", "input 0", "'x'", "(2)", "modified in place",
                                                               "version 1", "version 0"});
}

TEST(InPlace, ChangingAnOutputThatBackwardNeedsThrows) {
  Variable x = Variable::parameter(make_tensor({2}, {1, 2}));
  Variable e = exp(x);
  const Variable y = sum(e);
  e.mutable_value() *= 2;
  expect_throws_with<std::logic_error>([&] { y.backward(); }, {"exp", "its output", "modified in place"});
}

TEST(InPlace, ChangingAnInputThatBackwardDoesNotNeedIsFine) {
  Variable x = Variable::parameter(make_tensor({2}, {1, 2}));
  Variable c(make_tensor({2}, {5, 5}));
  const Variable y = sum(x + c);
  c.mutable_value() *= 3;
  y.backward();
  expect_values(x.grad(), {2}, {1, 1});
}

TEST(InPlace, ARecordedGraphAfterTheChangeIsFine) {
  Variable x = Variable::parameter(make_tensor({2}, {1, 2}));
  x.mutable_value() *= 3;
  sum(x * x).backward();
  expect_values(x.grad(), {2}, {6, 12});
}

TEST(InPlace, ChecksMatmulAndCrossEntropyInputsToo) {
  Variable w = Variable::parameter(make_tensor({2, 2}, {1, 2, 3, 4}));
  Variable x(make_tensor({1, 2}, {1, 1}));
  const Variable loss = cross_entropy(matmul(x, w), std::vector<std::size_t>{1});
  x.mutable_value() *= 2;  // the data batch changed before backward: dW would be wrong
  expect_throws_with<std::logic_error>([&] { loss.backward(); }, {"matmul", "input 0"});
}

}  // namespace
}  // namespace xtgrad_test
