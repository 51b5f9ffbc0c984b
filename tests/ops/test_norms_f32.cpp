// The penalties' sums in the float build: blocks summed in float must stay within a few
// float ulps of the exact (double) sum, on a size that is not a multiple of the block.
#include <gtest/gtest.h>

#include <cmath>

#include "xtgrad/core/core.hpp"
#include "xtgrad/ops/norms.hpp"

namespace xtgrad {
namespace {

TEST(NormsF32, SumsOfManyTermsMatchADoubleReference) {
  Rng rng(17);
  const Variable w(randn({100003}, rng, 0.0, 0.05));
  double abs_sum = 0, square_sum = 0;
  for (std::size_t i = 0; i < w.size(); ++i) {
    const double x = w.value().data()[i];
    abs_sum += std::abs(x);
    square_sum += x * x;
  }
  EXPECT_NEAR(l1(w).item(), abs_sum, 1e-6 * abs_sum);
  EXPECT_NEAR(squared_l2(w).item(), square_sum, 1e-6 * square_sum);
}

}  // namespace
}  // namespace xtgrad
