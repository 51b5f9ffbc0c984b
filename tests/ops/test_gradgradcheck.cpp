// Second derivatives of every op: gradgradcheck (double backward against central differences of
// the first derivatives), a third derivative, and the checker failing on a wrong double backward.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "test_util.hpp"
#include "xtgrad/core/accumulate.hpp"

namespace xtgrad_test {

using namespace xtgrad;  // the names under test; Scalar, Tensor, Variable, ... are this program's (test_util.hpp)

namespace {

using Vars = std::vector<Variable>;
using xtgrad_test::away_from_zero;
using xtgrad_test::uniform;

using xtgrad_test::expect_gradgradcheck;

const Tensor a23() { return uniform({2, 3}, 1, -1.5, 1.5); }
const Tensor b23() { return uniform({2, 3}, 2, -1.5, 1.5); }
const Tensor pos23() { return uniform({2, 3}, 3, 0.5, 2.0); }

TEST(Gradgradcheck, Add) { expect_gradgradcheck([](const Vars& v) { return v[0] + v[1] * v[1]; }, {a23(), b23()}); }
TEST(Gradgradcheck, AddBroadcast) {
  expect_gradgradcheck([](const Vars& v) { return square(v[0] + v[1]); }, {a23(), uniform({3}, 4, -1, 1)});
}
TEST(Gradgradcheck, Sub) { expect_gradgradcheck([](const Vars& v) { return square(v[0] - v[1]); }, {a23(), b23()}); }
TEST(Gradgradcheck, Mul) { expect_gradgradcheck([](const Vars& v) { return v[0] * v[1]; }, {a23(), b23()}); }
TEST(Gradgradcheck, MulBroadcast) {
  expect_gradgradcheck([](const Vars& v) { return v[0] * v[1]; }, {a23(), uniform({2, 1}, 5, -1, 1)});
}
TEST(Gradgradcheck, Div) { expect_gradgradcheck([](const Vars& v) { return v[0] / v[1]; }, {a23(), pos23()}); }
TEST(Gradgradcheck, DivBroadcast) {
  expect_gradgradcheck([](const Vars& v) { return v[0] / v[1]; }, {a23(), uniform({3}, 6, 0.5, 2)});
}
TEST(Gradgradcheck, Neg) { expect_gradgradcheck([](const Vars& v) { return -square(v[0]); }, {a23()}); }
TEST(Gradgradcheck, ScalarForms) {
  expect_gradgradcheck([](const Vars& v) { return square(v[0] + 2.0) * 3.0 + (1.0 - v[0]) * v[0] - v[0] / 4.0; },
                       {a23()});
}
TEST(Gradgradcheck, ScalarDivision) { expect_gradgradcheck([](const Vars& v) { return 2.0 / v[0]; }, {pos23()}); }
TEST(Gradgradcheck, Exp) { expect_gradgradcheck([](const Vars& v) { return exp(v[0]); }, {a23()}); }
TEST(Gradgradcheck, Log) { expect_gradgradcheck([](const Vars& v) { return log(v[0]); }, {pos23()}); }
TEST(Gradgradcheck, Sqrt) { expect_gradgradcheck([](const Vars& v) { return sqrt(v[0]); }, {pos23()}); }
TEST(Gradgradcheck, Square) { expect_gradgradcheck([](const Vars& v) { return square(v[0]) * v[0]; }, {a23()}); }
TEST(Gradgradcheck, Pow) {
  expect_gradgradcheck([](const Vars& v) { return pow(v[0], 3.5); }, {pos23()});
  expect_gradgradcheck([](const Vars& v) { return pow(v[0], -1.5); }, {pos23()});
  expect_gradgradcheck([](const Vars& v) { return pow(v[0], 2.0) + pow(v[0], 0.0); }, {a23()});
}
TEST(Gradgradcheck, Abs) { expect_gradgradcheck([](const Vars& v) { return abs(v[0]) * v[0]; }, {away_from_zero({2, 3}, 7)}); }
TEST(Gradgradcheck, Sigmoid) { expect_gradgradcheck([](const Vars& v) { return sigmoid(v[0]); }, {a23()}); }
TEST(Gradgradcheck, Tanh) { expect_gradgradcheck([](const Vars& v) { return tanh(v[0]); }, {a23()}); }
TEST(Gradgradcheck, Relu) {
  expect_gradgradcheck([](const Vars& v) { return relu(v[0]) * v[0]; }, {away_from_zero({2, 3}, 8)});
}
TEST(Gradgradcheck, Affine) { expect_gradgradcheck([](const Vars& v) { return square(affine(v[0], -1.5, 0.5)); }, {a23()}); }
TEST(Gradgradcheck, SoftmaxLastAxis) { expect_gradgradcheck([](const Vars& v) { return softmax(v[0]); }, {a23()}); }
TEST(Gradgradcheck, SoftmaxFirstAxis) { expect_gradgradcheck([](const Vars& v) { return softmax(v[0], 0); }, {a23()}); }
TEST(Gradgradcheck, LogSoftmax) {
  expect_gradgradcheck([](const Vars& v) { return log_softmax(v[0]); }, {a23()});
  expect_gradgradcheck([](const Vars& v) { return log_softmax(v[0], 0); }, {a23()});
}
TEST(Gradgradcheck, SumAndMeanOfAll) {
  expect_gradgradcheck([](const Vars& v) { return square(sum(v[0] * v[0])); }, {a23()});
  expect_gradgradcheck([](const Vars& v) { return square(mean(v[0] * v[0])); }, {a23()});
}
TEST(Gradgradcheck, SumAndMeanOverAnAxis) {
  expect_gradgradcheck([](const Vars& v) { return square(sum(v[0] * v[0], 0)); }, {a23()});
  expect_gradgradcheck([](const Vars& v) { return square(sum(v[0] * v[0], 1, true)); }, {a23()});
  expect_gradgradcheck([](const Vars& v) { return square(mean(v[0] * v[0], -1)); }, {a23()});
}
TEST(Gradgradcheck, Matmul) {
  expect_gradgradcheck([](const Vars& v) { return matmul(v[0], v[1]); }, {a23(), uniform({3, 2}, 9, -1, 1)});
  expect_gradgradcheck([](const Vars& v) { return square(matmul(v[0], v[1])); }, {a23(), uniform({3, 2}, 9, -1, 1)});
}
TEST(Gradgradcheck, Linear) {
  const Tensor w = uniform({4, 3}, 10, -1, 1);  // (out, in)
  expect_gradgradcheck([](const Vars& v) { return sigmoid(linear(v[0], v[1], v[2])); }, {a23(), w, uniform({4}, 11, -1, 1)});
  expect_gradgradcheck([](const Vars& v) { return tanh(linear(v[0], v[1], v[2])); },
                       {a23(), w, uniform({1, 4}, 12, -1, 1)});
}
TEST(Gradgradcheck, Transpose) { expect_gradgradcheck([](const Vars& v) { return transpose(v[0]) * transpose(v[0]); }, {a23()}); }
TEST(Gradgradcheck, Reshape) { expect_gradgradcheck([](const Vars& v) { return square(reshape(v[0], {3, 2})); }, {a23()}); }
TEST(Gradgradcheck, CrossEntropyWithProbabilityTargets) {
  // targets as rows of probabilities, both inputs differentiated
  expect_gradgradcheck([](const Vars& v) { return cross_entropy(v[0], softmax(v[1])); }, {a23(), b23()});
}
TEST(Gradgradcheck, CrossEntropyWithOneHotTargets) {
  const Tensor onehot = xtgrad_test::make_tensor({2, 3}, {0, 1, 0, 1, 0, 0});
  expect_gradgradcheck([onehot](const Vars& v) { return cross_entropy(v[0], Variable(onehot)); }, {a23()});
}
TEST(Gradgradcheck, CrossEntropyWithLabels) {
  expect_gradgradcheck([](const Vars& v) { return cross_entropy(v[0], std::vector<std::size_t>{2, 0}); }, {a23()});
}
TEST(Gradgradcheck, Mse) { expect_gradgradcheck([](const Vars& v) { return mse(square(v[0]), v[1]); }, {a23(), b23()}); }
TEST(Gradgradcheck, L1) { expect_gradgradcheck([](const Vars& v) { return l1(v[0]) * l1(v[0]); }, {away_from_zero({2, 3}, 13)}); }
TEST(Gradgradcheck, SquaredL2) { expect_gradgradcheck([](const Vars& v) { return square(squared_l2(v[0])); }, {a23()}); }
TEST(Gradgradcheck, SumToAndBroadcastTo) {
  expect_gradgradcheck([](const Vars& v) { return square(sum_to(v[0] * v[0], {1, 3})); }, {a23()});
  expect_gradgradcheck([](const Vars& v) { return square(broadcast_to(v[0], {2, 3})) * v[1]; },
                       {uniform({3}, 14, -1, 1), b23()});
}
TEST(Gradgradcheck, SeedMlp) {
  // the seed's model: linear, sigmoid, linear, cross-entropy
  const Tensor x = uniform({4, 3}, 15, -1, 1);
  const Tensor onehot = xtgrad_test::make_tensor({4, 2}, {1, 0, 0, 1, 0, 1, 1, 0});
  expect_gradgradcheck(
      [x, onehot](const Vars& v) {
        return cross_entropy(linear(sigmoid(linear(Variable(x), v[0], v[1])), v[2], v[3]), Variable(onehot));
      },
      {uniform({5, 3}, 16, -1, 1), uniform({5}, 17, -1, 1), uniform({2, 5}, 18, -1, 1), uniform({2}, 19, -1, 1)});
}

// Third derivative of an elementwise composition: f = x³·eˣ, f''' = (x³ + 9x² + 18x + 6)eˣ.
TEST(HigherOrder, ThirdDerivativeOfAnElementwiseFunction) {
  const Tensor xs = xtgrad_test::make_tensor({3}, {-0.7, 0.3, 1.2});
  Variable x = Variable::parameter(xs);
  const Variable y = sum(pow(x, 3.0) * exp(x));
  const Variable d1 = grad({y}, {x}, {.create_graph = true})[0];
  const Variable d2 = grad({sum(d1)}, {x}, {.create_graph = true})[0];
  const Variable d3 = grad({sum(d2)}, {x})[0];
  for (std::size_t i = 0; i < 3; ++i) {
    const double v = xs(i);
    EXPECT_NEAR(d3.value()(i), (v * v * v + 9 * v * v + 18 * v + 6) * std::exp(v), 1e-12);
    EXPECT_NEAR(d2.value()(i), (v * v * v + 6 * v * v + 6 * v) * std::exp(v), 1e-12);
  }
}

// A cube op whose first derivative is right (3x²) but whose create_graph path is a second,
// hand-kept formula that drifted (3x instead of 3x²): gradcheck passes, gradgradcheck must not.
// (ops in ops/ write the formula once, so the two cannot drift.)
Variable cube_with_wrong_double_backward(const Variable& x) {
  return make_result("bad_cube", evaluate(xt::pow(x.value(), Scalar(3))), {x}, [](Node& self) {
    if (self.grad_node) {
      add_variable_to_parent(self, 0, Variable(self.grad_node) * input_variable(self, 0) * 3.0);
      return;
    }
    add_expr_to_parent(self, 0, Scalar(3) * self.grad * xt::square(self.parent_value(0)));
  });
}

TEST(Gradgradcheck, FailsOnAWrongDoubleBackwardAndNamesTheElement) {
  const auto f = [](const Vars& v) { return cube_with_wrong_double_backward(v[0]) * v[1]; };
  const std::vector<Tensor> inputs{uniform({2, 2}, 20, 0.5, 1.5), uniform({2, 2}, 21, 0.5, 1.5)};
  EXPECT_TRUE(gradcheck(f, inputs).ok);
  const GradcheckReport report = gradgradcheck(f, inputs);
  EXPECT_FALSE(report.ok);
  EXPECT_NE(report.message.find("FAILED"), std::string::npos) << report.message;
  EXPECT_NE(report.message.find("input "), std::string::npos) << report.message;
  EXPECT_NE(report.message.find("flat index"), std::string::npos) << report.message;
  EXPECT_GT(report.worst_ratio, 1.0);
}

}  // namespace
}  // namespace xtgrad_test
