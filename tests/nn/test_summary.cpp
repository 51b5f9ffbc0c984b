// Model summary: one row per layer call with its dotted name, type, output shape and
// parameter count; members found under their registered names; modes restored; no graph.
#include <gtest/gtest.h>

#include <string>

#include "test_util.hpp"
#include "xtgrad/nn/nn.hpp"
#include "xtgrad/nn/summary.hpp"

namespace {

using xtgrad::Rng;
using Variable = xtgrad::BasicVariable<float>;
namespace nn = xtgrad::nn;

// LeNet-5-like, as a user-defined module with a nested Sequential.
struct LeNet : nn::Module {
  nn::Sequential features;
  nn::Linear fc1, fc2;
  explicit LeNet(Rng& rng)
      : features(register_module("features", nn::Sequential()
                                                 .add(nn::Conv2d(1, 6, 5, rng, {{1, 1}, {2, 2}}))
                                                 .add(nn::ReLU())
                                                 .add(nn::MaxPool2d(2))
                                                 .add(nn::Conv2d(6, 16, 5, rng))
                                                 .add(nn::ReLU())
                                                 .add(nn::MaxPool2d(2))
                                                 .add(nn::Flatten()))),
        fc1(register_module("fc1", nn::Linear(16 * 5 * 5, 120, rng))),
        fc2(register_module("fc2", nn::Linear(120, 10, rng))) {}
  Variable forward(const Variable& x) override { return fc2(xtgrad::relu(fc1(features(x)))); }
};

TEST(Summary, ListsEachLayerWithNameTypeShapeAndParameters) {
  Rng rng(1);
  LeNet net(rng);
  const auto rows = nn::summarize(net, {1, 1, 28, 28});
  ASSERT_EQ(rows.size(), 9u);
  EXPECT_EQ(rows[0].name, "features.0");
  EXPECT_EQ(rows[0].type, "Conv2d");
  EXPECT_EQ(xtgrad::shape_str(rows[0].output_shape), "(1, 6, 28, 28)");
  EXPECT_EQ(rows[0].parameters, 6u * 25 + 6);
  EXPECT_EQ(xtgrad::shape_str(rows[3].output_shape), "(1, 16, 10, 10)");
  EXPECT_EQ(rows[3].parameters, 16u * 6 * 25 + 16);
  EXPECT_EQ(rows[6].type, "Flatten");
  EXPECT_EQ(xtgrad::shape_str(rows[6].output_shape), "(1, 400)");
  EXPECT_EQ(rows[7].name, "fc1");  // a member, found by its registered copy
  EXPECT_EQ(rows[8].name, "fc2");
  EXPECT_EQ(xtgrad::shape_str(rows[8].output_shape), "(1, 10)");
  const std::string text = nn::summary(net, {2, 1, 28, 28});
  EXPECT_NE(text.find("features.3 (Conv2d)"), std::string::npos) << text;
  EXPECT_NE(text.find("(2, 16, 10, 10)"), std::string::npos) << text;
  EXPECT_NE(text.find("Total parameters: 51902"), std::string::npos) << text;
}

TEST(Summary, ADoubleModelIsSummarizedAlike) {
  Rng rng(3);
  nn::BasicSequential<double> net;
  net.add("fc", nn::BasicLinear<double>(3, 4, rng)).add(nn::BasicReLU<double>());
  const auto rows = nn::summarize(net, {2, 3});
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].name, "fc");
  EXPECT_EQ(rows[0].type, "Linear");
  EXPECT_EQ(rows[0].parameters, 16u);
  EXPECT_EQ(xtgrad::shape_str(rows[1].output_shape), "(2, 4)");
  EXPECT_NE(nn::summary(net, {2, 3}).find("Total parameters: 16"), std::string::npos);
}

TEST(Summary, CountsEachOutputsElementsAndTheirSum) {
  Rng rng(1);
  LeNet net(rng);
  const auto rows = nn::summarize(net, {2, 1, 28, 28});
  EXPECT_EQ(rows[0].output_size(), 2u * 6 * 28 * 28);
  EXPECT_EQ(rows[6].output_size(), 2u * 400);
  // conv, relu (6, 28, 28); pool (6, 14, 14); conv, relu (16, 10, 10); pool, flatten 400; fc1 120; fc2 10
  // (forward's relu between fc1 and fc2 is a function, not a module: no row)
  EXPECT_EQ(nn::total_output_size(rows), 2u * (2 * 4704 + 1176 + 2 * 1600 + 2 * 400 + 120 + 10));
  EXPECT_EQ(nn::total_output_size({}), 0u);
  const nn::LayerSummary scalar{"s", "Scalar", {}, 0};
  EXPECT_EQ(scalar.output_size(), 1u);  // a 0-d output is one value
}

TEST(Summary, RestoresModesAndLeavesRunningStatisticsAlone) {
  Rng rng(2);
  nn::Sequential net;
  net.add(nn::Linear(3, 4, rng)).add("bn", nn::BatchNorm1d(4)).add(nn::Dropout(0.5));
  net[2].eval();
  const std::string text = nn::summary(net, {2, 3});
  EXPECT_NE(text.find("and 8 buffer values"), std::string::npos) << text;
  EXPECT_TRUE(net.is_training());
  EXPECT_TRUE(net[1].is_training());
  EXPECT_FALSE(net[2].is_training());
  for (std::size_t i = 0; i < 4; ++i) EXPECT_EQ(net.get<nn::BatchNorm1d>("bn").running_mean.value()(i), 0.0);
  xtgrad_test::expect_throws_with<std::invalid_argument>([&] { nn::summary(net, {2, 5}); }, {"linear", "(2, 5)"});
}

}  // namespace
