// The float library's exp at arguments whose exponential is a subnormal float (below
// ln(FLT_MIN) ≈ −87.34): the same value at every position, not 0 in the SIMD lanes. The SIMD
// erf (and GELU through it) against std::erf, to 1 ulp, at every position.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

#include "test_util.hpp"
#include "xtgrad/ops/simd_math.hpp"

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

// Distance in units in the last place between two finite floats (0 for equal, ±0 alike).
std::int64_t ulp_distance(float a, float b) {
  const auto ordered = [](float f) {
    std::int32_t i;
    std::memcpy(&i, &f, sizeof i);
    return i < 0 ? -std::int64_t(i & 0x7fffffff) : std::int64_t(i);
  };
  return std::llabs(ordered(a) - ordered(b));
}

TEST(ErfF32, WithinOneUlpOfStdErfAndOfTheRoundedErfOverASweepOfFloats) {
  // every 64th float of [−6, 6] (≈ 33 million, all exponents of the range, subnormals included),
  // then the edges: ±0, ±tiny, ±huge, ±∞
  std::vector<float> xs;
  for (float x = -6.0f; x <= 6.0f; ) {
    xs.push_back(x);
    for (int k = 0; k < 64; ++k) x = std::nextafter(x, 7.0f);
  }
  for (float x : {0.0f, -0.0f, std::numeric_limits<float>::denorm_min(), -std::numeric_limits<float>::denorm_min(),
                  1e-30f, -1e-30f, 1e30f, -1e30f, std::numeric_limits<float>::infinity(),
                  -std::numeric_limits<float>::infinity()}) {
    xs.push_back(x);
  }
  Tensor t = Tensor::from_shape({xs.size()});
  std::copy(xs.begin(), xs.end(), t.data());
  Tensor out = Tensor::from_shape({xs.size()});
  xtgrad::erf_into(t, out);
  // against glibc's erff and against the correctly rounded erf (erf in double, rounded)
  std::int64_t worst = 0, worst_rounded = 0;
  float worst_at = 0, worst_rounded_at = 0;
  for (std::size_t i = 0; i < xs.size(); ++i) {
    const std::int64_t d = ulp_distance(out(i), std::erf(xs[i]));
    if (d > worst) worst = d, worst_at = xs[i];
    const std::int64_t r = ulp_distance(out(i), float(std::erf(double(xs[i]))));
    if (r > worst_rounded) worst_rounded = r, worst_rounded_at = xs[i];
  }
  // odd: erf(−x) = −erf(x) to the bit, −0 included
  Tensor negated = Tensor::from_shape({xs.size()});
  for (std::size_t i = 0; i < xs.size(); ++i) negated(i) = -xs[i];
  xtgrad::erf_into(negated, negated);
  for (std::size_t i = 0; i < xs.size(); ++i) {
    const float minus = -out(i);
    ASSERT_EQ(std::memcmp(&negated(i), &minus, sizeof minus), 0) << "x = " << xs[i];
  }
  EXPECT_LE(worst, 1) << "at x = " << worst_at;
  EXPECT_LE(worst_rounded, 1) << "at x = " << worst_rounded_at;
  // NaN stays NaN
  Tensor nan = filled({3}, std::numeric_limits<double>::quiet_NaN());
  xtgrad::erf_into(nan, nan);
  EXPECT_TRUE(std::isnan(nan(2)));
}

TEST(ErfF32, SameValueAtEveryPositionOfEverySize) {
  // a full SIMD batch and the padded tail go through the same kernel
  for (float x : {-2.2010603f, -0.47691399f, 0.3f, 1.7f, 3.9f}) {
    const Tensor one = filled({1}, x);
    Tensor ref = Tensor::from_shape({1});
    xtgrad::erf_into(one, ref);
    for (std::size_t size = 1; size <= 40; ++size) {
      Tensor t = filled({size}, 0.25);
      Tensor out = Tensor::from_shape({size});
      for (std::size_t at = 0; at < size; ++at) {
        t(at) = x;
        xtgrad::erf_into(t, out);
        ASSERT_EQ(out(at), ref(0)) << "x " << x << " at " << at << " of " << size;
        t(at) = 0.25f;
      }
    }
  }
}

TEST(GeluF32, MatchesXPhiOfXComputedInDouble) {
  // y = ½x(1 + erf(x/√2)): the float result within a few roundings of the double value (the
  // absolute term covers 1 + erf's cancellation for very negative x, as in PyTorch's float gelu)
  const Tensor x = uniform({4096}, 31, -8, 8);
  const Tensor y = xtgrad::gelu(Variable(x)).value();
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double v = x(i);
    const double exact = 0.5 * v * (1.0 + std::erf(v / std::sqrt(2.0)));
    const double eps = std::numeric_limits<float>::epsilon();
    ASSERT_NEAR(y(i), exact, 2 * eps * std::abs(exact) + eps * std::abs(v)) << "x = " << v;
  }
}

}  // namespace
}  // namespace xtgrad_test
