#include "xtgrad/ops/activations_extra.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "xtgrad/ops/pointwise.hpp"
#include "xtgrad/ops/shape_checks.hpp"

namespace xtgrad {
inline namespace XTGRAD_ABI {
namespace {

// σ(v) without overflow: 1/(1 + e^−v) for v ≥ 0, e^v/(1 + e^v) otherwise.
Scalar sigmoid_of(Scalar v) {
  const Scalar e = std::exp(-std::abs(v));
  return v >= 0 ? Scalar(1) / (Scalar(1) + e) : e / (Scalar(1) + e);
}

// ln(1 + e^v) without overflow: max(v, 0) + ln(1 + e^−|v|).
Scalar softplus_of(Scalar v) { return std::max(v, Scalar(0)) + std::log1p(std::exp(-std::abs(v))); }

}  // namespace

Variable softplus(const Variable& x, double beta, double threshold) {
  if (!(beta > 0)) {
    throw std::invalid_argument("softplus: beta must be positive, got " + std::to_string(beta) + " (input " +
                                shape_str(x.value()) + ")");
  }
  const Scalar b = static_cast<Scalar>(beta), t = static_cast<Scalar>(threshold);
  return pointwise(
      "softplus", x, [b, t](Scalar v) { return b * v > t ? v : softplus_of(b * v) / b; },
      [b, t](Scalar v, Scalar) { return b * v > t ? Scalar(1) : sigmoid_of(b * v); });
}

Variable leaky_relu(const Variable& x, double negative_slope) {
  const Scalar s = static_cast<Scalar>(negative_slope);
  return pointwise(
      "leaky_relu", x, [s](Scalar v) { return v > 0 ? v : s * v; },
      [s](Scalar v, Scalar) { return v > 0 ? Scalar(1) : s; });
}

Variable elu(const Variable& x, double alpha) {
  const Scalar a = static_cast<Scalar>(alpha);
  return pointwise(
      "elu", x, [a](Scalar v) { return v > 0 ? v : a * std::expm1(v); },
      [a](Scalar v, Scalar) { return v > 0 ? Scalar(1) : a * std::exp(v); });
}

Variable gelu(const Variable& x, GeluApproximation approximate) {
  if (approximate == GeluApproximation::tanh) {
    // u = √(2/π)(x + c·x³), y = ½x(1 + tanh u), dy/dx = ½(1 + t) + ½x(1 − t²)·√(2/π)(1 + 3c·x²)
    constexpr Scalar k = Scalar(0.79788456080286535588), c = Scalar(0.044715);
    return pointwise(
        "gelu_tanh", x, [](Scalar v) { return Scalar(0.5) * v * (Scalar(1) + std::tanh(k * (v + c * v * v * v))); },
        [](Scalar v, Scalar) {
          const Scalar t = std::tanh(k * (v + c * v * v * v));
          return Scalar(0.5) * (Scalar(1) + t) +
                 Scalar(0.5) * v * (Scalar(1) - t * t) * k * (Scalar(1) + 3 * c * v * v);
        });
  }
  // y = x·Φ(x), Φ(x) = ½(1 + erf(x/√2)); dy/dx = Φ(x) + x·φ(x), φ(x) = e^(−x²/2)/√(2π)
  constexpr Scalar inv_sqrt2 = Scalar(0.70710678118654752440), inv_sqrt_2pi = Scalar(0.39894228040143267794);
  return pointwise(
      "gelu", x, [](Scalar v) { return Scalar(0.5) * v * (Scalar(1) + std::erf(v * inv_sqrt2)); },
      [](Scalar v, Scalar) {
        return Scalar(0.5) * (Scalar(1) + std::erf(v * inv_sqrt2)) + v * inv_sqrt_2pi * std::exp(Scalar(-0.5) * v * v);
      });
}

Variable silu(const Variable& x) {
  return pointwise(
      "silu", x, [](Scalar v) { return v * sigmoid_of(v); },
      [](Scalar v, Scalar) {
        const Scalar s = sigmoid_of(v);
        return s * (Scalar(1) + v * (Scalar(1) - s));
      });
}

Variable hardtanh(const Variable& x, double min_val, double max_val) {
  if (min_val > max_val) {
    throw std::invalid_argument("hardtanh: min_val " + std::to_string(min_val) + " is greater than max_val " +
                                std::to_string(max_val) + " (input " + shape_str(x.value()) + ")");
  }
  const Scalar l = static_cast<Scalar>(min_val), h = static_cast<Scalar>(max_val);
  return pointwise(
      "hardtanh", x, [l, h](Scalar v) { return v < l ? l : (v > h ? h : v); },
      [l, h](Scalar v, Scalar) { return v > l && v < h ? Scalar(1) : Scalar(0); });
}

Variable log_sigmoid(const Variable& x) {
  return pointwise(
      "log_sigmoid", x, [](Scalar v) { return std::min(v, Scalar(0)) - std::log1p(std::exp(-std::abs(v))); },
      [](Scalar v, Scalar) { return sigmoid_of(-v); });
}

}  // namespace XTGRAD_ABI
}  // namespace xtgrad
