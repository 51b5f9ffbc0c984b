// l1 and squared_l2 norms: values, gradients (with the subgradient at 0), gradient checks.
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

}  // namespace
}  // namespace xtgrad_test
