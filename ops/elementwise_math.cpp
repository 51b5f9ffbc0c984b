#include "xtgrad/ops/elementwise_math.hpp"

#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

#include "xtgrad/core/accumulate.hpp"
#include "xtgrad/core/xt.hpp"
#include "xtgrad/ops/pointwise.hpp"
#include "xtgrad/ops/shape_checks.hpp"
#include "xtgrad/ops/simd_math.hpp"

namespace xtgrad {

template <class Scalar>
BasicVariable<Scalar> clamp(const BasicVariable<Scalar>& x, std::optional<double> lo, std::optional<double> hi) {
  using Tensor = TensorOf<Scalar>;
  if (lo && hi && *lo > *hi) {
    throw std::invalid_argument("clamp: min " + std::to_string(*lo) + " is greater than max " + std::to_string(*hi) +
                                " (input " + shape_str(x.value()) + ")");
  }
  const Scalar inf = std::numeric_limits<Scalar>::infinity();
  const Scalar l = lo ? static_cast<Scalar>(*lo) : -inf, h = hi ? static_cast<Scalar>(*hi) : inf;
  // y = l if x < l, h if x > h, else x (NaN fails both tests and stays NaN)
  return pointwise("clamp", x, [l, h](Scalar v) { return v < l ? l : (v > h ? h : v); },
                   [l, h](const auto& g, const auto& x, const auto&) {
                     // dx = g·[l ≤ x ≤ h] (0 at NaN)
                     const Tensor& v = value_of(x);
                     return g * constant_like(g, xt::where(v >= l && v <= h, Scalar(1), Scalar(0)));
                   },
                   kElementwiseGrain);
}

template <class Scalar>
BasicVariable<Scalar> where_op(const TensorOf<Scalar>& condition, const BasicVariable<Scalar>& a,
                            const BasicVariable<Scalar>& b) {
  using Tensor = TensorOf<Scalar>;
  using Node = BasicNode<Scalar>;
  // pairwise broadcastable ⇔ the three broadcast together
  check_broadcastable("where", a.value(), b.value());
  check_broadcastable("where", condition, a.value());
  check_broadcastable("where", condition, b.value());
  Tensor c = evaluate(xt::where(xt::equal(condition, Scalar(0)), Scalar(0), Scalar(1)));  // NaN counts as true
  Tensor y = evaluate(xt::where(xt::not_equal(c, Scalar(0)), a.value(), b.value()));
  return make_result("where", std::move(y), {a, b}, [c = SavedTensor(std::move(c))](Node& self) {
    // da = g·c, db = g·(1 − c) at the output shape; accumulate_grad reduces broadcast axes
    const Tensor& m = c.get();
    backward_linear(self, [&m](const auto& g) { return g * constant_like(g, m); },
                    [&m](const auto& g) { return g * constant_like(g, Scalar(1) - m); });
  });
}

template <class Scalar>
BasicVariable<Scalar> masked_fill(const BasicVariable<Scalar>& x, const NonDeduced<TensorOf<Scalar>>& mask,
                                  double value) {
  using Tensor = TensorOf<Scalar>;
  using Node = BasicNode<Scalar>;
  const Tensor& v = x.value();
  if (broadcast_shape("masked_fill", mask, v) != shape_of(v)) {
    throw std::invalid_argument("masked_fill: mask " + shape_str(mask) + " does not broadcast to the input " +
                                shape_str(v) + " (the input keeps its shape)");
  }
  // keep = 1 where mask = 0, else 0 (NaN counts as true), at x's shape
  Tensor keep = evaluate(xt::broadcast(xt::where(xt::equal(mask, Scalar(0)), Scalar(1), Scalar(0)), v.shape()));
  const Scalar fill = static_cast<Scalar>(value);
  Tensor y = evaluate(xt::where(xt::equal(keep, Scalar(1)), v, fill));
  return make_result("masked_fill", std::move(y), {x}, [keep = SavedTensor(std::move(keep))](Node& self) {
    // dx = g·keep
    const Tensor& m = keep.get();
    backward_linear(self, [&m](const auto& g) { return g * constant_like(g, m); });
  });
}

namespace {

// tril (lower = true) or triu of the last two axes of x: y = x ⊙ M, M (m, n) the 0/1 band.
template <class Scalar>
BasicVariable<Scalar> triangle(const char* op, const BasicVariable<Scalar>& x, std::int64_t k, bool lower) {
  using Tensor = TensorOf<Scalar>;
  using Node = BasicNode<Scalar>;
  const Tensor& v = x.value();
  if (v.dimension() < 2) {
    throw std::invalid_argument(std::string(op) + ": needs at least 2 axes (the matrix is the last two), got " +
                                shape_str(v));
  }
  const std::size_t rows = v.shape()[v.dimension() - 2], cols = v.shape()[v.dimension() - 1];
  Tensor band = empty_tensor<Scalar>(Shape{rows, cols});
  for (std::size_t i = 0; i < rows; ++i) {
    for (std::size_t j = 0; j < cols; ++j) {
      const std::int64_t d = std::int64_t(j) - std::int64_t(i);  // which diagonal (i, j) is on
      band(i, j) = (lower ? d <= k : d >= k) ? Scalar(1) : Scalar(0);
    }
  }
  Tensor y = evaluate(v * band);
  return make_result(op, std::move(y), {x}, [band = SavedTensor(std::move(band))](Node& self) {
    // dx = g ⊙ M (M broadcast over the leading axes)
    const Tensor& m = band.get();
    backward_linear(self, [&m](const auto& g) { return g * constant_like(g, m); });
  });
}

}  // namespace

template <class Scalar>
BasicVariable<Scalar> tril(const BasicVariable<Scalar>& x, std::int64_t k) {
  return triangle("tril", x, k, true);
}
template <class Scalar>
BasicVariable<Scalar> triu(const BasicVariable<Scalar>& x, std::int64_t k) {
  return triangle("triu", x, k, false);
}

namespace {

// max (sign = +1) or min (sign = −1) of a and b, NaN-propagating; ties split the gradient.
template <class Scalar>
BasicVariable<Scalar> extremum(const char* op, const BasicVariable<Scalar>& a, const BasicVariable<Scalar>& b,
                               Scalar sign) {
  using Tensor = TensorOf<Scalar>;
  using Node = BasicNode<Scalar>;
  check_broadcastable(op, a.value(), b.value());
  const Tensor& av = a.value();
  const Tensor& bv = b.value();
  // a wins where s·a > s·b or a is NaN; otherwise b (which is NaN if b is)
  Tensor y = evaluate(xt::where(sign * av > sign * bv || xt::isnan(av), av, bv));
  return make_result(op, std::move(y), {a, b}, [sign](Node& self) {
    // share of a: 1 where s·a > s·b, ½ where a = b, 0 where s·a < s·b (a constant); b likewise
    auto share = [sign](const Tensor& u, const Tensor& v) {
      return xt::where(sign * u > sign * v, Scalar(1), xt::where(xt::equal(u, v), Scalar(0.5), Scalar(0)));
    };
    backward_binary(
        self,
        [share](const auto& g, const auto& a, const auto& b, const auto&) {
          return g * constant_like(g, share(value_of(a), value_of(b)));
        },
        [share](const auto& g, const auto& a, const auto& b, const auto&) {
          return g * constant_like(g, share(value_of(b), value_of(a)));
        });
  });
}

}  // namespace

template <class Scalar>
BasicVariable<Scalar> maximum(const BasicVariable<Scalar>& a, const BasicVariable<Scalar>& b) {
  return extremum("maximum", a, b, Scalar(1));
}
template <class Scalar>
BasicVariable<Scalar> minimum(const BasicVariable<Scalar>& a, const BasicVariable<Scalar>& b) {
  return extremum("minimum", a, b, Scalar(-1));
}

template <class Scalar>
BasicVariable<Scalar> log1p(const BasicVariable<Scalar>& x) {
  // dy/dx = 1/(1 + x)
  return pointwise("log1p", x, [](Scalar v) { return std::log1p(v); },
                   [](const auto& g, const auto& x, const auto&) { return g / (Scalar(1) + x); });
}

template <class Scalar>
BasicVariable<Scalar> expm1(const BasicVariable<Scalar>& x) {
  // dy/dx = eˣ = y + 1
  return pointwise("expm1", x, [](Scalar v) { return std::expm1(v); },
                   [](const auto& g, const auto&, const auto& y) { return g * (y + Scalar(1)); });
}

template <class Scalar>
BasicVariable<Scalar> sin(const BasicVariable<Scalar>& x) {
  // dx = g·cos x
  return pointwise("sin", x, [](Scalar v) { return std::sin(v); },
                   [](const auto& g, const auto& x, const auto&) { return g * cos(x); });
}

template <class Scalar>
BasicVariable<Scalar> cos(const BasicVariable<Scalar>& x) {
  // dx = −g·sin x
  return pointwise("cos", x, [](Scalar v) { return std::cos(v); },
                   [](const auto& g, const auto& x, const auto&) { return -g * sin(x); });
}

template <class Scalar>
BasicVariable<Scalar> pow(const BasicVariable<Scalar>& x, const BasicVariable<Scalar>& p) {
  using Tensor = TensorOf<Scalar>;
  using Node = BasicNode<Scalar>;
  check_broadcastable("pow", x.value(), p.value());
  Tensor y = evaluate(xt::pow(x.value(), p.value()), kExpGrain);
  return make_result("pow", std::move(y), {x, p}, [](Node& self) {
    backward_binary(
        self,
        // dx = g·p·xᵖ⁻¹, 0 where p = 0 (x⁰ is constant, even at x = 0)
        [](const auto& g, const auto& x, const auto& p, const auto&) {
          return select_where(xt::equal(value_of(p), Scalar(0)), zero_like(g), g * p * pow(x, p - Scalar(1)));
        },
        // dp = g·xᵖ·ln x, 0 where x = 0 and p ≥ 0 (the limit of xᵖ·ln x)
        [](const auto& g, const auto& x, const auto& p, const auto& y) {
          return select_where(xt::equal(value_of(x), Scalar(0)) && value_of(p) >= Scalar(0), zero_like(g),
                              g * y * log(x));
        });
  });
}

template <class Scalar>
BasicVariable<Scalar> reciprocal(const BasicVariable<Scalar>& x) {
  // dy/dx = −1/x² = −y²
  return pointwise("reciprocal", x, [](Scalar v) { return Scalar(1) / v; },
                   [](const auto& g, const auto&, const auto& y) { return -g * square(y); }, kElementwiseGrain);
}

template <class Scalar>
BasicVariable<Scalar> sign(const BasicVariable<Scalar>& x) {
  using Tensor = TensorOf<Scalar>;
  using Variable = BasicVariable<Scalar>;
  const Tensor& v = x.value();
  Tensor y = empty_like(v);
  const Scalar* xs = v.data();
  Scalar* ys = y.data();
  parallel_blocks(v.size(), kElementwiseGrain, [&](std::size_t b, std::size_t e) {
    for (std::size_t k = b; k < e; ++k) ys[k] = xs[k] > 0 ? Scalar(1) : (xs[k] < 0 ? Scalar(-1) : xs[k]);  // 0 → 0, NaN → NaN
  });
  return Variable(std::move(y));
}

// float and double, the precisions the library is built for
#define XTGRAD_INSTANTIATE(T)                                                                             \
  template BasicVariable<T> clamp(const BasicVariable<T>&, std::optional<double>, std::optional<double>); \
  template BasicVariable<T> where_op(const TensorOf<T>&, const BasicVariable<T>&, const BasicVariable<T>&);  \
  template BasicVariable<T> masked_fill(const BasicVariable<T>&, const NonDeduced<TensorOf<T>>&, double); \
  template BasicVariable<T> tril(const BasicVariable<T>&, std::int64_t);                                  \
  template BasicVariable<T> triu(const BasicVariable<T>&, std::int64_t);                                  \
  template BasicVariable<T> maximum(const BasicVariable<T>&, const BasicVariable<T>&);                    \
  template BasicVariable<T> minimum(const BasicVariable<T>&, const BasicVariable<T>&);                    \
  template BasicVariable<T> log1p(const BasicVariable<T>&);                                               \
  template BasicVariable<T> expm1(const BasicVariable<T>&);                                               \
  template BasicVariable<T> sin(const BasicVariable<T>&);                                                 \
  template BasicVariable<T> cos(const BasicVariable<T>&);                                                 \
  template BasicVariable<T> pow(const BasicVariable<T>&, const BasicVariable<T>&);                        \
  template BasicVariable<T> reciprocal(const BasicVariable<T>&);                                          \
  template BasicVariable<T> sign(const BasicVariable<T>&);
XTGRAD_INSTANTIATE(float)
XTGRAD_INSTANTIATE(double)
#undef XTGRAD_INSTANTIATE

}  // namespace xtgrad
