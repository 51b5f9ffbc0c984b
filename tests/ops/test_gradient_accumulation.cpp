// The ops whose backward writes an input's gradient in its own loop (grad_target) have two
// paths: overwrite when the input has no gradient yet, add when it has one. Here each such op
// is applied to an input that also reaches the output another way, so that in one backward
// pass one node writes the gradient and the next adds to it; central differences in double
// check the sum. (The ops' own tests cover the overwrite path alone.)
#include <vector>

#include "test_util.hpp"

namespace xtgrad_test {
namespace {

using Vars = std::vector<Variable>;
using xtgrad::Reduction;

const Tensor kZ = uniform({3, 4}, 11, -1.5, 1.5);            // logits, rows of 4
const Tensor kP = uniform({3, 4}, 12, 0.1, 0.9);             // probabilities / targets away from 0, 1
const Tensor kRow = uniform({4}, 13, 0.5, 1.5);              // a weight over the last axis

TEST(GradientAccumulation, SoftmaxAndLogSoftmaxTwiceOnOneInput) {
  expect_gradcheck([](const Vars& v) { return xtgrad::softmax(v[0], 1) * xtgrad::softmax(v[0], 0); }, {kZ});
  expect_gradcheck([](const Vars& v) { return xtgrad::log_softmax(v[0], 1) + xtgrad::log_softmax(v[0], 0); }, {kZ});
  expect_gradcheck([](const Vars& v) { return v[0] * xtgrad::softmax(v[0], 1); }, {kZ});
}

TEST(GradientAccumulation, CrossEntropyLossesAddToAGradientAlreadyThere) {
  // soft targets (losses.cpp), class labels with label smoothing (losses_extra.cpp)
  expect_gradcheck([](const Vars& v) { return xtgrad::cross_entropy(v[0], v[1]) + xtgrad::sum(v[0] * v[1]); },
                   {kZ, kP});
  xtgrad::BasicCrossEntropyOptions<Scalar> smooth;
  smooth.label_smoothing = 0.2;
  expect_gradcheck(
      [&](const Vars& v) {
        return xtgrad::cross_entropy(v[0], {2, 0, 1}, smooth) + xtgrad::cross_entropy(v[0], {1, 1, 3}, smooth);
      },
      {kZ});
}

TEST(GradientAccumulation, BceWithLogitsAndKlDivIntoBothInputs) {
  expect_gradcheck(
      [](const Vars& v) {
        return xtgrad::binary_cross_entropy_with_logits(v[0], v[1]) + xtgrad::sum(v[0] * v[1]);
      },
      {kZ, kP});
  expect_gradcheck(
      [](const Vars& v) {
        return xtgrad::kl_div(v[0], v[1], Reduction::sum) + xtgrad::kl_div(v[0], v[1], Reduction::mean);
      },
      {Tensor(xt::log(kP)), kP});
}

TEST(GradientAccumulation, LayerNormIntoInputWeightAndBias) {
  expect_gradcheck(
      [](const Vars& v) {
        const Variable h = xtgrad::layer_norm(v[0], v[1], v[2]);
        return xtgrad::layer_norm(v[0] + h, v[1], v[2]) * v[1];
      },
      {kZ, kRow, uniform({4}, 14, -0.5, 0.5)});
}

TEST(GradientAccumulation, ReductionsAndConcatenation) {
  expect_gradcheck([](const Vars& v) { return xtgrad::logsumexp(v[0], 1) + xtgrad::sum(v[0], 1); }, {kZ});
  expect_gradcheck([](const Vars& v) { return xtgrad::mean(v[0], 0) * xtgrad::sum(v[0] * v[0], 0); }, {kZ});
  expect_gradcheck([](const Vars& v) { return xtgrad::concat({v[0], v[0] * v[0], v[1]}, 1); }, {kZ, kP});
  expect_gradcheck([](const Vars& v) { return xtgrad::stack({v[1], v[0]}, 0) * xtgrad::stack({v[0], v[0]}, 0); },
                   {kZ, kP});
}

}  // namespace
}  // namespace xtgrad_test
