// nn layers: Linear's value and layout, Sequential's composition, names and gradient, and
// each activation module against its op. The modules train in float (nn::Linear is
// BasicLinear<float>); gradients are checked numerically on the double instances.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "test_util.hpp"
#include "xtgrad/nn/nn.hpp"

namespace {

using xtgrad::Rng;
using Tensor = xtgrad::TensorOf<float>;
using Variable = xtgrad::BasicVariable<float>;
using Tensor64 = xtgrad::TensorOf<double>;
using Variable64 = xtgrad::BasicVariable<double>;
using xtgrad::nn::Linear;
using xtgrad_test::expect_tensor_near;
using xtgrad_test::reshaped;
using xtgrad_test::uniform;

Tensor64 uniform64(const xtgrad::Shape& shape, std::uint64_t seed) {
  Rng rng(seed);
  return xtgrad::rand_uniform<double>(shape, rng, -1.0, 1.0);
}

// gradcheck of f at `inputs`, in double; the checker's report is printed on failure.
void expect_gradcheck64(const xtgrad::GradcheckFunction& f, const std::vector<Tensor64>& inputs) {
  const xtgrad::GradcheckReport report = xtgrad::gradcheck(f, inputs);
  EXPECT_TRUE(report.ok) << report.message;
}

TEST(Linear, WeightIsOutByInAndBiasStartsAtZero) {
  Rng rng(1);
  Linear fc(5, 3, rng);
  EXPECT_EQ(xtgrad::shape_str(fc.weight.value()), "(3, 5)");  // PyTorch's layout
  EXPECT_EQ(xtgrad::shape_str(fc.bias.value()), "(3)");
  for (std::size_t i = 0; i < fc.bias.size(); ++i) EXPECT_EQ(fc.bias.value()(i), 0.0);
  // glorot_uniform by default: within ±√(6/(5+3)), and not all zero.
  const double a = std::sqrt(6.0 / 8.0);
  double abs_sum = 0;
  for (std::size_t i = 0; i < fc.weight.size(); ++i) {
    EXPECT_LE(std::abs(fc.weight.value().data()[i]), a);
    abs_sum += std::abs(fc.weight.value().data()[i]);
  }
  EXPECT_GT(abs_sum, 0.0);
}

TEST(Linear, CustomInitializerIsUsed) {
  Rng rng(2);
  Linear fc(2, 2, rng, [](const xtgrad::Shape& s, Rng&) {
    Tensor t = xtgrad::nn::zeros(s);
    t.fill(0.5);
    return t;
  });
  expect_tensor_near(fc.weight.value(), reshaped(Tensor({0.5, 0.5, 0.5, 0.5}), {2, 2}));
}

TEST(Linear, ForwardIsXTimesWTransposedPlusB) {
  Rng rng(3);
  Linear fc(3, 2, rng);
  fc.weight.mutable_value() = reshaped(Tensor({1.0, 0.5, -1.0, -2.0, 3.0, 4.0}), {2, 3});  // (out, in)
  fc.bias.mutable_value() = Tensor({0.25, -0.75});
  const Variable x(reshaped(Tensor({1.0, 2.0, 3.0, -1.0, 0.0, 2.0}), {2, 3}));
  // row 0: [1·1 + 2·0.5 + 3·(−1), 1·(−2) + 2·3 + 3·4] + b = [−1, 16] + b
  // row 1: [−1·1 + 0 + 2·(−1), −1·(−2) + 0 + 2·4]    + b = [−3, 10] + b
  const Tensor expected = reshaped(Tensor({-0.75, 15.25, -2.75, 9.25}), {2, 2});
  expect_tensor_near(fc(x).value(), expected, 1e-5);
}

TEST(Linear, PyTorchInitDrawsWeightAndBiasWithinOneOverRootIn) {
  Rng rng(5);
  Linear fc(16, 4, rng, xtgrad::nn::LinearOptions().init(xtgrad::nn::LinearInit::pytorch));
  const double bound = 1.0 / std::sqrt(16.0);
  for (const Variable& p : {fc.weight, fc.bias}) {
    double abs_max = 0;
    for (std::size_t i = 0; i < p.size(); ++i) abs_max = std::max(abs_max, double(std::abs(p.value().data()[i])));
    EXPECT_LE(abs_max, bound);
    EXPECT_GT(abs_max, 0.5 * bound);  // U(±bound) over 64 (or 4) draws reaches past half of it
  }
}

TEST(Linear, WithoutBiasHasOnlyAWeight) {
  Rng rng(6);
  Linear fc(3, 2, rng, xtgrad::nn::LinearOptions().bias(false));
  ASSERT_EQ(fc.named_parameters().size(), 1u);
  EXPECT_EQ(fc.named_parameters()[0].first, "weight");
  EXPECT_FALSE(fc.bias.defined());
  fc.weight.mutable_value() = reshaped(Tensor({1.0, 0.5, -1.0, -2.0, 3.0, 4.0}), {2, 3});
  const Variable x(reshaped(Tensor({1.0, 2.0, 3.0}), {1, 3}));
  expect_tensor_near(fc(x).value(), reshaped(Tensor({-1.0, 16.0}), {1, 2}), 1e-6);
}

TEST(Linear, ForwardRejectsWrongInputWidth) {
  Rng rng(4);
  Linear fc(3, 2, rng);
  EXPECT_THROW(fc(Variable(xtgrad::nn::zeros({2, 4}))), std::invalid_argument);
}

TEST(Linear, AcceptsLeadingAxesAndFoldsThemIntoRows) {
  Rng rng(5);
  Linear fc(4, 3, rng);
  fc.bias.mutable_value() = Tensor({0.5f, -1.0f, 0.25f});
  const Tensor x = uniform({2, 3, 4}, 6, -1.0, 1.0);
  const Tensor y = fc(Variable(x)).value();
  EXPECT_EQ(xtgrad::shape_str(y), "(2, 3, 3)");
  const Tensor flat = fc(Variable(reshaped(x, {6, 4}))).value();
  expect_tensor_near(reshaped(y, {6, 3}), flat, 0.0);
  // the gradient, in double, through the module's own forward
  xtgrad::nn::BasicLinear<double> fc64(4, 3, rng);
  expect_gradcheck64(
      [&](const std::vector<Variable64>& v) {
        fc64.weight = v[1];
        fc64.bias = v[2];
        return fc64(v[0]);
      },
      {uniform64({2, 1, 3, 4}, 7), fc64.weight.value(), uniform64({3}, 8)});
}

// The reference composition the Sequential below must equal: tanh(σ(x·W1ᵀ + b1)·W2ᵀ + b2).
template <class T>
xtgrad::BasicVariable<T> reference_mlp(const std::vector<xtgrad::BasicVariable<T>>& v) {
  return xtgrad::tanh(xtgrad::linear(xtgrad::sigmoid(xtgrad::linear(v[0], v[1], v[2])), v[3], v[4]));
}

TEST(Sequential, GradcheckOfTheCompositionItComputes) {
  const std::vector<Tensor64> inputs{uniform({4, 3}, 11, -1.0, 1.0), uniform({5, 3}, 12, -1.0, 1.0),
                                     uniform({5}, 13, -0.5, 0.5), uniform({2, 5}, 14, -1.0, 1.0),
                                     uniform({2}, 15, -0.5, 0.5)};
  expect_gradcheck64(reference_mlp<double>, inputs);
}

TEST(Sequential, OutputEqualsTheComposition) {
  Rng rng(20);
  Linear fc1(3, 5, rng), fc2(5, 2, rng);
  xtgrad::nn::Sequential net;
  net.add(fc1).add(xtgrad::nn::Sigmoid()).add(fc2).add(xtgrad::nn::Tanh());
  EXPECT_EQ(net.size(), 4u);
  const Variable x(uniform({6, 3}, 21, -2.0, 2.0));
  const Variable y = net(x);
  const Variable ref = reference_mlp<float>({x, fc1.weight, fc1.bias, fc2.weight, fc2.bias});
  expect_tensor_near(y.value(), ref.value(), 1e-6);

  // Same gradients w.r.t. the parameters as the composition: the Sequential holds fc1 and fc2's nodes.
  xtgrad::sum(y).backward();
  const Tensor dw1 = fc1.weight.grad(), dw2 = fc2.weight.grad();
  net.zero_grad();
  xtgrad::sum(reference_mlp<float>({x, fc1.weight, fc1.bias, fc2.weight, fc2.bias})).backward();
  expect_tensor_near(fc1.weight.grad(), dw1, 1e-6);
  expect_tensor_near(fc2.weight.grad(), dw2, 1e-6);
}

TEST(Sequential, GradcheckWithRespectToItsInput) {
  Rng rng(25);
  xtgrad::nn::BasicSequential<double> net;
  net.add(xtgrad::nn::BasicLinear<double>(3, 5, rng))
      .add(xtgrad::nn::BasicSigmoid<double>())
      .add(xtgrad::nn::BasicLinear<double>(5, 2, rng))
      .add(xtgrad::nn::BasicTanh<double>());
  expect_gradcheck64([&](const std::vector<Variable64>& v) { return net(v[0]); }, {uniform({4, 3}, 26, -1.0, 1.0)});
}

TEST(Sequential, ChildrenAreNamedByPosition) {
  Rng rng(30);
  xtgrad::nn::Sequential net;
  net.add(Linear(3, 5, rng)).add(xtgrad::nn::Sigmoid()).add(Linear(5, 2, rng)).add(xtgrad::nn::Tanh());
  std::vector<std::string> names;
  for (const auto& [name, _] : net.named_parameters()) names.push_back(name);
  EXPECT_EQ(names, (std::vector<std::string>{"0.weight", "0.bias", "2.weight", "2.bias"}));
  EXPECT_EQ(net.parameter_count(), std::size_t(3 * 5 + 5 + 5 * 2 + 2));
}

TEST(Sequential, EmptyIsTheIdentity) {
  xtgrad::nn::Sequential net;
  const Tensor x = uniform({2, 3}, 31, -1.0, 1.0);
  expect_tensor_near(net(Variable(x)).value(), x, 0.0);
}

// Each activation module gives exactly its op's value.
TEST(Activations, EachModuleEqualsItsOp) {
  const Variable x(uniform({3, 4}, 40, -3.0, 3.0));
  expect_tensor_near(xtgrad::nn::Sigmoid()(x).value(), xtgrad::sigmoid(x).value(), 0.0);
  expect_tensor_near(xtgrad::nn::Tanh()(x).value(), xtgrad::tanh(x).value(), 0.0);
  expect_tensor_near(xtgrad::nn::ReLU()(x).value(), xtgrad::relu(x).value(), 0.0);
  expect_tensor_near(xtgrad::nn::Softmax()(x).value(), xtgrad::softmax(x).value(), 0.0);
  expect_tensor_near(xtgrad::nn::Softmax(0)(x).value(), xtgrad::softmax(x, 0).value(), 0.0);
  expect_tensor_near(xtgrad::nn::Affine(2.0, -1.0)(x).value(), xtgrad::affine(x, 2.0, -1.0).value(), 0.0);
  expect_tensor_near(xtgrad::nn::Affine()(x).value(), x.value(), 0.0);
}

TEST(Activations, AffineTwoOneIsTwoXPlusOne) {
  const Tensor x = reshaped(Tensor({-1.5, 0.0, 2.0, 3.25}), {2, 2});
  const Tensor expected = reshaped(Tensor({-2.0, 1.0, 5.0, 7.5}), {2, 2});
  expect_tensor_near(xtgrad::nn::Affine(2, 1)(Variable(x)).value(), expected, 1e-6);
}

TEST(Activations, ModulesHaveNoParameters) {
  EXPECT_EQ(xtgrad::nn::Sigmoid().parameter_count(), 0u);
  EXPECT_EQ(xtgrad::nn::Affine(2, 1).named_parameters().size(), 0u);
}

}  // namespace

// ---- Sequential access, Flatten, LogSoftmax ----------------------------------------------

namespace {

using xtgrad::nn::Sequential;
using xtgrad_test::expect_throws_with;

TEST(Sequential, StoredLayersAreReachableByIndexAndName) {
  Rng rng(50);
  Sequential net;
  net.add("fc1", Linear(3, 4, rng)).add(xtgrad::nn::ReLU()).add("out", Linear(4, 2, rng));
  EXPECT_EQ(net.names(), (std::vector<std::string>{"fc1", "1", "out"}));
  std::vector<std::string> names;
  for (const auto& [name, _] : net.named_parameters()) names.push_back(name);
  EXPECT_EQ(names, (std::vector<std::string>{"fc1.weight", "fc1.bias", "out.weight", "out.bias"}));
  // The reference is the stored layer: a change through it is what forward uses.
  Linear& out = net.get<Linear>("out");
  EXPECT_EQ(&out, &net.at<Linear>(2));
  EXPECT_EQ(&net["out"], &net[2]);
  EXPECT_EQ(out.weight.node(), net.named_parameters()[2].second.node());
  out.weight.mutable_value().fill(0.0);
  out.bias.mutable_value() = Tensor({1.5, -2.0});
  const Tensor y = net(Variable(uniform({3, 3}, 51, -1.0, 1.0))).value();
  expect_tensor_near(y, reshaped(Tensor({1.5, -2.0, 1.5, -2.0, 1.5, -2.0}), {3, 2}), 0.0);
}

TEST(Sequential, ModuleCopiedBeforeAddSharesParametersAndMode) {
  Rng rng(52);
  Linear fc(2, 2, rng);
  xtgrad::nn::Dropout drop(0.5);
  Sequential net;
  net.add(fc).add(drop);
  EXPECT_EQ(net.at<Linear>(0).weight.node(), fc.weight.node());
  net.eval();
  EXPECT_FALSE(drop.is_training());
}

TEST(Sequential, BadIndexNameOrTypeIsAClearError) {
  Rng rng(53);
  Sequential net;
  net.add("fc", Linear(2, 2, rng));
  expect_throws_with<std::out_of_range>([&] { net[1]; }, {"index 1", "1 layers"});
  expect_throws_with<std::invalid_argument>([&] { net["nope"]; }, {"'nope'", "'fc'"});
  expect_throws_with<std::invalid_argument>([&] { net.at<xtgrad::nn::ReLU>(0); }, {"layer 0", "Linear"});
  expect_throws_with<std::invalid_argument>([&] { net.add("fc", xtgrad::nn::ReLU()); }, {"'fc'"});
  expect_throws_with<std::invalid_argument>([&] { net.add("a.b", xtgrad::nn::ReLU()); }, {"'a.b'"});
}

TEST(Flatten, KeepsTheBatchAxisAndFlattensTheRest) {
  Tensor x = uniform({2, 3, 2, 2}, 54, -1.0, 1.0);
  const Variable y = xtgrad::nn::Flatten()(Variable(x));
  EXPECT_EQ(xtgrad::shape_str(y.value()), "(2, 12)");
  for (std::size_t i = 0; i < x.size(); ++i) EXPECT_EQ(y.value().data()[i], x.data()[i]);
  expect_gradcheck64([](const std::vector<Variable64>& v) { return xtgrad::nn::BasicFlatten<double>()(v[0]); },
                     {Tensor64(x)});
  expect_throws_with<std::invalid_argument>([] { xtgrad::nn::Flatten()(Variable(Tensor(1.0))); }, {"Flatten", "()"});
}

TEST(Activations, LogSoftmaxModuleEqualsItsOp) {
  const Variable x(uniform({3, 4}, 55, -3.0, 3.0));
  expect_tensor_near(xtgrad::nn::LogSoftmax()(x).value(), xtgrad::log_softmax(x).value(), 0.0);
  expect_tensor_near(xtgrad::nn::LogSoftmax(0)(x).value(), xtgrad::log_softmax(x, 0).value(), 0.0);
}

}  // namespace

// ---- float and double models in one program ----------------------------------------------

namespace {

using xtgrad::nn::BasicLinear;
using xtgrad::nn::BasicSequential;
using xtgrad::nn::BasicTanh;

// mse(net(x), y) for either precision.
template <class T>
xtgrad::BasicVariable<T> mse_of(BasicSequential<T>& net, const xtgrad::BasicVariable<T>& x,
                                const xtgrad::BasicVariable<T>& y) {
  return xtgrad::mse(net(x), y);
}

// p ← p − lr·∂L/∂p for every parameter (plain gradient descent, no optimizer).
template <class T>
void descend(const std::vector<xtgrad::BasicVariable<T>>& params, double lr) {
  for (auto p : params) p.mutable_value() -= static_cast<T>(lr) * p.grad();
}

// A BasicSequential<double> and a Sequential (float) live side by side: started from the same
// parameters (rounded to float) and stepped on the same data, they follow the same path to
// float precision; the double one's loss passes a gradcheck w.r.t. its input.
TEST(Sequential, FloatAndDoubleModelsInOneProgramTrainAlike) {
  Rng rng(60);
  BasicSequential<double> net64;
  net64.add(BasicLinear<double>(3, 5, rng)).add(BasicTanh<double>()).add(BasicLinear<double>(5, 2, rng));
  xtgrad::nn::Sequential net32;
  net32.add(Linear(3, 5, rng)).add(xtgrad::nn::Tanh()).add(Linear(5, 2, rng));
  auto p64 = net64.parameters();
  auto p32 = net32.parameters();
  ASSERT_EQ(p64.size(), p32.size());
  for (std::size_t i = 0; i < p32.size(); ++i) p32[i].mutable_value() = Tensor(p64[i].value());

  const Tensor64 x64 = uniform({8, 3}, 61, -1.0, 1.0), y64 = uniform({8, 2}, 62, -1.0, 1.0);
  const Variable64 x(x64), y(y64);
  const Variable xf{Tensor(x64)}, yf{Tensor(y64)};
  const double lr = 0.2;
  double first_loss = 0, last_loss = 0;
  for (int step = 0; step < 6; ++step) {
    const Variable64 loss64 = mse_of(net64, x, y);
    const Variable loss32 = mse_of(net32, xf, yf);
    EXPECT_NEAR(loss32.item(), loss64.item(), 1e-5) << "step " << step;
    (step == 0 ? first_loss : last_loss) = loss64.item();
    net64.zero_grad();
    net32.zero_grad();
    loss64.backward();
    loss32.backward();
    descend(p64, lr);
    descend(p32, lr);
  }
  EXPECT_LT(last_loss, first_loss);  // the steps did train
  for (std::size_t i = 0; i < p32.size(); ++i) expect_tensor_near(p32[i].value(), Tensor(p64[i].value()), 1e-5);

  // Both gradients at the trained parameters: the double one against central differences
  // (gradcheck), the float one against the double one, to float precision.
  net64.zero_grad();
  net32.zero_grad();
  mse_of(net64, x, y).backward();
  mse_of(net32, xf, yf).backward();
  for (std::size_t i = 0; i < p32.size(); ++i) expect_tensor_near(p32[i].grad(), Tensor(p64[i].grad()), 1e-5);
  expect_gradcheck64([&](const std::vector<Variable64>& v) { return mse_of(net64, v[0], y); }, {x64});
}

TEST(Sequential, DoubleLayersShowTheirPlainNames) {
  Rng rng(63);
  BasicSequential<double> net;
  net.add("fc", BasicLinear<double>(2, 2, rng)).add("act", BasicTanh<double>());
  EXPECT_EQ(net.type_name(), "Sequential");
  EXPECT_EQ(net["fc"].type_name(), "Linear");
  EXPECT_EQ(net.at<BasicTanh<double>>(1).type_name(), "Tanh");
}

}  // namespace
