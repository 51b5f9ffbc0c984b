// l1 and squared_l2 norms: values, gradients (with the subgradient at 0), gradient checks.
#include <cmath>
#include <limits>

#include "test_util.hpp"

namespace xtgrad_test {
namespace {

using Vars = std::vector<Variable>;

const Tensor kW{{1.0, -2.0}, {0.5, -0.25}};

TEST(L1, MatchesHandValueAsZeroDim) {
  const Variable n = xtgrad::l1(Variable(kW));
  EXPECT_EQ(n.dim(), 0u);
  EXPECT_NEAR(n.item(), 3.75, 1e-14);  // 1 + 2 + 0.5 + 0.25
}

TEST(L1, GradientIsSignWithZeroAtZero) {
  const Variable w = Variable::parameter(Tensor{{1.0, -2.0, 0.0}, {0.5, -0.25, 0.0}});
  xtgrad::l1(w).backward();
  expect_tensor_near(w.grad(), Tensor{{1.0, -1.0, 0.0}, {1.0, -1.0, 0.0}});
}

TEST(L1, PassesGradcheckAwayFromTheKink) {
  expect_gradcheck([](const Vars& v) { return xtgrad::l1(v[0]); }, {away_from_zero({3, 4}, 1)});
  expect_gradcheck([](const Vars& v) { return xtgrad::l1(v[0]) * 0.01; }, {away_from_zero({5}, 2)});
}

TEST(SquaredL2, MatchesHandValueAsZeroDim) {
  const Variable n = xtgrad::squared_l2(Variable(kW));
  EXPECT_EQ(n.dim(), 0u);
  EXPECT_NEAR(n.item(), 5.3125, 1e-14);  // 1 + 4 + 0.25 + 0.0625
}

TEST(SquaredL2, GradientIsTwiceTheWeights) {
  const Variable w = Variable::parameter(kW);
  xtgrad::squared_l2(w).backward();
  expect_tensor_near(w.grad(), Tensor{{2.0, -4.0}, {1.0, -0.5}});
}

TEST(SquaredL2, PassesGradcheck) {
  expect_gradcheck([](const Vars& v) { return xtgrad::squared_l2(v[0]); }, {uniform({3, 4}, 3, -1, 1)});
  expect_gradcheck([](const Vars& v) { return xtgrad::squared_l2(v[0]) * 0.5; }, {uniform({5}, 4, -1, 1)});
}

TEST(Norms, SumOfBothPenaltiesOverTwoParametersPassesGradcheck) {
  // the shape of an elastic-net penalty: λ₁·Σ|W| + λ₂·Σb²
  expect_gradcheck([](const Vars& v) { return xtgrad::l1(v[0]) * 0.1 + xtgrad::squared_l2(v[1]) * 0.01; },
                   {away_from_zero({3, 2}, 5), uniform({2}, 6, -1, 1)});
}

TEST(Norms, EmptyTensorHasZeroNorms) {
  const Variable empty(Tensor::from_shape({0, 3}));
  EXPECT_NEAR(xtgrad::l1(empty).item(), 0.0, 0.0);
  EXPECT_NEAR(xtgrad::squared_l2(empty).item(), 0.0, 0.0);
}

// ---- norm(x, p, axes, keepdims) (issue 22 §3.8) ----

TEST(Norm, MatchesHandValuesForEachP) {
  const Variable x(Tensor{{3.0, -4.0}, {-1.0, 2.0}});
  expect_tensor_near(xtgrad::norm(x, 2, 1).value(), Tensor{5.0, std::sqrt(5.0)}, 1e-15);
  expect_tensor_near(xtgrad::norm(x, 1, 0).value(), Tensor{4.0, 6.0}, 1e-15);
  const double inf = std::numeric_limits<double>::infinity();
  expect_tensor_near(xtgrad::norm(x, inf, 1).value(), Tensor{4.0, 2.0}, 0.0);
  expect_tensor_near(xtgrad::norm(x, -inf, 1).value(), Tensor{3.0, 1.0}, 0.0);
  expect_tensor_near(xtgrad::norm(x, 3, 1, true).value(), reshaped(Tensor{std::cbrt(91.0), std::cbrt(9.0)}, {2, 1}),
                     1e-14);
  EXPECT_NEAR(xtgrad::norm(x).item(), std::sqrt(30.0), 1e-14);  // every axis, p = 2
  EXPECT_NEAR(xtgrad::norm(x, 0.5).item(), std::pow(std::sqrt(3.0) + 2.0 + 1.0 + std::sqrt(2.0), 2.0), 1e-13);
}

TEST(Norm, PassesGradcheckAwayFromZero) {
  const Tensor x = away_from_zero({3, 4}, 12, 0.3, 1.5);
  const double inf = std::numeric_limits<double>::infinity();
  for (double p : {1.0, 2.0, 3.0, 1.5, 0.5, inf, -inf}) {
    SCOPED_TRACE(p);
    expect_gradcheck([p](const Vars& v) { return xtgrad::norm(v[0], p, 1); }, {x});
    expect_gradcheck([p](const Vars& v) { return xtgrad::norm(v[0], p, 0, true); }, {x});
  }
  expect_gradcheck([](const Vars& v) { return xtgrad::norm(v[0], 2.5); }, {x});
  expect_gradcheck([](const Vars& v) { return xtgrad::norm(v[0], 2, xtgrad::Axes{0, 1}); }, {x});
}

// In a lane of zeros the root has no derivative: the gradient there is 0, as PyTorch's (and as
// central differences give, the norm being even); other lanes as usual.
TEST(Norm, ALaneOfZerosHasGradientZero) {
  const Tensor x{{0.0, 0.0, 0.0}, {0.5, -1.0, 2.0}};
  for (double p : {2.0, 3.0, 1.5}) {
    SCOPED_TRACE(p);
    const Variable v = Variable::parameter(x);
    const Variable y = xtgrad::norm(v * 1.0, p, 1);  // through an op: a NaN would spread upstream
    EXPECT_EQ(y.value()(0), 0.0);
    xtgrad::sum(y).backward();
    for (std::size_t j = 0; j < 3; ++j) EXPECT_EQ(v.grad()(0, j), 0.0) << j;
    expect_all_finite(v.grad());
    expect_gradcheck([p](const Vars& u) { return xtgrad::norm(u[0], p, 1); }, {x});
    // (no gradgradcheck at the zero lane: the gradient x·|x|ᵖ⁻²/yᵖ⁻¹ has no derivative there)
  }
}

TEST(NormErrors, PMustBePositive) {
  const Variable x(Tensor{1.0, 2.0});
  expect_throws_with<std::invalid_argument>([&] { xtgrad::norm(x, 0.0); }, {"norm", "p", "(2)"});
  expect_throws_with<std::invalid_argument>([&] { xtgrad::norm(x, -1.0); }, {"norm", "p"});
  expect_throws_with<std::invalid_argument>([&] { xtgrad::norm(x, std::nan("")); }, {"norm", "p"});
  expect_throws_with<std::invalid_argument>([&] { xtgrad::norm(x, 2, 3); }, {"axis 3"});
}

}  // namespace
}  // namespace xtgrad_test
