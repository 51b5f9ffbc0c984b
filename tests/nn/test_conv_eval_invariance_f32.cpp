// A trained LeNet's outputs do not depend on how the evaluation batches the data: conv2d's
// chunked im2col path (a batch of 1000 is several chunks), the kept-forward-cols path (a batch
// of 64 is one chunk), max_pool2d, eval mode and the buffer cache must give every sample the
// same logits whether it is evaluated alone, in a batch of 64 or in a batch of 1000, and a
// fresh model holding the same parameters must agree. (Checked when the app's LeNet test
// accuracy swung between epochs: the swing is the optimisation's, not the evaluation's.)
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "xtgrad/core/core.hpp"
#include "xtgrad/nn/nn.hpp"
#include "xtgrad/ops/losses.hpp"

namespace {

using xtgrad::NoGrad;
using xtgrad::Rng;
using xtgrad::Shape;
using xtgrad::Tensor;
using xtgrad::Variable;
namespace nn = xtgrad::nn;

nn::Dataset random_images(std::size_t n, Rng& rng) {
  nn::Dataset d;
  d.inputs = xtgrad::rand_uniform({n, 1, 28, 28}, rng, -1.0, 1.0);
  d.targets = Tensor::from_shape({n});
  for (std::size_t i = 0; i < n; ++i) d.targets.data()[i] = xtgrad::Scalar(i % 10);
  return d;
}

// Rows [first, first + rows) of x as a new tensor.
Tensor rows_of(const Tensor& x, std::size_t first, std::size_t rows) {
  Shape shape(x.shape().begin(), x.shape().end());
  const std::size_t d = x.size() / shape[0];
  shape[0] = rows;
  Tensor out = Tensor::from_shape(shape);
  std::copy(x.data() + first * d, x.data() + (first + rows) * d, out.data());
  return out;
}

// Logits (n, 10) in eval mode without a graph, `batch` samples per forward.
Tensor eval_logits(nn::Module& net, const Tensor& x, std::size_t batch) {
  NoGrad no_grad;
  nn::EvalModeGuard eval(net);
  const std::size_t n = x.shape()[0];
  Tensor out = Tensor::from_shape({n, 10});
  for (std::size_t s = 0; s < n; s += batch) {
    const std::size_t rows = std::min(batch, n - s);
    const Tensor y = net(Variable(rows_of(x, s, rows))).value();
    std::copy(y.data(), y.data() + y.size(), out.data() + s * 10);
  }
  return out;
}

double max_abs_diff(const Tensor& a, const Tensor& b) {
  EXPECT_EQ(a.size(), b.size());
  double m = 0;
  for (std::size_t i = 0; i < a.size(); ++i) m = std::max(m, std::abs(double(a.data()[i]) - double(b.data()[i])));
  return m;
}

TEST(ConvEvalInvariance, TrainedLeNetGivesTheSameLogitsForEveryEvalBatchSize) {
  Rng rng(7);
  nn::Sequential net = nn::lenet5(rng);
  const nn::Dataset train = random_images(256, rng);
  const nn::Dataset test = random_images(1000, rng);
  nn::SGD sgd(net.named_parameters(), 0.1);
  nn::FitOptions options;
  options.epochs = 2;
  options.progress_bar = false;
  nn::fit(net, sgd, train, &test, rng, options);  // batches of 64 (kept cols), evaluation in one batch of 1000

  const Tensor whole = eval_logits(net, test.inputs, 1000);  // conv2d in several chunks
  const Tensor by64 = eval_logits(net, test.inputs, 64);
  const Tensor single = eval_logits(net, test.inputs, 1);
  EXPECT_LT(max_abs_diff(whole, by64), 1e-4);
  EXPECT_LT(max_abs_diff(whole, single), 1e-4);
  EXPECT_EQ(nn::accuracy(net, test, 1000), nn::accuracy(net, test, 1));
  EXPECT_EQ(nn::accuracy(net, test, 1000), nn::accuracy(net, test, 64));

  // A fresh model loaded with the same parameters agrees.
  Rng other(99);
  nn::Sequential fresh = nn::lenet5(other);
  const auto src = net.named_parameters();
  auto dst = fresh.named_parameters();
  ASSERT_EQ(src.size(), dst.size());
  for (std::size_t i = 0; i < src.size(); ++i) dst[i].second.mutable_value() = src[i].second.value();
  EXPECT_LT(max_abs_diff(whole, eval_logits(fresh, test.inputs, 1000)), 1e-4);
}

TEST(ConvEvalInvariance, AnEvaluationBetweenForwardAndBackwardLeavesTheGradientsAlone) {
  Rng rng(3);
  nn::Sequential net = nn::lenet5(rng);
  const nn::Dataset batch = random_images(64, rng);
  const nn::Dataset test = random_images(1000, rng);
  const Variable x(batch.inputs);
  std::vector<std::size_t> labels(64);
  for (std::size_t i = 0; i < 64; ++i) labels[i] = i % 10;

  auto gradients = [&](bool evaluate_between) {
    net.zero_grad();
    Variable loss = xtgrad::cross_entropy(net(x), labels);  // one chunk: conv2d keeps its cols
    if (evaluate_between) eval_logits(net, test.inputs, 1000);
    loss.backward();
    std::vector<Tensor> g;
    for (const auto& p : net.named_parameters()) g.push_back(p.second.grad());
    return g;
  };
  const std::vector<Tensor> plain = gradients(false);
  const std::vector<Tensor> with_eval = gradients(true);
  ASSERT_EQ(plain.size(), with_eval.size());
  for (std::size_t i = 0; i < plain.size(); ++i) EXPECT_LT(max_abs_diff(plain[i], with_eval[i]), 1e-5) << i;
}

}  // namespace
