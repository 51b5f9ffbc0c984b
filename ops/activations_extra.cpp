#include "xtgrad/ops/activations_extra.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "xtgrad/core/grad_mode.hpp"
#include "xtgrad/core/xt.hpp"
#include "xtgrad/ops/activations.hpp"
#include "xtgrad/ops/pointwise.hpp"
#include "xtgrad/ops/shape_checks.hpp"

namespace xtgrad {
namespace {

// σ(v) without overflow: 1/(1 + e^−v) for v ≥ 0, e^v/(1 + e^v) otherwise.
template <class Scalar>
Scalar sigmoid_of(Scalar v) {
  const Scalar e = std::exp(-std::abs(v));
  return v >= 0 ? Scalar(1) / (Scalar(1) + e) : e / (Scalar(1) + e);
}

// ln(1 + e^v) without overflow: max(v, 0) + ln(1 + e^−|v|).
template <class Scalar>
Scalar softplus_of(Scalar v) {
  return std::max(v, Scalar(0)) + std::log1p(std::exp(-std::abs(v)));
}

// σ(e) in a backward formula: 1/(1 + e^−e) as an expression (e^−e = ∞ gives 0), or the sigmoid op.
template <class E, class = std::enable_if_t<xt::is_xexpression<std::decay_t<E>>::value>>
auto logistic(E&& e) {
  using Scalar = typename std::decay_t<E>::value_type;
  return Scalar(1) / (Scalar(1) + xt::exp(-std::forward<E>(e)));
}
template <class Scalar>
BasicVariable<Scalar> logistic(const BasicVariable<Scalar>& v) {
  return sigmoid(v);
}

template <class Scalar>
constexpr Scalar kInvSqrt2 = Scalar(0.70710678118654752440);
template <class Scalar>
constexpr Scalar kInvSqrt2Pi = Scalar(0.39894228040143267794);

// Φ(x) = ½(1 + erf(x/√2)), the standard normal CDF: an expression over a Tensor, an op over a
// Variable (dΦ/dx = φ(x) = e^(−x²/2)/√(2π)), so gelu's derivative can be differentiated again.
template <class Scalar>
auto normal_cdf(const TensorOf<Scalar>& x) {
  return Scalar(0.5) * (Scalar(1) + xt::erf(x * kInvSqrt2<Scalar>));
}
template <class Scalar>
BasicVariable<Scalar> normal_cdf(const BasicVariable<Scalar>& x) {
  return pointwise("normal_cdf", x,
                   [](Scalar v) { return Scalar(0.5) * (Scalar(1) + std::erf(v * kInvSqrt2<Scalar>)); },
                   [](const auto& g, const auto& x, const auto&) {
                     return g * exp(Scalar(-0.5) * square(x)) * kInvSqrt2Pi<Scalar>;
                   });
}

}  // namespace

template <class Scalar>
BasicVariable<Scalar> softplus(const BasicVariable<Scalar>& x, double beta, double threshold) {
  if (!(beta > 0)) {
    throw std::invalid_argument("softplus: beta must be positive, got " + std::to_string(beta) + " (input " +
                                shape_str(x.value()) + ")");
  }
  const Scalar b = static_cast<Scalar>(beta), t = static_cast<Scalar>(threshold);
  return pointwise("softplus", x, [b, t](Scalar v) { return b * v > t ? v : softplus_of(b * v) / b; },
                   [b, t](const auto& g, const auto& x, const auto&) {
                     // dx = g where βx > threshold, else g·σ(βx)
                     return select_where(value_of(x) * b > t, g, g * logistic(x * b));
                   });
}

template <class Scalar>
BasicVariable<Scalar> leaky_relu(const BasicVariable<Scalar>& x, double negative_slope) {
  const Scalar s = static_cast<Scalar>(negative_slope);
  return pointwise("leaky_relu", x, [s](Scalar v) { return v > 0 ? v : s * v; },
                   [s](const auto& g, const auto& x, const auto&) {
                     // dx = g·(x > 0 ? 1 : slope)
                     return g * constant_like(g, xt::where(value_of(x) > Scalar(0), Scalar(1), s));
                   },
                   kElementwiseGrain);
}

template <class Scalar>
BasicVariable<Scalar> elu(const BasicVariable<Scalar>& x, double alpha) {
  const Scalar a = static_cast<Scalar>(alpha);
  return pointwise("elu", x, [a](Scalar v) { return v > 0 ? v : a * std::expm1(v); },
                   [a](const auto& g, const auto& x, const auto& y) {
                     // dx = g where x > 0, else g·αeˣ = g·(y + α) (NaN stays NaN)
                     return select_where(value_of(x) > Scalar(0), g, g * (y + a));
                   });
}

template <class Scalar>
BasicVariable<Scalar> gelu(const BasicVariable<Scalar>& x, GeluApproximation approximate) {
  if (approximate == GeluApproximation::tanh) {
    // u = √(2/π)(x + c·x³), y = ½x(1 + tanh u), dy/dx = ½(1 + t) + ½x(1 − t²)·√(2/π)(1 + 3c·x²)
    constexpr Scalar k = Scalar(0.79788456080286535588), c = Scalar(0.044715);
    return pointwise(
        "gelu_tanh", x, [](Scalar v) { return Scalar(0.5) * v * (Scalar(1) + std::tanh(k * (v + c * v * v * v))); },
        [k = k, c = c](const auto& g, const auto& x, const auto&) {
          return g * (Scalar(0.5) * (Scalar(1) + tanh(k * (x + c * x * x * x))) +
                      Scalar(0.5) * x * (Scalar(1) - square(tanh(k * (x + c * x * x * x)))) * k *
                          (Scalar(1) + Scalar(3) * c * square(x)));
        });
  }
  // y = x·Φ(x), Φ(x) = ½(1 + erf(x/√2)), by the SIMD erf (ops/simd_math); dy/dx = Φ(x) + x·φ(x),
  // φ(x) = e^(−x²/2)/√(2π). Φ from the forward's erf is kept for backward (when x needs a
  // gradient), which then evaluates only the exp.
  using Node = BasicNode<Scalar>;
  TensorOf<Scalar> y = empty_like(x.value());
  if (!(x.requires_grad() && is_grad_enabled())) {
    gelu_into(x.value(), y);
    return make_result("gelu", std::move(y), {x}, [](Node&) {});
  }
  TensorOf<Scalar> cdf = empty_like(x.value());
  gelu_cdf_into(x.value(), y, cdf);
  return make_result("gelu", std::move(y), {x}, [cdf = SavedTensor(std::move(cdf))](Node& self) {
    if (!self.parent_requires_grad(0)) return;
    if (self.grad_node) {  // create_graph: Φ as an op, differentiable again
      backward_unary(self, [](const auto& g, const auto& x, const auto&) {
        return g * (normal_cdf(x) + x * exp(Scalar(-0.5) * square(x)) * kInvSqrt2Pi<Scalar>);
      });
      return;
    }
    const TensorOf<Scalar>& x = self.parent_value(0);
    add_expr_to_parent(self, 0, self.grad * (cdf.get() + x * exp(Scalar(-0.5) * square(x)) * kInvSqrt2Pi<Scalar>),
                       kExpGrain);
  });
}

template <class Scalar>
BasicVariable<Scalar> silu(const BasicVariable<Scalar>& x) {
  // dy/dx = σ + x·σ(1 − σ) = σ·(1 − y) + y
  return pointwise("silu", x, [](Scalar v) { return v * sigmoid_of(v); },
                   [](const auto& g, const auto& x, const auto& y) { return g * (logistic(x) * (Scalar(1) - y) + y); });
}

template <class Scalar>
BasicVariable<Scalar> hardtanh(const BasicVariable<Scalar>& x, double min_val, double max_val) {
  using Tensor = TensorOf<Scalar>;
  if (min_val > max_val) {
    throw std::invalid_argument("hardtanh: min_val " + std::to_string(min_val) + " is greater than max_val " +
                                std::to_string(max_val) + " (input " + shape_str(x.value()) + ")");
  }
  const Scalar l = static_cast<Scalar>(min_val), h = static_cast<Scalar>(max_val);
  return pointwise("hardtanh", x, [l, h](Scalar v) { return v < l ? l : (v > h ? h : v); },
                   [l, h](const auto& g, const auto& x, const auto&) {
                     // dx = g·[l < x < h] (bounds excluded)
                     const Tensor& v = value_of(x);
                     return g * constant_like(g, xt::where(v > l && v < h, Scalar(1), Scalar(0)));
                   },
                   kElementwiseGrain);
}

template <class Scalar>
BasicVariable<Scalar> log_sigmoid(const BasicVariable<Scalar>& x) {
  // dx = g·σ(−x)
  return pointwise("log_sigmoid", x, [](Scalar v) { return std::min(v, Scalar(0)) - std::log1p(std::exp(-std::abs(v))); },
                   [](const auto& g, const auto& x, const auto&) { return g * logistic(-x); });
}

// float and double, the precisions the library is built for
template <class Scalar>
BasicVariable<Scalar> relu6(const BasicVariable<Scalar>& x) {
  return hardtanh(x, 0.0, 6.0);
}

template <class Scalar>
BasicVariable<Scalar> mish(const BasicVariable<Scalar>& x) {
  return x * tanh(softplus(x));
}

#define XTGRAD_INSTANTIATE(T)                                                  \
  template BasicVariable<T> softplus(const BasicVariable<T>&, double, double); \
  template BasicVariable<T> leaky_relu(const BasicVariable<T>&, double);       \
  template BasicVariable<T> elu(const BasicVariable<T>&, double);              \
  template BasicVariable<T> gelu(const BasicVariable<T>&, GeluApproximation);  \
  template BasicVariable<T> silu(const BasicVariable<T>&);                     \
  template BasicVariable<T> hardtanh(const BasicVariable<T>&, double, double); \
  template BasicVariable<T> log_sigmoid(const BasicVariable<T>&);             \
  template BasicVariable<T> relu6(const BasicVariable<T>&);                   \
  template BasicVariable<T> mish(const BasicVariable<T>&);
XTGRAD_INSTANTIATE(float)
XTGRAD_INSTANTIATE(double)
#undef XTGRAD_INSTANTIATE

}  // namespace xtgrad
