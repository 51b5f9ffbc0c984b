// batch_norm, layer_norm and embedding (ops) and their modules: hand values, running
// statistics, train vs eval, double-precision gradient checks, errors.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "test_util.hpp"
#include "xtgrad/core/parallel.hpp"
#include "xtgrad/nn/nn.hpp"

namespace {

using xtgrad::Rng;
using xtgrad_test::Scalar;
using xtgrad_test::Tensor;
using xtgrad_test::Variable;
using xtgrad_test::expect_gradcheck;
using xtgrad_test::expect_tensor_near;
using xtgrad_test::expect_throws_with;
using xtgrad_test::filled;
using xtgrad_test::make_tensor;
using xtgrad_test::uniform;
using Vars = std::vector<Variable>;

TEST(BatchNorm, TrainingNormalisesWithBatchStatisticsAndMovesTheRunningOnes) {
  // One channel 1, 2, 3, 4: μ = 2.5, σ² = 1.25 (biased), 5/3 unbiased.
  Tensor rm = filled({1}, 0.0), rv = filled({1}, 1.0);
  const Variable x(make_tensor({4, 1}, {1, 2, 3, 4}));
  const Tensor y = xtgrad::batch_norm(x, Variable(Tensor({2.0})), Variable(Tensor({1.0})), rm, rv, true, 0.1, 1e-5).value();
  const double inv = 1 / std::sqrt(1.25 + 1e-5);
  expect_tensor_near(y, make_tensor({4, 1}, {1 - 3 * inv, 1 - inv, 1 + inv, 1 + 3 * inv}), 1e-12);
  EXPECT_NEAR(rm(0), 0.25, 1e-12);                       // 0.9·0 + 0.1·2.5
  EXPECT_NEAR(rv(0), 0.9 + 0.1 * 1.25 * 4 / 3, 1e-12);  // unbiased variance
}

TEST(BatchNorm, SpatialAxesJoinTheBatchAndEvalUsesTheRunningStatistics) {
  // (2, 2, 1, 2): channel 0 holds 1, 3, 5, 7 (μ 4, σ² 5); channel 1 holds 0, 0, 2, 2 (μ 1, σ² 1).
  const Variable x(make_tensor({2, 2, 1, 2}, {1, 3, 0, 0, 5, 7, 2, 2}));
  Tensor rm = filled({2}, 0.0), rv = filled({2}, 1.0);
  const Variable one(filled({2}, 1.0)), zero(filled({2}, 0.0));
  const Tensor y = xtgrad::batch_norm(x, one, zero, rm, rv, true, 1.0, 1e-12).value();
  const double a = 1 / std::sqrt(5.0);
  expect_tensor_near(y, make_tensor({2, 2, 1, 2}, {-3 * a, -a, -1, -1, a, 3 * a, 1, 1}), 1e-9);
  // momentum 1: the running statistics are this batch's (variance unbiased: ·4/3).
  expect_tensor_near(rm, Tensor({4.0, 1.0}), 1e-12);
  expect_tensor_near(rv, Tensor({5.0 * 4 / 3, 4.0 / 3}), 1e-12);
  // Evaluation: (x − r_μ)/√(r_σ² + eps), and the running statistics stay.
  const Tensor e = xtgrad::batch_norm(x, one, zero, rm, rv, false, 1.0, 1e-12).value();
  EXPECT_NEAR(e(0, 0, 0, 0), (1 - 4) / std::sqrt(20.0 / 3), 1e-9);
  EXPECT_NEAR(e(1, 1, 0, 1), (2 - 1) / std::sqrt(4.0 / 3), 1e-9);
  expect_tensor_near(rm, Tensor({4.0, 1.0}), 0.0);
}

TEST(BatchNorm, PassesGradcheckInTrainingMode) {
  // At 1 thread training runs channel by channel; at 8 threads (more than these channels) it
  // runs over the planes: both paths checked whatever the machine's CPU count.
  for (const int threads : {1, 8}) {
    const xtgrad::NumThreadsGuard guard(threads);
    for (const xtgrad::Shape& shape : {xtgrad::Shape{5, 3}, xtgrad::Shape{2, 3, 2, 2}, xtgrad::Shape{3, 2, 4}}) {
      SCOPED_TRACE(xtgrad::shape_str(shape) + " at " + std::to_string(threads) + " threads");
      expect_gradcheck(
          [](const Vars& v) {
            Tensor rm = filled({v[1].size()}, 0.0), rv = filled({v[1].size()}, 1.0);
            return xtgrad::batch_norm(v[0], v[1], v[2], rm, rv, true);
          },
          {uniform(shape, 1, -2, 2), uniform({shape[1]}, 2, 0.5, 1.5), uniform({shape[1]}, 3, -1, 1)});
    }
  }
}

TEST(BatchNorm, PassesGradcheckInEvalMode) {
  expect_gradcheck(
      [](const Vars& v) {
        Tensor rm = Tensor({0.3, -0.2, 0.1}), rv = Tensor({1.5, 0.7, 2.0});
        return xtgrad::batch_norm(v[0], v[1], v[2], rm, rv, false);
      },
      {uniform({2, 3, 2, 2}, 4, -2, 2), uniform({3}, 5, 0.5, 1.5), uniform({3}, 6, -1, 1)});
}

TEST(BatchNorm, ErrorsNameTheOpAndTheShapes) {
  Tensor rm = filled({3}, 0.0), rv = filled({3}, 1.0);
  const Variable w(filled({3}, 1.0)), b(filled({3}, 0.0));
  expect_throws_with<std::invalid_argument>(
      [&] { xtgrad::batch_norm(Variable(filled({4, 2}, 1.0)), w, b, rm, rv, true); },
      {"batch_norm", "(4, 2)", "(3)"});
  expect_throws_with<std::invalid_argument>(
      [&] { xtgrad::batch_norm(Variable(filled({1, 3}, 1.0)), w, b, rm, rv, true); },
      {"batch_norm", "more than one value per channel", "(1, 3)"});
  expect_throws_with<std::invalid_argument>([&] { xtgrad::nn::BasicBatchNorm2d<Scalar>(3)(Variable(filled({4, 3}, 1.0))); },
                                            {"BatchNorm2d", "(N, C, H, W)", "(4, 3)"});
}

TEST(BatchNormModule, RunningStatisticsConvergeAndEvalModeUsesThem) {
  xtgrad::nn::BasicBatchNorm1d<Scalar> bn(2);
  Rng rng(7);
  for (int step = 0; step < 200; ++step) {
    Tensor x = xtgrad::randn<Scalar>({64, 2}, rng);
    for (std::size_t i = 0; i < 64; ++i) {
      x(i, 0) = 3 + 2 * x(i, 0);  // channel 0 ~ N(3, 4)
      x(i, 1) = -1 + 0.5 * x(i, 1);  // channel 1 ~ N(−1, 0.25)
    }
    bn(Variable(x));
  }
  EXPECT_NEAR(bn.running_mean.value()(0), 3.0, 0.15);
  EXPECT_NEAR(bn.running_mean.value()(1), -1.0, 0.05);
  EXPECT_NEAR(bn.running_var.value()(0), 4.0, 0.6);
  EXPECT_NEAR(bn.running_var.value()(1), 0.25, 0.04);
  bn.eval();
  const Tensor before = bn.running_mean.value();
  const Tensor y = bn(Variable(make_tensor({1, 2}, {3.0, -1.0}))).value();  // one row is fine in eval
  EXPECT_NEAR(y(0, 0), (3.0 - before(0)) / std::sqrt(bn.running_var.value()(0) + 1e-5), 1e-12);
  expect_tensor_near(bn.running_mean.value(), before, 0.0);
  std::vector<std::string> names;
  for (const auto& [name, _] : bn.named_buffers()) names.push_back(name);
  EXPECT_EQ(names, (std::vector<std::string>{"running_mean", "running_var"}));
  EXPECT_EQ(bn.parameter_count(), 4u);
}

TEST(BatchNormModule, TwoDInSequentialFollowsTheModeOfItsParent) {
  Rng rng(8);
  xtgrad::nn::BasicSequential<Scalar> net;
  net.add(xtgrad::nn::BasicConv2d<Scalar>(1, 2, 3, rng)).add("bn", xtgrad::nn::BasicBatchNorm2d<Scalar>(2));
  const Variable x(uniform({4, 1, 5, 5}, 9, -1, 1));
  net(x);
  const Tensor after_train = net.get<xtgrad::nn::BasicBatchNorm2d<Scalar>>("bn").running_mean.value();
  net.eval();
  net(x);
  expect_tensor_near(net.get<xtgrad::nn::BasicBatchNorm2d<Scalar>>("bn").running_mean.value(), after_train, 0.0);
  std::vector<std::string> names;
  for (const auto& [name, _] : net.named_buffers()) names.push_back(name);
  EXPECT_EQ(names, (std::vector<std::string>{"bn.running_mean", "bn.running_var"}));
}

TEST(LayerNorm, NormalisesEachSampleOverTheTrailingAxes) {
  const Variable x(make_tensor({2, 4}, {1, 2, 3, 4, -1, -1, 1, 1}));
  const Tensor y = xtgrad::layer_norm(x, Variable(filled({4}, 1.0)), Variable(filled({4}, 0.5)), 1e-12).value();
  const double a = 1 / std::sqrt(1.25);
  expect_tensor_near(y, make_tensor({2, 4}, {0.5 - 1.5 * a, 0.5 - 0.5 * a, 0.5 + 0.5 * a, 0.5 + 1.5 * a, -0.5, -0.5, 1.5, 1.5}),
                     1e-9);
}

TEST(LayerNorm, PassesGradcheckForOneAndTwoNormalizedAxes) {
  expect_gradcheck([](const Vars& v) { return xtgrad::layer_norm(v[0], v[1], v[2]); },
                   {uniform({3, 5}, 10, -2, 2), uniform({5}, 11, 0.5, 1.5), uniform({5}, 12, -1, 1)});
  expect_gradcheck([](const Vars& v) { return xtgrad::layer_norm(v[0], v[1], v[2]); },
                   {uniform({2, 2, 3, 2}, 13, -2, 2), uniform({3, 2}, 14, 0.5, 1.5), uniform({3, 2}, 15, -1, 1)});
}

TEST(LayerNorm, ModuleAndErrors) {
  xtgrad::nn::BasicLayerNorm<Scalar> ln({3, 2});
  EXPECT_EQ(ln.parameter_count(), 12u);
  const Variable x(uniform({4, 3, 2}, 16, -1, 1));
  expect_tensor_near(ln(x).value(), xtgrad::layer_norm(x, ln.weight, ln.bias).value(), 0.0);
  expect_throws_with<std::invalid_argument>([&] { ln(Variable(uniform({4, 2, 3}, 17, -1, 1))); },
                                            {"layer_norm", "(4, 2, 3)", "(3, 2)"});
}

TEST(LayerNorm, LastAxisOfAnyRankPassesGradcheck) {
  expect_gradcheck([](const Vars& v) { return xtgrad::layer_norm(v[0], v[1], v[2]); },
                   {uniform({2, 3, 5}, 20, -2, 2), uniform({5}, 21, 0.5, 1.5), uniform({5}, 22, -1, 1)});
  expect_gradcheck([](const Vars& v) { return xtgrad::layer_norm(v[0], v[1], v[2]); },
                   {uniform({4}, 23, -2, 2), uniform({4}, 24, 0.5, 1.5), uniform({4}, 25, -1, 1)});
  // only x, only the affine parameters
  const Tensor w = uniform({5}, 26, 0.5, 1.5), b = uniform({5}, 27, -1, 1), x = uniform({3, 2, 5}, 28, -2, 2);
  expect_gradcheck([&](const Vars& v) { return xtgrad::layer_norm(v[0], Variable(w), Variable(b)); }, {x});
  expect_gradcheck([&](const Vars& v) { return xtgrad::layer_norm(Variable(x), v[0], v[1]); }, {w, b});
}

TEST(LayerNorm, RowsFarFromZeroKeepTheirVariance) {
  // one-pass moments (shifted by the row's first element) against two-pass long double
  Tensor x = uniform({3, 64}, 29, -1, 1);
  for (std::size_t i = 0; i < x.size(); ++i) x.data()[i] += (i < 64 ? 1e4 : i < 128 ? -3e6 : 0.5);
  const Tensor y = xtgrad::layer_norm(Variable(x), Variable(filled({64}, 1.0)), Variable(filled({64}, 0.0))).value();
  for (std::size_t r = 0; r < 3; ++r) {
    long double mean = 0, var = 0;
    for (std::size_t k = 0; k < 64; ++k) mean += x(r, k);
    mean /= 64;
    for (std::size_t k = 0; k < 64; ++k) var += (x(r, k) - mean) * (x(r, k) - mean);
    var /= 64;
    for (std::size_t k = 0; k < 64; ++k) {
      const double expected = double((x(r, k) - mean) / std::sqrt(var + 1e-5L));
      EXPECT_NEAR(y(r, k), expected, 1e-9 * (1 + std::abs(expected)));
    }
  }
}

TEST(LayerNorm, OneAndThreeThreadsGiveTheSameBits) {
  // 2368 rows of 48: several chunks at 3 threads; dγ, dβ from fixed row blocks
  const Tensor x = uniform({64, 37, 48}, 30, -2, 2), w = uniform({48}, 31, 0.5, 1.5), b = uniform({48}, 32, -1, 1),
               r = uniform({64, 37, 48}, 33, -1, 1);
  const auto run = [&](int threads) {
    const xtgrad::NumThreadsGuard guard(threads);
    const Vars v{Variable::parameter(x), Variable::parameter(w), Variable::parameter(b)};
    const Variable y = xtgrad::layer_norm(v[0], v[1], v[2]);
    xtgrad::sum(y * Variable(r)).backward();
    return std::vector<Tensor>{y.value(), v[0].grad(), v[1].grad(), v[2].grad()};
  };
  const std::vector<Tensor> one = run(1), three = run(3);
  for (std::size_t i = 0; i < one.size(); ++i) expect_tensor_near(three[i], one[i], 0.0);
}

TEST(LayerNorm, FloatAgreesWithDouble) {
  using T32 = xtgrad::TensorOf<float>;
  using V32 = xtgrad::BasicVariable<float>;
  const Tensor x = uniform({5, 7, 33}, 34, -3, 3), w = uniform({33}, 35, 0.5, 1.5), b = uniform({33}, 36, -1, 1);
  const V32 x32 = V32::parameter(T32(x)), w32 = V32::parameter(T32(w)), b32 = V32::parameter(T32(b));
  const Vars v{Variable::parameter(x), Variable::parameter(w), Variable::parameter(b)};
  xtgrad::sum(xtgrad::square(xtgrad::layer_norm(x32, w32, b32))).backward();
  xtgrad::sum(xtgrad::square(xtgrad::layer_norm(v[0], v[1], v[2]))).backward();
  const auto near = [](const T32& a, const Tensor& e, double tol) {
    for (std::size_t i = 0; i < e.size(); ++i) EXPECT_NEAR(double(a.data()[i]), e.data()[i], tol * (1 + std::abs(e.data()[i])));
  };
  near(x32.grad(), v[0].grad(), 1e-4);
  near(w32.grad(), v[1].grad(), 1e-4);
  near(b32.grad(), v[2].grad(), 1e-4);
}

TEST(Embedding, LooksUpRowsAndAddsGradientsIntoThem) {
  const Variable w = Variable::parameter(make_tensor({3, 2}, {0, 1, 2, 3, 4, 5}));
  const Variable idx(make_tensor({2, 2}, {2, 0, 1, 2}));
  const Variable y = xtgrad::embedding(idx, w);
  xtgrad_test::expect_values(y.value(), {2, 2, 2}, {4, 5, 0, 1, 2, 3, 4, 5});
  xtgrad::sum(y).backward();
  xtgrad_test::expect_values(w.grad(), {3, 2}, {1, 1, 1, 1, 2, 2});  // row 2 used twice
  const Tensor fixed = make_tensor({5}, {1, 1, 0, 3, 1});
  expect_gradcheck([fixed](const Vars& v) { return xtgrad::embedding(Variable(fixed), v[0]); },
                   {uniform({4, 3}, 18, -1, 1)});
  expect_throws_with<std::invalid_argument>([&] { xtgrad::embedding(Variable(Tensor({0.0, 3.0})), w); },
                                            {"embedding", "index 3", "[0, 3)", "(3, 2)"});
  expect_throws_with<std::invalid_argument>([&] { xtgrad::embedding(Variable(Tensor({0.5})), w); }, {"embedding"});
}

TEST(Embedding, Module) {
  Rng rng(19);
  xtgrad::nn::BasicEmbedding<Scalar> emb(10, 4, rng);
  EXPECT_EQ(xtgrad::shape_str(emb.weight.value()), "(10, 4)");
  const Tensor y = emb(Variable(Tensor({7.0, 7.0, 0.0}))).value();
  EXPECT_EQ(xtgrad::shape_str(y), "(3, 4)");
  for (std::size_t k = 0; k < 4; ++k) EXPECT_EQ(y(0, k), emb.weight.value()(7, k));
}

}  // namespace

namespace {

// backward(create_graph) leaves the parameters gradients with history whose values are the
// plain backward's (second derivatives: tests/ops/test_gradgradcheck_conv.cpp).
TEST(Normalization, CreateGraphGradientsHaveHistoryAndTheSameValues) {
  const Tensor xt = uniform({4, 3}, 600, -1, 1);
  const Tensor table_t = uniform({5, 3}, 601, -1, 1);
  const auto run = [&](bool create_graph) {
    Tensor rm = filled({3}, 0.1), rv = filled({3}, 1.2);  // the same running statistics in both runs
    const Variable x = Variable::parameter(xt), table = Variable::parameter(table_t);
    const Variable g = Variable::parameter(filled({3}, 1.5)), b = Variable::parameter(filled({3}, 0.5));
    const Variable y = xtgrad::batch_norm(x, g, b, rm, rv, true) * xtgrad::layer_norm(x, g, b) +
                       xtgrad::batch_norm(x, g, b, rm, rv, false) +
                       xtgrad::embedding(Variable(Tensor({1.0, 4.0, 4.0, 0.0})), table);
    xtgrad::sum(xtgrad::square(y)).backward({.create_graph = create_graph});
    std::vector<Variable> params{x, g, b, table};
    std::vector<Tensor> grads;
    for (Variable& p : params) {
      EXPECT_EQ(p.grad_variable().requires_grad(), create_graph);
      grads.push_back(p.grad());
      p.zero_grad();  // breaks the leaf → gradient graph → leaf cycle
    }
    return grads;
  };
  const std::vector<Tensor> plain = run(false), with_graph = run(true);
  for (std::size_t i = 0; i < plain.size(); ++i) expect_tensor_near(with_graph[i], plain[i], 1e-12);
}

}  // namespace
