// prune_dead_units: the shapes it leaves (MLP; LeNet's conv filters and the next layer's input
// channels or flattened columns), the constants it folds into the next bias, the units it must
// keep, and predictions that agree with the unpruned model's to float rounding.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "test_util.hpp"
#include "xtgrad/core/core.hpp"
#include "xtgrad/nn/conv.hpp"
#include "xtgrad/nn/layers.hpp"
#include "xtgrad/nn/models.hpp"
#include "xtgrad/nn/normalization.hpp"
#include "xtgrad/nn/prune.hpp"
#include "xtgrad/ops/ops.hpp"

namespace xg = xtgrad;
namespace nn = xtgrad::nn;
using xtgrad_test::expect_throws_with;

namespace {

template <class T>
void zero_row(const xg::BasicVariable<T>& w, std::size_t u) {
  xg::BasicVariable<T> h = w;
  auto& t = h.mutable_value();
  const std::size_t n = t.size() / t.shape()[0];
  std::fill(t.data() + u * n, t.data() + (u + 1) * n, T(0));
}

template <class T>
void zero_column(const xg::BasicVariable<T>& w, std::size_t c) {  // w[:, c, ...]
  xg::BasicVariable<T> h = w;
  auto& t = h.mutable_value();
  const std::size_t in = t.shape()[1], rest = t.size() / (t.shape()[0] * in);
  for (std::size_t o = 0; o < t.shape()[0]; ++o) std::fill_n(t.data() + (o * in + c) * rest, rest, T(0));
}

template <class T>
void set_bias(const xg::BasicVariable<T>& b, std::size_t u, double v) {
  xg::BasicVariable<T> h = b;
  h.mutable_value().data()[u] = T(v);
}

// max |a − b| / max(1, max |a|) over the outputs of both models on `x`, in eval mode.
template <class T>
double max_relative_difference(nn::BasicSequential<T>& a, nn::BasicSequential<T>& b, const xg::TensorOf<T>& x) {
  const nn::EvalModeGuard ea(a), eb(b);
  xg::NoGrad no_grad;
  const xg::TensorOf<T> ya = a(xg::BasicVariable<T>(x)).value(), yb = b(xg::BasicVariable<T>(x)).value();
  EXPECT_EQ(xg::shape_str(ya), xg::shape_str(yb));
  double diff = 0, scale = 1;
  for (std::size_t i = 0; i < ya.size(); ++i) {
    diff = std::max(diff, double(std::abs(ya.data()[i] - yb.data()[i])));
    scale = std::max(scale, double(std::abs(ya.data()[i])));
  }
  return diff / scale;
}

template <class T>
std::vector<std::size_t> argmax_rows(nn::BasicSequential<T>& m, const xg::TensorOf<T>& x) {
  const nn::EvalModeGuard e(m);
  xg::NoGrad no_grad;
  const xg::TensorOf<T> y = m(xg::BasicVariable<T>(x)).value();
  std::vector<std::size_t> out;
  const std::size_t k = y.shape()[1];
  for (std::size_t i = 0; i < y.shape()[0]; ++i) {
    out.push_back(std::size_t(std::max_element(y.data() + i * k, y.data() + (i + 1) * k) - (y.data() + i * k)));
  }
  return out;
}

xg::TensorOf<float> uniform_f(const xg::Shape& shape, std::uint64_t seed) {
  xg::Rng rng(seed);
  return xg::rand_uniform<float>(shape, rng, -1.0, 1.0);
}

template <class T>
nn::BasicSequential<T> mlp(xg::Rng& rng) {
  nn::BasicSequential<T> net;
  net.add("fc1", nn::BasicLinear<T>(6, 5, rng, nn::LinearOptions().init(nn::LinearInit::pytorch)))
      .add("act1", nn::BasicSigmoid<T>())
      .add("fc2", nn::BasicLinear<T>(5, 4, rng, nn::LinearOptions().init(nn::LinearInit::pytorch)))
      .add("act2", nn::BasicTanh<T>())
      .add("fc3", nn::BasicLinear<T>(4, 3, rng, nn::LinearOptions().init(nn::LinearInit::pytorch)));
  return net;
}

}  // namespace

TEST(PruneDeadUnits, MlpDropsDeadRowsAndTheirColumnsAndKeepsThePredictions) {
  xg::Rng rng(1);
  nn::BasicSequential<double> net = mlp<double>(rng);
  auto& fc1 = net.get<nn::BasicLinear<double>>("fc1");
  auto& fc2 = net.get<nn::BasicLinear<double>>("fc2");
  zero_row(fc1.weight, 1);       // dead in, bias non-zero: sigmoid(b) folded into fc2's bias
  zero_row(fc1.weight, 3);
  set_bias(fc1.bias, 3, 0.0);    // dead in, bias 0: sigmoid(0) = 0.5, folded too
  zero_column(fc2.weight, 4);    // fc1's unit 4 is never read: dead out
  zero_row(fc2.weight, 0);       // fc2's unit 0: dead in, tanh(b) folded into fc3's bias
  const auto pruned = nn::prune_dead_units(net);
  const auto& p1 = pruned.model.get<nn::BasicLinear<double>>("fc1");
  const auto& p2 = pruned.model.get<nn::BasicLinear<double>>("fc2");
  const auto& p3 = pruned.model.get<nn::BasicLinear<double>>("fc3");
  EXPECT_EQ(xg::shape_str(p1.weight.value()), "(2, 6)");
  EXPECT_EQ(xg::shape_str(p1.bias.value()), "(2)");
  EXPECT_EQ(xg::shape_str(p2.weight.value()), "(3, 2)");
  EXPECT_EQ(xg::shape_str(p3.weight.value()), "(3, 3)");
  EXPECT_EQ(pruned.model.names(), net.names());
  ASSERT_EQ(pruned.report.layers.size(), 2u);
  EXPECT_EQ(pruned.report.layers[0].name, "fc1");
  EXPECT_EQ(pruned.report.layers[0].dead_in, 2u);
  EXPECT_EQ(pruned.report.layers[0].dead_out, 1u);
  EXPECT_EQ(pruned.report.layers[0].kept, 2u);
  EXPECT_EQ(pruned.report.layers[1].dead_in, 1u);
  EXPECT_EQ(pruned.report.hidden_units_before, 9u);
  EXPECT_EQ(pruned.report.hidden_units_after, 5u);
  EXPECT_EQ(pruned.report.parameters_before, net.parameter_count());
  EXPECT_EQ(pruned.report.parameters_after, pruned.model.parameter_count());
  EXPECT_EQ(pruned.report.parameters_after, 2u * 7 + 3 * 3 + 3 * 4);
  nn::BasicSequential<double> small = pruned.model;
  // in double: agreement to double rounding
  EXPECT_LT(max_relative_difference(net, small, xtgrad_test::uniform({32, 6}, 2, -3, 3)), 1e-14);
}

TEST(PruneDeadUnits, SharesNothingWithTheOriginal) {
  xg::Rng rng(1);
  nn::BasicSequential<double> net = mlp<double>(rng);
  zero_row(net.get<nn::BasicLinear<double>>("fc1").weight, 0);
  const xg::TensorOf<double> before = net.get<nn::BasicLinear<double>>("fc2").bias.value();
  auto pruned = nn::prune_dead_units(net);
  xtgrad_test::expect_tensor_near(net.get<nn::BasicLinear<double>>("fc2").bias.value(), before, 0.0);  // folded into the copy only
  auto w = pruned.model.get<nn::BasicLinear<double>>("fc3").weight;
  w.mutable_value().data()[0] += 1;
  EXPECT_NE(w.value().data()[0], net.get<nn::BasicLinear<double>>("fc3").weight.value().data()[0]);
}

TEST(PruneDeadUnits, NothingDeadGivesAnEqualModel) {
  xg::Rng rng(4);
  nn::BasicSequential<float> net = mlp<float>(rng);
  auto pruned = nn::prune_dead_units(net);
  EXPECT_EQ(pruned.report.hidden_units_after, pruned.report.hidden_units_before);
  EXPECT_EQ(pruned.report.parameters_after, pruned.report.parameters_before);
  EXPECT_EQ(max_relative_difference(net, pruned.model, uniform_f({8, 6}, 5)), 0.0);
}

TEST(PruneDeadUnits, LeNetDropsFiltersAndTheNextLayersInputChannels) {
  xg::Rng rng(7);
  nn::Sequential net = nn::lenet5(rng);
  auto& conv1 = net.get<nn::Conv2d>("conv1");
  auto& conv2 = net.get<nn::Conv2d>("conv2");
  auto& fc1 = net.get<nn::Linear>("fc1");
  auto& fc2 = net.get<nn::Linear>("fc2");
  zero_row(conv1.weight, 1);  // relu(b) folded into conv2's bias (conv2 has no padding)
  set_bias(conv1.bias, 1, 0.2);
  zero_row(conv1.weight, 4);
  set_bias(conv1.bias, 4, -0.2);  // relu(−0.2) = 0: nothing to fold
  for (std::size_t f : {3, 7, 10}) zero_row(conv2.weight, f);  // 25 columns each of fc1 go
  set_bias(conv2.bias, 7, 0.3);
  for (std::size_t u : {0, 50, 119}) zero_row(fc1.weight, u);
  zero_row(fc2.weight, 5);
  const auto pruned = nn::prune_dead_units(net);
  const auto& m = pruned.model;
  EXPECT_EQ(xg::shape_str(m.get<nn::Conv2d>("conv1").weight.value()), "(4, 1, 5, 5)");
  EXPECT_EQ(xg::shape_str(m.get<nn::Conv2d>("conv2").weight.value()), "(13, 4, 5, 5)");
  EXPECT_EQ(xg::shape_str(m.get<nn::Conv2d>("conv2").bias.value()), "(13)");
  EXPECT_EQ(xg::shape_str(m.get<nn::Linear>("fc1").weight.value()), "(117, 325)");
  EXPECT_EQ(xg::shape_str(m.get<nn::Linear>("fc2").weight.value()), "(83, 117)");
  EXPECT_EQ(xg::shape_str(m.get<nn::Linear>("fc3").weight.value()), "(10, 83)");
  EXPECT_EQ(pruned.report.hidden_units_before, 6u + 16 + 120 + 84);
  EXPECT_EQ(pruned.report.hidden_units_after, 4u + 13 + 117 + 83);
  EXPECT_EQ(pruned.report.parameters_after, m.parameter_count());
  // float: the same logits to float rounding, the same predicted digits
  const xg::Tensor x = uniform_f({64, 1, 28, 28}, 8);
  nn::Sequential small = m;
  EXPECT_LT(max_relative_difference(net, small, x), 1e-5);
  EXPECT_EQ(argmax_rows(net, x), argmax_rows(small, x));
}

TEST(PruneDeadUnits, LeNetInDoubleAgreesToDoubleRounding) {
  xg::Rng rng(9);
  nn::BasicSequential<double> net = nn::lenet5<double>(rng);
  zero_row(net.get<nn::BasicConv2d<double>>("conv1").weight, 2);
  set_bias(net.get<nn::BasicConv2d<double>>("conv1").bias, 2, 0.5);
  zero_row(net.get<nn::BasicConv2d<double>>("conv2").weight, 0);
  set_bias(net.get<nn::BasicConv2d<double>>("conv2").bias, 0, 0.5);
  auto pruned = nn::prune_dead_units(net);
  EXPECT_EQ(pruned.report.layers[0].dead_in, 1u);
  EXPECT_EQ(pruned.report.layers[1].dead_in, 1u);
  EXPECT_LT(max_relative_difference(net, pruned.model, xtgrad_test::uniform({4, 1, 28, 28}, 10, -1, 1)), 1e-13);
}

TEST(PruneDeadUnits, AConstantIntoAPaddedConvIsKeptAndCounted) {
  xg::Rng rng(11);
  nn::BasicSequential<double> net;
  net.add("conv1", nn::BasicConv2d<double>(2, 3, 3, rng))
      .add("relu", nn::BasicReLU<double>())
      .add("conv2", nn::BasicConv2d<double>(3, 2, 3, rng, xg::Conv2dOptions().set_padding(1)));
  zero_row(net.get<nn::BasicConv2d<double>>("conv1").weight, 0);
  set_bias(net.get<nn::BasicConv2d<double>>("conv1").bias, 0, 0.4);   // relu(0.4) ≠ 0, padded next: kept
  zero_row(net.get<nn::BasicConv2d<double>>("conv1").weight, 2);
  set_bias(net.get<nn::BasicConv2d<double>>("conv1").bias, 2, -0.4);  // relu(−0.4) = 0: removed
  auto pruned = nn::prune_dead_units(net);
  EXPECT_EQ(pruned.report.layers[0].stuck, 1u);
  EXPECT_EQ(pruned.report.layers[0].dead_in, 1u);
  EXPECT_EQ(xg::shape_str(pruned.model.get<nn::BasicConv2d<double>>("conv2").weight.value()), "(2, 2, 3, 3)");
  EXPECT_LT(max_relative_difference(net, pruned.model, xtgrad_test::uniform({2, 2, 7, 7}, 12, -1, 1)), 1e-14);
}

TEST(PruneDeadUnits, ALayerWhoseUnitsAllDiedKeepsOne) {
  xg::Rng rng(16);
  nn::BasicSequential<double> net = mlp<double>(rng);
  for (std::size_t u = 0; u < 5; ++u) zero_row(net.get<nn::BasicLinear<double>>("fc1").weight, u);
  auto pruned = nn::prune_dead_units(net);
  EXPECT_EQ(xg::shape_str(pruned.model.get<nn::BasicLinear<double>>("fc1").weight.value()), "(1, 6)");
  EXPECT_EQ(pruned.report.layers[0].dead_in, 4u);
  EXPECT_EQ(pruned.report.layers[0].stuck, 1u);
  EXPECT_LT(max_relative_difference(net, pruned.model, xtgrad_test::uniform({8, 6}, 17, -3, 3)), 1e-14);
}

TEST(PruneDeadUnits, UnitsThroughASoftmaxAreNotTouched) {
  xg::Rng rng(13);
  nn::BasicSequential<double> net;
  net.add("fc1", nn::BasicLinear<double>(4, 3, rng)).add("sm", nn::BasicSoftmax<double>()).add("fc2", nn::BasicLinear<double>(3, 2, rng));
  zero_row(net.get<nn::BasicLinear<double>>("fc1").weight, 1);
  auto pruned = nn::prune_dead_units(net);
  EXPECT_TRUE(pruned.report.layers.empty());
  EXPECT_EQ(pruned.report.parameters_after, pruned.report.parameters_before);
}

TEST(PruneDeadUnits, AnUnsupportedLayerIsNamed) {
  xg::Rng rng(14);
  nn::BasicSequential<double> net;
  net.add("fc1", nn::BasicLinear<double>(4, 3, rng)).add("bn", nn::BasicBatchNorm1d<double>(3)).add("fc2", nn::BasicLinear<double>(3, 2, rng));
  expect_throws_with<std::invalid_argument>([&] { nn::prune_dead_units(net); }, {"prune_dead_units", "'bn'", "BatchNorm1d"});
}

TEST(PruneDeadUnits, HiddenUnitsCountsUnitsWithANextLayer) {
  xg::Rng rng(15);
  EXPECT_EQ(nn::hidden_units(mlp<float>(rng)), 9u);
  EXPECT_EQ(nn::hidden_units(nn::lenet5(rng)), 6u + 16 + 120 + 84);
}
