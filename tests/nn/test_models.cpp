// nn/models: nn::lenet5's layers, names, shapes and parameter count, its options, and that it
// trains (a fixed batch is fitted).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "test_util.hpp"
#include "xtgrad/nn/nn.hpp"

namespace {

using xtgrad::Rng;
using Tensor = xtgrad::TensorOf<float>;
using Variable = xtgrad::BasicVariable<float>;
namespace nn = xtgrad::nn;

TEST(LeNet5, LayersNamesShapesAndParameterCount) {
  Rng rng(1);
  nn::Sequential net = nn::lenet5(rng);
  EXPECT_EQ(net.names(), (std::vector<std::string>{"conv1", "relu1", "pool1", "conv2", "relu2", "pool2", "flatten",
                                                   "fc1", "relu3", "fc2", "relu4", "fc3"}));
  std::vector<std::string> params;
  for (const auto& [name, _] : net.named_parameters()) params.push_back(name);
  EXPECT_EQ(params, (std::vector<std::string>{"conv1.weight", "conv1.bias", "conv2.weight", "conv2.bias", "fc1.weight",
                                              "fc1.bias", "fc2.weight", "fc2.bias", "fc3.weight", "fc3.bias"}));
  EXPECT_EQ(net.parameter_count(), 61706u);
  const auto rows = nn::summarize(net, {2, 1, 28, 28});
  ASSERT_EQ(rows.size(), 12u);
  const std::vector<std::string> shapes{"(2, 6, 28, 28)", "(2, 6, 28, 28)", "(2, 6, 14, 14)", "(2, 16, 10, 10)",
                                        "(2, 16, 10, 10)", "(2, 16, 5, 5)", "(2, 400)", "(2, 120)", "(2, 120)",
                                        "(2, 84)", "(2, 84)", "(2, 10)"};
  for (std::size_t i = 0; i < rows.size(); ++i) EXPECT_EQ(xtgrad::shape_str(rows[i].output_shape), shapes[i]) << i;
  EXPECT_EQ(xtgrad::shape_str(net.get<nn::Conv2d>("conv1").weight.value()), "(6, 1, 5, 5)");
}

TEST(LeNet5, DoubleInstanceHasTheSameLayers) {
  Rng rng(1);
  nn::BasicSequential<double> net = nn::lenet5<double>(rng);
  EXPECT_EQ(net.parameter_count(), 61706u);
  EXPECT_EQ(net["conv1"].type_name(), "Conv2d");
  const auto rows = nn::summarize(net, {1, 1, 28, 28});
  ASSERT_EQ(rows.size(), 12u);
  EXPECT_EQ(xtgrad::shape_str(rows.back().output_shape), "(1, 10)");
}

TEST(LeNet5, OptionsSetTheClassesAndTheLinearInit) {
  Rng rng(2);
  nn::LeNet5Options options;
  options.classes = 3;
  options.linear_init = [](const xtgrad::Shape& s, Rng&) {
    Tensor t = nn::zeros(s);
    t.fill(0.25);
    return t;
  };
  nn::Sequential net = nn::lenet5(rng, options);
  EXPECT_EQ(xtgrad::shape_str(net.get<nn::Linear>("fc3").weight.value()), "(3, 84)");
  for (const char* fc : {"fc1", "fc2", "fc3"}) {
    const Tensor& w = net.get<nn::Linear>(fc).weight.value();
    for (std::size_t i = 0; i < w.size(); ++i) ASSERT_EQ(w.data()[i], 0.25) << fc;
  }
  xtgrad_test::expect_throws_with<std::invalid_argument>([&] { nn::lenet5(rng, {0, {}}); }, {"lenet5", "classes"});
}

TEST(LeNet5, SameSeedSameWeights) {
  Rng a(7), b(7);
  const auto pa = nn::lenet5(a).named_parameters(), pb = nn::lenet5(b).named_parameters();
  ASSERT_EQ(pa.size(), pb.size());
  for (std::size_t i = 0; i < pa.size(); ++i) xtgrad_test::expect_tensor_near(pa[i].second.value(), pb[i].second.value(), 0.0);
}

TEST(LeNet5, FitsAFixedBatch) {
  Rng rng(3);
  nn::Sequential net = nn::lenet5(rng, {4, {}});
  const Variable x(xtgrad_test::uniform({16, 1, 28, 28}, 4, -1.0, 1.0));
  std::vector<std::size_t> labels(16);
  for (std::size_t i = 0; i < labels.size(); ++i) labels[i] = i % 4;
  nn::SGD sgd(net.named_parameters(), 0.02, 0.9);
  double first = 0, last = 0;
  for (int step = 0; step < 30; ++step) {
    Variable loss = xtgrad::cross_entropy(net(x), labels);
    if (step == 0) first = loss.item();
    last = loss.item();
    sgd.zero_grad();
    loss.backward();
    sgd.step();
  }
  EXPECT_LT(last, 0.5 * first) << "first " << first << ", last " << last;
}

}  // namespace
