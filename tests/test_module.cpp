// nn::Module: named parameters and children, name checks, aliasing copies, zero_grad, counts.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "test_util.hpp"
#include "xtgrad/nn/nn.hpp"

namespace {

using xtgrad::Rng;
using xtgrad::Tensor;
using xtgrad::Variable;
using xtgrad::nn::Linear;
using xtgrad::nn::Module;
using xtgrad_test::expect_throws_with;

// The style guide's model: two Linear members registered as fc1 and fc2.
struct TwoLayer : Module {
  Linear fc1, fc2;
  explicit TwoLayer(Rng& rng)
      : fc1(register_module("fc1", Linear(3, 4, rng))), fc2(register_module("fc2", Linear(4, 2, rng))) {}
  Variable forward(const Variable& x) override { return fc2(xtgrad::sigmoid(fc1(x))); }
};

// Exposes the protected registration calls so that each name check can be driven directly.
struct Open : Module {
  Variable forward(const Variable& x) override { return x; }
  Variable add_parameter(const std::string& name) { return register_parameter(name, Tensor({1.0, 2.0})); }
  template <class M>
  M add_module(const std::string& name, M m) {
    return register_module(name, std::move(m));
  }
};

std::vector<std::string> names_of(const Module& m) {
  std::vector<std::string> out;
  for (const auto& [name, _] : m.named_parameters()) out.push_back(name);
  return out;
}

TEST(Module, NamedParametersAreDottedInRegistrationOrder) {
  Rng rng(1);
  TwoLayer model(rng);
  EXPECT_EQ(names_of(model), (std::vector<std::string>{"fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"}));
  const auto params = model.named_parameters();
  EXPECT_EQ(xtgrad::shape_str(params[0].second.value()), "(3, 4)");
  EXPECT_EQ(xtgrad::shape_str(params[1].second.value()), "(4)");
  EXPECT_EQ(xtgrad::shape_str(params[2].second.value()), "(4, 2)");
  EXPECT_EQ(xtgrad::shape_str(params[3].second.value()), "(2)");
  for (const auto& [name, p] : params) EXPECT_TRUE(p.requires_grad()) << name;
  EXPECT_EQ(model.parameters().size(), 4u);
}

TEST(Module, OwnParametersComeBeforeChildrenAndNestingDeepens) {
  Rng rng(2);
  Open inner;
  inner.add_parameter("scale");
  inner.add_module("lin", Linear(2, 2, rng));
  Open outer;
  outer.add_parameter("a");
  outer.add_module("inner", inner);
  outer.add_parameter("b");
  EXPECT_EQ(names_of(outer),
            (std::vector<std::string>{"a", "b", "inner.scale", "inner.lin.weight", "inner.lin.bias"}));
}

TEST(Module, EmptyNameIsRejected) {
  Open m;
  expect_throws_with<std::invalid_argument>([&] { m.add_parameter(""); }, {"empty"});
  Rng rng(3);
  expect_throws_with<std::invalid_argument>([&] { m.add_module("", Linear(1, 1, rng)); }, {"empty"});
  EXPECT_TRUE(m.named_parameters().empty());
}

TEST(Module, DottedNameIsRejectedWithTheName) {
  Open m;
  expect_throws_with<std::invalid_argument>([&] { m.add_parameter("fc1.weight"); }, {"'fc1.weight'", "."});
  Rng rng(4);
  expect_throws_with<std::invalid_argument>([&] { m.add_module("a.b", Linear(1, 1, rng)); }, {"'a.b'"});
  EXPECT_TRUE(m.named_parameters().empty());
}

TEST(Module, DuplicateNameIsRejectedWithTheName) {
  Rng rng(5);
  Open m;
  m.add_parameter("w");
  m.add_module("fc", Linear(1, 1, rng));
  expect_throws_with<std::invalid_argument>([&] { m.add_parameter("w"); }, {"'w'"});
  expect_throws_with<std::invalid_argument>([&] { m.add_module("w", Linear(1, 1, rng)); }, {"'w'"});
  expect_throws_with<std::invalid_argument>([&] { m.add_parameter("fc"); }, {"'fc'"});
  expect_throws_with<std::invalid_argument>([&] { m.add_module("fc", Linear(1, 1, rng)); }, {"'fc'"});
  EXPECT_EQ(names_of(m), (std::vector<std::string>{"w", "fc.weight", "fc.bias"}));
}

TEST(Module, MemberAndRegisteredCopyShareNodes) {
  Rng rng(6);
  TwoLayer model(rng);
  auto params = model.named_parameters();
  EXPECT_EQ(params[0].second.node(), model.fc1.weight.node());
  EXPECT_EQ(params[1].second.node(), model.fc1.bias.node());
  EXPECT_EQ(params[2].second.node(), model.fc2.weight.node());
  EXPECT_EQ(params[3].second.node(), model.fc2.bias.node());
  // An update through the member is seen through named_parameters, and the other way round.
  model.fc1.weight.mutable_value()(0, 0) = 42.0;
  EXPECT_EQ(model.named_parameters()[0].second.value()(0, 0), 42.0);
  params[3].second.mutable_value()(1) = -7.0;
  EXPECT_EQ(model.fc2.bias.value()(1), -7.0);
}

TEST(Module, CopyOfAModuleAliasesItsParameters) {
  Rng rng(7);
  Linear a(2, 3, rng);
  Linear b = a;
  EXPECT_EQ(a.weight.node(), b.weight.node());
  EXPECT_EQ(a.named_parameters()[0].second.node(), b.named_parameters()[0].second.node());
  b.bias.mutable_value()(2) = 5.0;
  EXPECT_EQ(a.bias.value()(2), 5.0);
}

TEST(Module, ZeroGradClearsEveryParameter) {
  Rng rng(8);
  TwoLayer model(rng);
  const Variable x(xtgrad_test::uniform({5, 3}, 9, -1.0, 1.0));
  xtgrad::sum(model(x)).backward();
  for (const auto& [name, p] : model.named_parameters()) EXPECT_TRUE(p.has_grad()) << name;
  model.zero_grad();
  for (const auto& [name, p] : model.named_parameters()) EXPECT_FALSE(p.has_grad()) << name;
}

TEST(Module, ParameterCountSumsEveryElement) {
  Rng rng(10);
  TwoLayer model(rng);
  EXPECT_EQ(model.parameter_count(), std::size_t(3 * 4 + 4 + 4 * 2 + 2));
  Open empty;
  EXPECT_EQ(empty.parameter_count(), 0u);
}

}  // namespace
