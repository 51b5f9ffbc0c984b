// nn::Module (BasicModule<float>): named parameters and children, name checks, aliasing
// copies, zero_grad, counts; the mode and the tree (ModuleBase) for float and double models.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "test_util.hpp"
#include "xtgrad/nn/nn.hpp"

namespace {

using xtgrad::Rng;
using Tensor = xtgrad::TensorOf<float>;
using Variable = xtgrad::BasicVariable<float>;
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
  EXPECT_EQ(xtgrad::shape_str(params[0].second.value()), "(4, 3)");  // (out, in), PyTorch's layout
  EXPECT_EQ(xtgrad::shape_str(params[1].second.value()), "(4)");
  EXPECT_EQ(xtgrad::shape_str(params[2].second.value()), "(2, 4)");
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

// ---- train/eval mode, named_modules, buffers ----------------------------------------------

namespace {

using xtgrad::nn::Dropout;
using xtgrad::nn::Sequential;

// A model with a member child, a nested Sequential and a member Dropout, as users write them.
struct Nested : Module {
  Linear fc;
  Dropout drop;
  Sequential head;
  explicit Nested(Rng& rng)
      : fc(register_module("fc", Linear(3, 4, rng))),
        drop(register_module("drop", Dropout(0.5, 1))),
        head(register_module("head", Sequential().add(Linear(4, 2, rng)).add("act", xtgrad::nn::Tanh()))) {}
  Variable forward(const Variable& x) override { return head(drop(fc(x))); }
};

TEST(ModuleMode, NewModulesTrainAndEvalReachesEveryDescendantAndTheMembers) {
  Rng rng(40);
  Nested model(rng);
  EXPECT_TRUE(model.is_training());
  model.eval();
  for (auto& [name, m] : model.named_modules()) EXPECT_FALSE(m->is_training()) << "'" << name << "'";
  // The members the forward pass calls are copies of the registered children: they see it too.
  EXPECT_FALSE(model.fc.is_training());
  EXPECT_FALSE(model.drop.is_training());
  EXPECT_FALSE(model.head[1].is_training());
  model.train();
  for (auto& [name, m] : model.named_modules()) EXPECT_TRUE(m->is_training()) << "'" << name << "'";
  EXPECT_TRUE(model.drop.is_training());
  model.head.eval();  // a subtree alone
  EXPECT_TRUE(model.is_training());
  EXPECT_FALSE(model.head.at<Linear>(0).is_training());
  EXPECT_TRUE(model.fc.is_training());
}

TEST(ModuleMode, NamedModulesWalksTheTreeDepthFirstInRegistrationOrder) {
  Rng rng(41);
  Nested model(rng);
  std::vector<std::string> names;
  for (auto& [name, m] : model.named_modules()) names.push_back(name);
  EXPECT_EQ(names, (std::vector<std::string>{"", "fc", "drop", "head", "head.0", "head.act"}));
  EXPECT_EQ(model.named_modules()[0].second, &model);
  EXPECT_EQ(model.named_modules()[1].second->type_name(), "Linear");
  EXPECT_EQ(model.named_modules()[2].second->type_name(), "Dropout");
}

TEST(ModuleMode, NamedModulesAndEvalReachTheTipOfADeepChain) {
  Sequential root;
  Sequential* tip = &root;
  for (int i = 0; i < 2000; ++i) {
    tip->add(Sequential());
    tip = &tip->at<Sequential>(0);
  }
  const auto all = root.named_modules();
  ASSERT_EQ(all.size(), 2001u);
  EXPECT_EQ(all.back().second, tip);
  root.eval();
  EXPECT_FALSE(tip->is_training());
}

TEST(ModuleMode, EvalModeGuardRestoresEachModulesOwnMode) {
  Rng rng(42);
  Nested model(rng);
  model.head.eval();
  {
    xtgrad::nn::EvalModeGuard guard(model);
    EXPECT_FALSE(model.is_training());
    EXPECT_FALSE(model.fc.is_training());
  }
  EXPECT_TRUE(model.is_training());
  EXPECT_TRUE(model.fc.is_training());
  EXPECT_FALSE(model.head.is_training());
}

// Exposes register_buffer.
struct WithBuffer : Module {
  Variable count;
  Linear fc;
  explicit WithBuffer(Rng& rng) : fc(register_module("fc", Linear(1, 1, rng))) {
    count = register_buffer("count", Tensor({0.0}));
  }
  Variable forward(const Variable& x) override { return fc(x); }
};

TEST(ModuleBuffers, AreNamedAliasedAndNotParameters) {
  Rng rng(43);
  WithBuffer m(rng);
  const auto buffers = m.named_buffers();
  ASSERT_EQ(buffers.size(), 1u);
  EXPECT_EQ(buffers[0].first, "count");
  EXPECT_FALSE(buffers[0].second.requires_grad());
  EXPECT_EQ(buffers[0].second.node(), m.count.node());
  EXPECT_EQ(m.named_parameters().size(), 2u);  // fc.weight, fc.bias only
  // A copy aliases the buffer.
  WithBuffer copy = m;
  copy.count.mutable_value()(0) = 3.0;
  EXPECT_EQ(m.count.value()(0), 3.0);
}

}  // namespace

// ---- one tree walk and one mode for both precisions --------------------------------------

namespace {

// A user's model written once for either precision, as the library's own layers are.
template <class T>
struct BasicTwoLayer : xtgrad::nn::BasicModule<T> {
  using Variable = xtgrad::BasicVariable<T>;
  xtgrad::nn::BasicLinear<T> fc1, fc2;
  explicit BasicTwoLayer(Rng& rng)
      : fc1(this->register_module("fc1", xtgrad::nn::BasicLinear<T>(3, 4, rng))),
        fc2(this->register_module("fc2", xtgrad::nn::BasicLinear<T>(4, 2, rng))) {}
  Variable forward(const Variable& x) override { return fc2(xtgrad::sigmoid(fc1(x))); }
};

TEST(ModuleBase, FloatAndDoubleModelsShareTheTreeWalkAndTheModeGuard) {
  Rng rng(50);
  BasicTwoLayer<float> f(rng);
  BasicTwoLayer<double> d(rng);
  std::vector<std::string> names_f, names_d;
  for (auto& [name, m] : f.named_modules()) names_f.push_back(name + ":" + m->type_name());
  for (auto& [name, m] : d.named_modules()) names_d.push_back(name + ":" + m->type_name());
  EXPECT_EQ(names_f, (std::vector<std::string>{":TwoLayer", "fc1:Linear", "fc2:Linear"}));
  EXPECT_EQ(names_d, names_f);
  EXPECT_EQ(d.parameter_count(), f.parameter_count());
  {
    xtgrad::nn::EvalModeGuard guard_f(f), guard_d(d);
    EXPECT_FALSE(f.fc2.is_training());
    EXPECT_FALSE(d.fc2.is_training());
  }
  EXPECT_TRUE(f.fc2.is_training());
  EXPECT_TRUE(d.fc2.is_training());
  // Each computes in its own precision.
  const xtgrad::BasicVariable<double> y = d(xtgrad::BasicVariable<double>(xtgrad_test::uniform({2, 3}, 51, -1.0, 1.0)));
  EXPECT_EQ(xtgrad::shape_str(y.value()), "(2, 2)");
  EXPECT_EQ(d.named_parameters()[0].first, "fc1.weight");
}

}  // namespace
