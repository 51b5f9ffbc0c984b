// Helpers shared by the op tests: gradient checks, kink-free random inputs, message checks.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

#include "xtgrad/core/core.hpp"
#include "xtgrad/ops/ops.hpp"

namespace xtgrad_test {

// The precision this test program runs in: XTGRAD_TEST_SCALAR, set per program by
// tests/CMakeLists.txt (double for the op and gradient tests, float for the nn tests).
#ifndef XTGRAD_TEST_SCALAR
#error "tests/CMakeLists.txt sets XTGRAD_TEST_SCALAR (float or double) for every test program"
#endif
using Scalar = XTGRAD_TEST_SCALAR;
using Tensor = xtgrad::TensorOf<Scalar>;
using Variable = xtgrad::BasicVariable<Scalar>;
using Node = xtgrad::BasicNode<Scalar>;
using NodePtr = xtgrad::NodePtrOf<Scalar>;
using BackwardFn = xtgrad::BasicBackwardFn<Scalar>;
using GradOptions = xtgrad::BasicGradOptions<Scalar>;
using HookHandle = xtgrad::BasicHookHandle<Scalar>;
using GradHook = xtgrad::GradHookOf<Scalar>;
using PostAccumulateGradHook = xtgrad::PostAccumulateGradHookOf<Scalar>;
using NamedParameters = xtgrad::NamedParametersOf<Scalar>;
using xtgrad::Shape;

// The checker's report, for tests that expect it to fail (a deliberately wrong backward).
inline xtgrad::GradcheckReport run_gradcheck(const xtgrad::GradcheckFunction& f, const std::vector<Tensor>& inputs,
                                             const xtgrad::GradcheckOptions& options = {}) {
  return xtgrad::gradcheck(f, inputs, options);
}

// gradcheck(f, inputs) must pass; on failure the checker's one-line report is printed.
inline void expect_gradcheck(const xtgrad::GradcheckFunction& f, const std::vector<Tensor>& inputs,
                             const xtgrad::GradcheckOptions& options = {}) {
  const xtgrad::GradcheckReport report = run_gradcheck(f, inputs, options);
  EXPECT_TRUE(report.ok) << report.message;
}

// gradgradcheck(f, inputs) must pass (second derivatives); on failure its report is printed.
inline void expect_gradgradcheck(const xtgrad::GradcheckFunction& f, const std::vector<Tensor>& inputs,
                                 const xtgrad::GradcheckOptions& options = {}) {
  const xtgrad::GradcheckReport report = xtgrad::gradgradcheck(f, inputs, options);
  EXPECT_TRUE(report.ok) << report.message;
}

// U[low, high) draws of `shape`, reproducible from `seed` (log/sqrt inputs: low ≥ 0.5).
inline Tensor uniform(const Shape& shape, std::uint64_t seed, double low, double high) {
  xtgrad::Rng rng(seed);
  return xtgrad::rand_uniform<Scalar>(shape, rng, low, high);
}

// Random signs times |x| ∈ [low, high): away from the kink at 0 of abs, relu and l1.
inline Tensor away_from_zero(const Shape& shape, std::uint64_t seed, double low = 0.2, double high = 1.5) {
  xtgrad::Rng rng(seed);
  Tensor t = xtgrad::rand_uniform<Scalar>(shape, rng, low, high);
  const Tensor sign = xtgrad::rand_uniform<Scalar>(shape, rng, -1.0, 1.0);
  for (std::size_t i = 0; i < t.size(); ++i) {
    if (sign.data()[i] < 0) t.data()[i] = -t.data()[i];
  }
  return t;
}

// `t` with its elements laid out in `shape` ({{1.0}, {2.0}} is ambiguous as a Tensor literal).
inline Tensor reshaped(Tensor t, const Shape& shape) {
  t.reshape(shape);
  return t;
}

// Same shape, and every element within `tol` of the expected one.
inline void expect_tensor_near(const Tensor& actual, const Tensor& expected, double tol = 1e-12) {
  ASSERT_EQ(xtgrad::shape_str(actual), xtgrad::shape_str(expected));
  for (std::size_t i = 0; i < actual.size(); ++i) {
    EXPECT_NEAR(actual.data()[i], expected.data()[i], tol) << "at flat index " << i;
  }
}

// A tensor of `shape` holding `values` in row-major order.
inline Tensor make_tensor(const Shape& shape, std::initializer_list<double> values) {
  Tensor t = Tensor::from_shape(shape);
  EXPECT_EQ(t.size(), values.size());
  std::copy(values.begin(), values.end(), t.data());
  return t;
}

// A tensor of `shape` with every element `value`.
inline Tensor filled(const Shape& shape, double value) {
  Tensor t = Tensor::from_shape(shape);
  std::fill(t.data(), t.data() + t.size(), static_cast<Scalar>(value));
  return t;
}

// Exactly `shape` and exactly `values` (for small integers and other exactly representable results).
inline void expect_values(const Tensor& t, const Shape& shape, std::initializer_list<double> values) {
  ASSERT_EQ(xtgrad::shape_of(t), shape);
  ASSERT_EQ(t.size(), values.size());
  std::size_t i = 0;
  for (double v : values) {
    EXPECT_EQ(t.data()[i], v) << "at flat index " << i;
    ++i;
  }
}

// Every element finite (no NaN, no ±inf).
inline void expect_all_finite(const Tensor& t) {
  for (std::size_t i = 0; i < t.size(); ++i) EXPECT_TRUE(std::isfinite(t.data()[i])) << "at flat index " << i;
}

// fn() throws exactly an E (or a subclass) whose message contains every one of `parts`.
template <class E, class Fn>
void expect_throws_with(Fn&& fn, std::initializer_list<const char*> parts) {
  try {
    fn();
  } catch (const E& e) {
    const std::string message = e.what();
    for (const char* part : parts) {
      EXPECT_NE(message.find(part), std::string::npos) << "message \"" << message << "\" lacks \"" << part << "\"";
    }
    return;
  } catch (const std::exception& e) {
    ADD_FAILURE() << "threw another exception type: " << e.what();
    return;
  }
  ADD_FAILURE() << "did not throw";
}

// Runs `f` and returns the message of the E it throws; a test failure naming `what` (and "")
// if it throws nothing. Any other exception propagates.
template <class E, class F>
std::string message_of(F&& f, const std::string& what = "the call") {
  try {
    f();
  } catch (const E& e) {
    return e.what();
  }
  ADD_FAILURE() << what << " did not throw the expected exception";
  return {};
}

}  // namespace xtgrad_test
