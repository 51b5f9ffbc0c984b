// nn/activations.hpp: each activation module gives exactly its op's value with its
// parameters, its gradient through a small Sequential passes a gradcheck (on the double
// instances, nn::BasicX<double>; the float aliases are what the other tests train),
// it shows in named_modules() and summary(), and bad constructor arguments are clear errors.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "test_util.hpp"
#include "xtgrad/nn/nn.hpp"

namespace {

using xtgrad::Rng;
using Tensor = xtgrad::TensorOf<float>;
using Variable = xtgrad::BasicVariable<float>;
using xtgrad_test::expect_tensor_near;
using xtgrad_test::expect_throws_with;
using xtgrad_test::uniform;
namespace nn = xtgrad::nn;

TEST(ActivationModules, EachModuleEqualsItsOpWithItsParameters) {
  const Variable x(uniform({4, 5}, 1, -4.0, 4.0));
  const auto same = [](const Variable& a, const Variable& b) { expect_tensor_near(a.value(), b.value(), 0.0); };
  same(nn::GELU()(x), xtgrad::gelu(x));
  same(nn::GELU(xtgrad::GeluApproximation::tanh)(x), xtgrad::gelu(x, xtgrad::GeluApproximation::tanh));
  same(nn::SiLU()(x), xtgrad::silu(x));
  same(nn::ELU()(x), xtgrad::elu(x));
  same(nn::ELU(0.3)(x), xtgrad::elu(x, 0.3));
  same(nn::LeakyReLU()(x), xtgrad::leaky_relu(x));
  same(nn::LeakyReLU(0.2)(x), xtgrad::leaky_relu(x, 0.2));
  same(nn::Softplus()(x), xtgrad::softplus(x));
  same(nn::Softplus(2.0, 3.0)(x), xtgrad::softplus(x, 2.0, 3.0));  // βx > 3 on part of x: the linear branch
  same(nn::Hardtanh()(x), xtgrad::hardtanh(x));
  same(nn::Hardtanh(-2.0, 0.5)(x), xtgrad::hardtanh(x, -2.0, 0.5));
  same(nn::ReLU6()(x * 2.0), xtgrad::hardtanh(x * 2.0, 0.0, 6.0));  // x·2 reaches past 6
  same(nn::LogSigmoid()(x), xtgrad::log_sigmoid(x));
  same(nn::Mish()(x), x * xtgrad::tanh(xtgrad::softplus(x)));
}

TEST(ActivationModules, ParametersAreKeptAndReadable) {
  EXPECT_EQ(nn::LeakyReLU(0.2).negative_slope(), 0.2);
  EXPECT_EQ(nn::LeakyReLU().negative_slope(), 0.01);
  EXPECT_EQ(nn::ELU(0.5).alpha(), 0.5);
  EXPECT_EQ(nn::Softplus(2, 5).beta(), 2.0);
  EXPECT_EQ(nn::Softplus(2, 5).threshold(), 5.0);
  EXPECT_EQ(nn::Hardtanh(-3, 2).min_val(), -3.0);
  EXPECT_EQ(nn::ReLU6().max_val(), 6.0);
  EXPECT_EQ(nn::GELU(xtgrad::GeluApproximation::tanh).approximate(), xtgrad::GeluApproximation::tanh);
  EXPECT_EQ(nn::Mish().parameter_count(), 0u);
}

// A model Linear(3, 6) → act → Linear(6, 2) in double and its pre-activations on `x`.
struct SmallNet {
  nn::BasicSequential<double> net;
  nn::BasicLinear<double> fc1;
  template <class Act>
  SmallNet(Act act, Rng& rng) : fc1(3, 6, rng) {
    net.add("fc1", fc1).add("act", act).add("fc2", nn::BasicLinear<double>(6, 2, rng));
  }
};

// gradcheck of x ↦ net(x) in double, where no pre-activation lies within 1e-3 of a kink
// (the central difference would straddle it). `act` is a BasicX<double>.
template <class Act>
void expect_gradcheck_through_sequential(Act act, const std::vector<double>& kinks, std::uint64_t seed) {
  using Variable64 = xtgrad::BasicVariable<double>;
  Rng rng(seed);
  SmallNet s(act, rng);
  const xtgrad::TensorOf<double> x = uniform({5, 3}, seed + 1, -2.5, 2.5);
  const xtgrad::TensorOf<double> h = s.fc1(Variable64(x)).value();
  for (std::size_t i = 0; i < h.size(); ++i)
    for (double k : kinks) ASSERT_GT(std::abs(h.data()[i] - k), 1e-3) << "seed " << seed << ": input near a kink";
  const xtgrad::GradcheckReport report =
      xtgrad::gradcheck([&](const std::vector<Variable64>& v) { return s.net(v[0]); }, {x});
  EXPECT_TRUE(report.ok) << report.message;
  // The parameters of the layers around it get gradients through it.
  s.net.zero_grad();
  xtgrad::sum(s.net(Variable64(x))).backward();
  double g = 0;
  for (std::size_t i = 0; i < s.fc1.weight.grad().size(); ++i) g += std::abs(s.fc1.weight.grad().data()[i]);
  EXPECT_GT(g, 0.0);
}

TEST(ActivationModules, GradcheckThroughASequentialForEach) {
  expect_gradcheck_through_sequential(nn::BasicGELU<double>(), {}, 10);
  expect_gradcheck_through_sequential(nn::BasicGELU<double>(xtgrad::GeluApproximation::tanh), {}, 11);
  expect_gradcheck_through_sequential(nn::BasicSiLU<double>(), {}, 12);
  expect_gradcheck_through_sequential(nn::BasicELU<double>(0.7), {0.0}, 13);
  expect_gradcheck_through_sequential(nn::BasicLeakyReLU<double>(0.1), {0.0}, 14);
  expect_gradcheck_through_sequential(nn::BasicSoftplus<double>(1.5, 2.0), {2.0 / 1.5}, 25);
  expect_gradcheck_through_sequential(nn::BasicHardtanh<double>(-0.5, 0.5), {-0.5, 0.5}, 16);
  expect_gradcheck_through_sequential(nn::BasicReLU6<double>(), {0.0, 6.0}, 17);
  expect_gradcheck_through_sequential(nn::BasicLogSigmoid<double>(), {}, 18);
  expect_gradcheck_through_sequential(nn::BasicMish<double>(), {}, 19);
}

TEST(ActivationModules, NamedInNamedModulesAndSummary) {
  Rng rng(30);
  nn::Sequential net;
  net.add("fc1", nn::Linear(4, 8, rng))
      .add("gelu", nn::GELU())
      .add(nn::LeakyReLU(0.2))
      .add(nn::ReLU6())
      .add(nn::Mish())
      .add("fc2", nn::Linear(8, 3, rng));
  std::vector<std::string> seen;
  for (const auto& [name, module] : net.named_modules()) seen.push_back(name + ":" + module->type_name());
  EXPECT_EQ(seen, (std::vector<std::string>{":Sequential", "fc1:Linear", "gelu:GELU", "2:LeakyReLU", "3:ReLU6",
                                            "4:Mish", "fc2:Linear"}));
  EXPECT_EQ(net.get<nn::LeakyReLU>("2").negative_slope(), 0.2);
  const auto rows = nn::summarize(net, {2, 4});
  ASSERT_EQ(rows.size(), 6u);
  EXPECT_EQ(rows[1].type, "GELU");
  EXPECT_EQ(xtgrad::shape_str(rows[1].output_shape), "(2, 8)");
  EXPECT_EQ(rows[1].parameters, 0u);
  const std::string text = nn::summary(net, {2, 4});
  EXPECT_NE(text.find("2 (LeakyReLU)"), std::string::npos) << text;
}

TEST(ActivationModules, BadArgumentsAreClearErrors) {
  const double nan = std::numeric_limits<double>::quiet_NaN(), inf = std::numeric_limits<double>::infinity();
  expect_throws_with<std::invalid_argument>([] { nn::Softplus{0.0}; }, {"Softplus", "beta", "> 0", "got 0"});
  expect_throws_with<std::invalid_argument>([] { nn::Softplus{-1.5}; }, {"Softplus", "beta", "got -1.5"});
  expect_throws_with<std::invalid_argument>([&] { nn::Softplus{nan}; }, {"Softplus", "beta", "finite", "nan"});
  expect_throws_with<std::invalid_argument>([&] { nn::Softplus{1.0, inf}; }, {"Softplus", "threshold", "finite", "inf"});
  expect_throws_with<std::invalid_argument>([] { nn::Hardtanh{1.0, -1.0}; },
                                            {"Hardtanh", "min_val 1", "greater than max_val -1"});
  expect_throws_with<std::invalid_argument>([&] { nn::Hardtanh{-inf, 1.0}; }, {"Hardtanh", "min_val", "finite"});
  expect_throws_with<std::invalid_argument>([&] { nn::Hardtanh{0.0, nan}; }, {"Hardtanh", "max_val", "finite"});
  expect_throws_with<std::invalid_argument>([&] { nn::LeakyReLU{nan}; }, {"LeakyReLU", "negative_slope", "finite"});
  expect_throws_with<std::invalid_argument>([&] { nn::ELU{inf}; }, {"ELU", "alpha", "finite", "inf"});
  EXPECT_NO_THROW(nn::Hardtanh(0.5, 0.5));  // equal bounds: a constant, as PyTorch allows
}

}  // namespace
