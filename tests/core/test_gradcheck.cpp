// gradcheck: passes on correct ops, fails on a deliberately wrong backward and says where.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <type_traits>
#include <vector>

#include "xtgrad/core/core.hpp"
#include "xtgrad/ops/ops.hpp"
#include "test_util.hpp"

namespace xtgrad_test {

using namespace xtgrad;  // the names under test; Scalar, Tensor, Variable, ... are this program's (test_util.hpp)

namespace {

static_assert(std::is_same_v<Scalar, double>, "gradient checks run against the double library");

Tensor random_tensor(const Shape& shape, std::uint64_t seed) {
  Rng rng(seed);
  return randn<Scalar>(shape, rng);
}

// y = x ⊙ x with a backward that returns x ⊙ g (should be 2x ⊙ g).
Variable wrong_square(const Variable& x) {
  Tensor y = x.value();
  for (std::size_t i = 0; i < y.size(); ++i) y.data()[i] *= y.data()[i];
  return make_result("wrong_square", std::move(y), {x}, [](Node& self) {
    Tensor dx = self.grad;
    const Tensor& xv = self.parent_value(0);
    for (std::size_t i = 0; i < dx.size(); ++i) dx.data()[i] *= xv.data()[i];
    self.add_to_parent(0, std::move(dx));
  });
}

// y = 3x, correct except that element `bad` of the gradient is off by one.
Variable triple_with_one_wrong_element(const Variable& x, std::size_t bad) {
  Tensor y = x.value();
  for (std::size_t i = 0; i < y.size(); ++i) y.data()[i] *= 3;
  return make_result("triple", std::move(y), {x}, [bad](Node& self) {
    Tensor dx = self.grad;
    for (std::size_t i = 0; i < dx.size(); ++i) dx.data()[i] *= 3;
    dx.data()[bad] += 1;
    self.add_to_parent(0, std::move(dx));
  });
}

// y = a ⊙ b with da = g ⊙ b (right) and db = 2·g ⊙ a (wrong: should be g ⊙ a).
Variable mul_with_wrong_second_gradient(const Variable& a, const Variable& b) {
  Tensor y = a.value();
  for (std::size_t i = 0; i < y.size(); ++i) y.data()[i] *= b.value().data()[i];
  return make_result("bad_mul", std::move(y), {a, b}, [](Node& self) {
    Tensor da = self.grad, db = self.grad;
    const Tensor& av = self.parent_value(0);
    const Tensor& bv = self.parent_value(1);
    for (std::size_t i = 0; i < da.size(); ++i) {
      da.data()[i] *= bv.data()[i];
      db.data()[i] *= 2 * av.data()[i];
    }
    self.add_to_parent(0, std::move(da));
    self.add_to_parent(1, std::move(db));
  });
}

TEST(Gradcheck, PassesOnACorrectElementwiseOp) {
  const GradcheckReport r =
      gradcheck([](const std::vector<Variable>& v) { return v[0] * v[1]; },
                {random_tensor({2, 3}, 1), random_tensor({2, 3}, 2)});
  EXPECT_TRUE(r.ok) << r.message;
  EXPECT_LE(r.worst_ratio, 1.0);
  EXPECT_NE(r.message.find("passed"), std::string::npos) << r.message;
}

TEST(Gradcheck, PassesOnMatmulSigmoidWithBroadcastBias) {
  const GradcheckReport r = gradcheck(
      [](const std::vector<Variable>& v) { return sigmoid(matmul(v[0], v[1]) + v[2]); },
      {random_tensor({4, 3}, 3), random_tensor({3, 2}, 4), random_tensor({2}, 5)});
  EXPECT_TRUE(r.ok) << r.message;
}

TEST(Gradcheck, PassesOnCrossEntropyOfALinearLayer) {
  const std::vector<std::size_t> labels{0, 2, 1};
  const GradcheckReport r = gradcheck(
      [&](const std::vector<Variable>& v) { return cross_entropy(linear(v[0], v[1], v[2]), labels); },
      {random_tensor({3, 4}, 6), random_tensor({3, 4}, 7), random_tensor({3}, 8)});
  EXPECT_TRUE(r.ok) << r.message;
}

TEST(Gradcheck, PassesWhenAnInputDoesNotAffectTheOutput) {
  const GradcheckReport r = gradcheck([](const std::vector<Variable>& v) { return exp(v[0]); },
                                      {random_tensor({3}, 9), random_tensor({2}, 10)});
  EXPECT_TRUE(r.ok) << r.message;
}

TEST(Gradcheck, PassesWhenTheFunctionReturnsAnInputUnchanged) {
  const GradcheckReport r =
      gradcheck([](const std::vector<Variable>& v) { return v[0]; }, {random_tensor({3}, 11)});
  EXPECT_TRUE(r.ok) << r.message;
}

TEST(Gradcheck, FailsOnAWrongBackward) {
  const GradcheckReport r = gradcheck([](const std::vector<Variable>& v) { return wrong_square(v[0]); },
                                      {random_tensor({2, 3}, 12)});
  EXPECT_FALSE(r.ok);
  EXPECT_GT(r.worst_ratio, 1.0);
  EXPECT_EQ(r.worst_input, 0u);
  EXPECT_NE(r.message.find("FAILED"), std::string::npos) << r.message;
  EXPECT_NE(r.message.find("input 0"), std::string::npos) << r.message;
  EXPECT_NE(r.message.find("(2, 3)"), std::string::npos) << r.message;
  // Analytic is half the numeric value at the worst element.
  EXPECT_NEAR(r.analytic, 0.5 * r.numeric, 1e-6 * (1 + std::abs(r.numeric)));
}

TEST(Gradcheck, NamesTheWorstElement) {
  const GradcheckReport r =
      gradcheck([](const std::vector<Variable>& v) { return triple_with_one_wrong_element(v[0], 4); },
                {random_tensor({2, 3}, 13)});
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.worst_input, 0u);
  EXPECT_EQ(r.worst_index, 4u);
  EXPECT_NEAR(r.analytic - r.numeric, 1.0, 1e-6);
  EXPECT_NE(r.message.find("input 0"), std::string::npos) << r.message;
  EXPECT_NE(r.message.find("index 4"), std::string::npos) << r.message;
}

TEST(Gradcheck, WorstInputPointsToTheSecondInputWhenOnlyItsGradientIsWrong) {
  const GradcheckReport r =
      gradcheck([](const std::vector<Variable>& v) { return mul_with_wrong_second_gradient(v[0], v[1]); },
                {random_tensor({3, 2}, 14), random_tensor({3, 2}, 15)});
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.worst_input, 1u);
  EXPECT_NE(r.message.find("input 1"), std::string::npos) << r.message;
  EXPECT_NEAR(r.analytic, 2 * r.numeric, 1e-6 * (1 + std::abs(r.numeric)));
}

TEST(Gradcheck, FailsWhenBackwardForgetsAnInput) {
  // A closure that never passes a gradient to its second input: analytic 0 vs numeric a.
  const GradcheckReport r = gradcheck(
      [](const std::vector<Variable>& v) {
        Tensor y = v[0].value();
        for (std::size_t i = 0; i < y.size(); ++i) y.data()[i] *= v[1].value().data()[i];
        return make_result("half_mul", std::move(y), {v[0], v[1]}, [](Node& self) {
          Tensor da = self.grad;
          for (std::size_t i = 0; i < da.size(); ++i) da.data()[i] *= self.parent_value(1).data()[i];
          self.add_to_parent(0, std::move(da));
        });
      },
      {random_tensor({4}, 16), random_tensor({4}, 17)});
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.worst_input, 1u);
  EXPECT_EQ(r.analytic, 0.0);
}

TEST(Gradcheck, ReportIsDeterministicForAFixedSeed) {
  auto f = [](const std::vector<Variable>& v) { return wrong_square(v[0]); };
  const std::vector<Tensor> in{random_tensor({5}, 18)};
  GradcheckOptions opts;
  opts.seed = 42;
  const GradcheckReport a = gradcheck(f, in, opts), b = gradcheck(f, in, opts);
  EXPECT_EQ(a.worst_index, b.worst_index);
  EXPECT_EQ(a.analytic, b.analytic);
  EXPECT_EQ(a.numeric, b.numeric);
}

}  // namespace
}  // namespace xtgrad_test
