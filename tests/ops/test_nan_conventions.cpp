// What the ops give for NaN inputs, value and gradient, as docs/ops.md lists them (with where
// PyTorch 1.13 differs). A change here is a change of documented behaviour.
#include <cmath>
#include <functional>
#include <limits>

#include "test_util.hpp"

namespace xtgrad_test {
namespace {

const double kNaN = std::numeric_limits<double>::quiet_NaN();

// f at (NaN, 1, −1): the value at the NaN and d Σf / dx there.
struct AtNaN {
  double value, grad;
};
AtNaN at_nan(const std::function<Variable(const Variable&)>& f) {
  Variable x = Variable::parameter(Tensor{kNaN, 1.0, -1.0});
  const Variable y = f(x);
  xtgrad::sum(y).backward();
  return {y.dim() == 0 ? y.item() : y.value()(0), x.grad()(0)};
}

TEST(NaNConventions, ElementwiseOpsKeepNaNValues) {
  for (auto f : std::vector<std::function<Variable(const Variable&)>>{
           [](const Variable& x) { return xtgrad::relu(x); }, [](const Variable& x) { return xtgrad::abs(x); },
           [](const Variable& x) { return xtgrad::clamp(x, -0.5, 0.5); },
           [](const Variable& x) { return xtgrad::hardtanh(x); },
           [](const Variable& x) { return xtgrad::leaky_relu(x); }, [](const Variable& x) { return xtgrad::elu(x); },
           [](const Variable& x) { return xtgrad::sigmoid(x); },
           [](const Variable& x) {
             return xtgrad::maximum(x, Variable(Tensor{0.0, 0.0, 0.0}));
           }}) {
    EXPECT_TRUE(std::isnan(at_nan(f).value));
  }
}

TEST(NaNConventions, GradientsAtNaN) {
  // the same as PyTorch
  EXPECT_EQ(at_nan([](const Variable& x) { return xtgrad::clamp(x, -0.5, 0.5); }).grad, 0.0);
  EXPECT_EQ(at_nan([](const Variable& x) { return xtgrad::leaky_relu(x, 0.1); }).grad, 0.1);
  EXPECT_EQ(at_nan([](const Variable& x) { return xtgrad::max(x, 0); }).grad, 1.0);  // the NaN is "the max"
  EXPECT_EQ(at_nan([](const Variable& x) { return xtgrad::l1_loss(x, Variable(Tensor{0.0, 0.0, 0.0})); }).grad, 0.0);
  // different from PyTorch (which gives 0, 1, 1, 1, 1, NaN, 1)
  EXPECT_TRUE(std::isnan(at_nan([](const Variable& x) { return xtgrad::abs(x); }).grad));
  EXPECT_EQ(at_nan([](const Variable& x) { return xtgrad::relu(x); }).grad, 0.0);
  EXPECT_EQ(at_nan([](const Variable& x) { return xtgrad::hardtanh(x); }).grad, 0.0);
  EXPECT_TRUE(std::isnan(at_nan([](const Variable& x) { return xtgrad::elu(x); }).grad));
  EXPECT_EQ(at_nan([](const Variable& x) { return xtgrad::max(x); }).grad, 0.0);
  EXPECT_EQ(at_nan([](const Variable& x) { return xtgrad::amax(x, {0}); }).grad, 0.0);
  EXPECT_EQ(at_nan([](const Variable& x) { return xtgrad::maximum(x, Variable(Tensor{0.0, 0.0, 0.0})); }).grad, 0.0);
}

TEST(NaNConventions, SignOfNaNIsNaN) {
  // PyTorch 1.13 gives sign(NaN) = 0
  EXPECT_TRUE(std::isnan(xtgrad::sign(Variable(Tensor{kNaN})).value()(0)));
}

}  // namespace
}  // namespace xtgrad_test
