// softplus, leaky_relu, elu, gelu (exact and tanh), silu, hardtanh, log_sigmoid: values
// (reference values from PyTorch 1.13 in float64), gradients at the kinks, extreme inputs,
// gradient checks, argument errors.
#include <cmath>
#include <cstring>
#include <limits>
#include <stdexcept>

#include "test_util.hpp"

namespace xtgrad_test {
namespace {

using Vars = std::vector<Variable>;
using xtgrad::GeluApproximation;

const Tensor kX{-2.0, -0.5, 0.5, 1.0, 3.0};

TEST(ActivationsExtra, MatchReferenceValues) {
  const Variable x(kX);
  expect_tensor_near(xtgrad::gelu(x).value(),
                     Tensor{-0.04550026389635842, -0.15426876936299344, 0.34573123063700656, 0.841344746068543,
                            2.99595030590511},
                     1e-15);
  expect_tensor_near(xtgrad::gelu(x, GeluApproximation::tanh).value(),
                     Tensor{-0.04540230591222494, -0.15428599017485606, 0.34571400982514394, 0.8411919906082768,
                            2.996362607918227},
                     1e-15);
  expect_tensor_near(xtgrad::softplus(x).value(),
                     Tensor{0.1269280110429725, 0.4740769841801067, 0.9740769841801067, 1.3132616875182228,
                            3.048587351573742},
                     1e-15);
  expect_tensor_near(xtgrad::softplus(x, 2.0, 3.0).value(),
                     Tensor{0.009074963958904869, 0.15663084375911143, 0.6566308437591114, 1.0634640055214863, 3.0},
                     1e-15);
  expect_tensor_near(xtgrad::silu(x).value(),
                     Tensor{-0.2384058440442351, -0.1887703343990727, 0.3112296656009273, 0.7310585786300049,
                            2.8577223804672998},
                     1e-15);
  expect_tensor_near(xtgrad::log_sigmoid(x).value(),
                     Tensor{-2.1269280110429727, -0.9740769841801067, -0.4740769841801067, -0.31326168751822286,
                            -0.04858735157374206},
                     1e-15);
  expect_tensor_near(xtgrad::elu(x, 1.5).value(), Tensor{-1.296997075145081, -0.5902040104310499, 0.5, 1.0, 3.0},
                     1e-15);
  expect_tensor_near(xtgrad::leaky_relu(x, 0.1).value(), Tensor{-0.2, -0.05, 0.5, 1.0, 3.0}, 1e-15);
  expect_tensor_near(xtgrad::hardtanh(x).value(), Tensor{-1.0, -0.5, 0.5, 1.0, 1.0}, 0.0);
}

TEST(ActivationsExtra, SoftplusAndLogSigmoidAreFiniteAndExactForHugeInputs) {
  const Variable x = Variable::parameter(Tensor{1000.0, -1000.0, 40.0, -40.0});
  const Variable sp = xtgrad::softplus(x, 1.0, 1e9);  // no threshold: the stable form itself
  expect_tensor_near(sp.value(), Tensor{1000.0, std::exp(-1000.0), 40.0 + std::exp(-40.0), std::exp(-40.0)}, 1e-15);
  const Variable ls = xtgrad::log_sigmoid(x);
  expect_tensor_near(ls.value(), Tensor{0.0, -1000.0, -std::exp(-40.0), -40.0 - std::exp(-40.0)}, 1e-13);
  xtgrad::sum(sp + ls).backward();
  expect_all_finite(x.grad());
  // d softplus = σ(x), d log σ = σ(−x): they sum to 1 everywhere
  expect_tensor_near(x.grad(), Tensor{1.0, 1.0, 1.0, 1.0}, 1e-15);
}

TEST(ActivationsExtra, GradientsAtTheKinksFollowPyTorch) {
  Variable x = Variable::parameter(Tensor{0.0, -1.0, 1.0});
  xtgrad::sum(xtgrad::leaky_relu(x, 0.2)).backward();
  expect_tensor_near(x.grad(), Tensor{0.2, 0.2, 1.0}, 0.0);  // slope at 0
  x.zero_grad();
  xtgrad::sum(xtgrad::hardtanh(x)).backward();
  expect_tensor_near(x.grad(), Tensor{1.0, 0.0, 0.0}, 0.0);  // 0 at the bounds themselves
  x.zero_grad();
  xtgrad::sum(xtgrad::elu(x, 2.0)).backward();
  expect_tensor_near(x.grad(), Tensor{2.0, 2.0 * std::exp(-1.0), 1.0}, 1e-15);  // α e⁰ at 0
  x.zero_grad();
  xtgrad::sum(xtgrad::softplus(x.detach(), 1.0, 20.0) + x).backward();  // the detached path adds nothing
  expect_tensor_near(x.grad(), Tensor{1.0, 1.0, 1.0}, 0.0);
}

TEST(ActivationsExtra, SoftplusAboveTheThresholdIsLinear) {
  const Variable x = Variable::parameter(Tensor{25.0, 19.0});
  const Variable y = xtgrad::softplus(x);
  EXPECT_EQ(y.value()(0), 25.0);
  EXPECT_NEAR(y.value()(1), 19.0 + std::log1p(std::exp(-19.0)), 1e-15);
  xtgrad::sum(y).backward();
  EXPECT_EQ(x.grad()(0), 1.0);
  EXPECT_NEAR(x.grad()(1), 1.0 / (1.0 + std::exp(-19.0)), 1e-16);
}

TEST(ActivationsExtra, PassGradcheck) {
  const Tensor x = away_from_zero({3, 4}, 1, 0.1, 2.5);
  expect_gradcheck([](const Vars& v) { return xtgrad::softplus(v[0]); }, {x});
  expect_gradcheck([](const Vars& v) { return xtgrad::softplus(v[0], 3.0, 4.0); }, {x});
  expect_gradcheck([](const Vars& v) { return xtgrad::leaky_relu(v[0], 0.3); }, {x});
  expect_gradcheck([](const Vars& v) { return xtgrad::elu(v[0], 1.7); }, {x});
  expect_gradcheck([](const Vars& v) { return xtgrad::gelu(v[0]); }, {x});
  expect_gradcheck([](const Vars& v) { return xtgrad::gelu(v[0], GeluApproximation::tanh); }, {x});
  expect_gradcheck([](const Vars& v) { return xtgrad::silu(v[0]); }, {x});
  expect_gradcheck([](const Vars& v) { return xtgrad::log_sigmoid(v[0]); }, {x});
  // hardtanh away from its bounds ±0.8
  expect_gradcheck([](const Vars& v) { return xtgrad::hardtanh(v[0], -0.8, 0.8); },
                   {away_from_zero({3, 4}, 2, 0.1, 0.7)});
  expect_gradcheck([](const Vars& v) { return xtgrad::hardtanh(v[0], -0.05, 0.05); },
                   {away_from_zero({3, 4}, 3, 0.1, 2.0)});
}

// gelu keeps Φ from the forward's erf for backward when x needs a gradient: y is the same bits
// as without a gradient (gelu_into), and dx = g·(Φ + x·φ) matches the formula with Φ
// recomputed (the old backward: xsimd's erf in float) to a few roundings and the double
// formula closely, at sizes on and off the SIMD width (tail) and above the parallel grain.
template <class T>
void expect_gelu_saved_cdf_matches(std::size_t n) {
  using TensorT = xtgrad::TensorOf<T>;
  using VariableT = xtgrad::BasicVariable<T>;
  TensorT x = TensorT::from_shape({n}), g = TensorT::from_shape({n});
  for (std::size_t i = 0; i < n; ++i) {
    x.data()[i] = T(-7.0 + 14.0 * double((i * 7919) % 1009) / 1008.0);
    g.data()[i] = T(double(int((i * 31) % 17) - 8) / 5.0);
  }
  const TensorT y_plain = xtgrad::gelu(VariableT(x)).value();
  const VariableT xp = VariableT::parameter(x);
  const VariableT y = xtgrad::gelu(xp);
  y.backward(g);
  const TensorT old_dx(g * (T(0.5) * (T(1) + xt::erf(x * T(0.70710678118654752440))) +
                            x * xt::exp(T(-0.5) * x * x) * T(0.39894228040143267794)));
  const double ulp = double(std::numeric_limits<T>::epsilon());
  for (std::size_t i = 0; i < n; ++i) {
    ASSERT_EQ(std::memcmp(&y.value().data()[i], &y_plain.data()[i], sizeof(T)), 0) << "y at " << i << " of " << n;
    const double xd = double(x.data()[i]), gd = double(g.data()[i]);
    const double exact = gd * (0.5 * std::erfc(-xd / std::sqrt(2.0)) + xd * std::exp(-0.5 * xd * xd) / std::sqrt(2 * M_PI));
    const double got = double(xp.grad().data()[i]);
    const double scale = std::abs(gd) * (1.0 + std::abs(xd));
    EXPECT_NEAR(got, exact, 8 * ulp * scale) << "dx at " << i << " (x = " << xd << ")";
    EXPECT_NEAR(got, double(old_dx.data()[i]), 8 * ulp * scale) << "dx against the old backward at " << i;
  }
}

TEST(ActivationsExtra, GeluSavedCdfMatchesTheRecomputedOne) {
  for (std::size_t n : {std::size_t(1), std::size_t(13), std::size_t(64), std::size_t(70001)}) {
    expect_gelu_saved_cdf_matches<float>(n);
    expect_gelu_saved_cdf_matches<double>(n);
  }
}

TEST(ActivationsExtraErrors, BadParametersNameTheOpAndTheInputShape) {
  const Variable x(Tensor::from_shape({2, 3}));
  expect_throws_with<std::invalid_argument>([&] { xtgrad::softplus(x, 0.0); }, {"softplus", "beta", "(2, 3)"});
  expect_throws_with<std::invalid_argument>([&] { xtgrad::hardtanh(x, 1.0, -1.0); }, {"hardtanh", "min_val", "(2, 3)"});
}

// ---- relu6 and mish as ops (issue 22 §3.8) ----

TEST(ActivationsExtra, Relu6AndMishValues) {
  const Variable x(Tensor{-1.0, 0.5, 3.0, 7.0});
  expect_tensor_near(xtgrad::relu6(x).value(), Tensor{0.0, 0.5, 3.0, 6.0}, 0.0);
  // mish(x) = x·tanh(ln(1 + eˣ)); torch.nn.functional.mish(torch.tensor([-1., 0.5, 3., 7.], dtype=float64))
  expect_tensor_near(xtgrad::mish(x).value(),
                     Tensor{-0.30340146137410895, 0.3752452113048951, 2.9865350049679575, 6.999988379809741},
                     1e-12);
  const Variable p = Variable::parameter(Tensor{-1.0, 0.0, 3.0, 6.0, 7.0});
  xtgrad::sum(xtgrad::relu6(p)).backward();
  expect_tensor_near(p.grad(), Tensor{0.0, 0.0, 1.0, 0.0, 0.0}, 0.0);  // 0 at both kinks, as PyTorch
}

TEST(ActivationsExtra, Relu6AndMishPassGradcheck) {
  const Tensor x = uniform({3, 4}, 31, -3, 3);
  expect_gradcheck([](const Vars& v) { return xtgrad::mish(v[0]); }, {x});
  expect_gradcheck([](const Vars& v) { return xtgrad::mish(v[0] * 10.0); }, {x});  // past softplus' threshold
  const Tensor away = uniform({3, 4}, 32, 0.1, 5.9);  // inside (0, 6), off the kinks
  expect_gradcheck([](const Vars& v) { return xtgrad::relu6(v[0]); }, {away});
  expect_gradcheck([](const Vars& v) { return xtgrad::relu6(v[0] + 6.5); }, {away});
}

}  // namespace
}  // namespace xtgrad_test
