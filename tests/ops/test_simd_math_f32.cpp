// The float library's exp at arguments whose exponential is a subnormal float (below
// ln(FLT_MIN) ≈ −87.34): the same value at every position, not 0 in the SIMD lanes.
#include <cmath>
#include <cstddef>

#include "test_util.hpp"

namespace xtgrad_test {
namespace {

TEST(ExpPositionF32, SubnormalResultIsTheSameAtEveryPositionOfEverySize) {
  for (float x : {-88.0f, -95.5f, -103.0f}) {
    const float expected = std::exp(x);
    ASSERT_GT(expected, 0.0f);
    for (std::size_t size = 1; size <= 40; ++size) {
      for (std::size_t at = 0; at < size; ++at) {
        Tensor t = filled({size}, 0.0);
        t(at) = x;
        ASSERT_EQ(xtgrad::exp(Variable(t)).value()(at), expected) << "x " << x << " at " << at << " of " << size;
      }
    }
  }
}

TEST(LogOfSoftmaxF32, StaysFiniteWhereTheProbabilityIsSubnormal) {
  const Tensor z{{10.0f, 105.0f}, {1.0f, 2.0f}};
  EXPECT_NEAR(xtgrad::log(xtgrad::softmax(Variable(z))).value()(0, 0), -95.0f, 1e-3f);
}

}  // namespace
}  // namespace xtgrad_test
