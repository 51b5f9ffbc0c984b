#include "xtgrad/ops/activations.hpp"

#include <algorithm>
#include <cmath>

#include "xtgrad/core/accumulate.hpp"
#include "xtgrad/core/xt.hpp"
#include "xtgrad/ops/elementwise.hpp"
#include "xtgrad/ops/reductions.hpp"
#include "xtgrad/ops/shape_checks.hpp"
#include "xtgrad/ops/simd_math.hpp"

namespace xtgrad {
namespace {

// x viewed as (outer, n, inner) around axis `ax`. A lane is one (outer, inner) position: its
// n elements along the axis sit at base + i·stride.
struct AxisView {
  std::size_t outer = 1, n = 1, inner = 1;
  AxisView(const Tensor& x, std::size_t ax) : n(x.shape()[ax]) {
    for (std::size_t d = 0; d < ax; ++d) outer *= x.shape()[d];
    for (std::size_t d = ax + 1; d < x.dimension(); ++d) inner *= x.shape()[d];
  }
  // Calls f(base, stride) once per lane.
  template <class F>
  void for_each_lane(F f) const {
    for (std::size_t a = 0; a < outer; ++a)
      for (std::size_t j = 0; j < inner; ++j) f(a * n * inner + j, inner);
  }
};

// out = x − max along the axis, lane by lane.
void subtract_axis_max(const Tensor& x, const AxisView& v, Tensor& out) {
  const Scalar* xs = x.data();
  Scalar* o = out.data();
  v.for_each_lane([&](std::size_t base, std::size_t stride) {
    Scalar m = xs[base];
    for (std::size_t i = 1; i < v.n; ++i) m = std::max(m, xs[base + i * stride]);
    for (std::size_t i = 0; i < v.n; ++i) o[base + i * stride] = xs[base + i * stride] - m;
  });
}

// g where x > 0, else 0: the relu derivative applied to g.
auto where_positive(const Tensor& x, const Tensor& g) { return xt::where(x > Scalar(0), g, Scalar(0)); }
Variable where_positive(const Variable& x, const Variable& g) {
  return g * Variable(evaluate(xt::where(x.value() > Scalar(0), Scalar(1), Scalar(0))), false);
}

}  // namespace

template <>
Variable sigmoid(const Variable& x) {
  const Tensor& v = x.value();
  // e = e^(−|x|) ∈ (0, 1], never overflows; σ(x) = 1/(1+e) for x ≥ 0, e/(1+e) for x < 0.
  Tensor y = empty_like(v);
  sigmoid_into(v, y);  // one SIMD pass, the same value at every position
  return make_result("sigmoid", std::move(y), {x}, [](Node& self) {
    // dx = g ⊙ y ⊙ (1 − y)
    backward_unary(self, [](const auto& g, const auto&, const auto& y) { return g * y * (Scalar(1) - y); });
  });
}

template <>
Variable tanh(const Variable& x) {
  return make_result("tanh", evaluate(xt::tanh(x.value())), {x}, [](Node& self) {
    // dx = g ⊙ (1 − y²)
    backward_unary(self, [](const auto& g, const auto&, const auto& y) { return g * (Scalar(1) - square(y)); });
  });
}

template <>
Variable relu(const Variable& x) {
  const Tensor& v = x.value();
  return make_result("relu", evaluate(xt::where(v <= Scalar(0), Scalar(0), v)), {x},
                     [](Node& self) {
                       // dx = g ⊙ [x > 0]
                       backward_unary(self, [](const auto& g, const auto& x, const auto&) { return where_positive(x, g); });
                     });
}

template <>
Variable affine(const Variable& x, double slope, double intercept) {
  const Scalar a = static_cast<Scalar>(slope), b = static_cast<Scalar>(intercept);
  return make_result("affine", evaluate(a * x.value() + b), {x},
                     [a](Node& self) { backward_linear(self, [a](const auto& g) { return a * g; }); });
}

template <>
Variable softmax(const Variable& x, int axis) {
  const std::size_t ax = normalize_axis("softmax", x.value(), axis);
  const AxisView v(x.value(), ax);
  if (v.n == 0) return make_result("softmax", empty_like(x.value()), {x}, [](Node&) {});
  // y = e^(x − max) / Σ_axis e^(x − max)
  Tensor y = empty_like(x.value());
  subtract_axis_max(x.value(), v, y);
  exp_into(y, y);  // subnormal results kept: log(softmax(x)) stays finite
  Scalar* ys = y.data();
  v.for_each_lane([&](std::size_t base, std::size_t stride) {
    Scalar s = 0;
    for (std::size_t i = 0; i < v.n; ++i) s += ys[base + i * stride];
    for (std::size_t i = 0; i < v.n; ++i) ys[base + i * stride] /= s;
  });
  return make_result("softmax", std::move(y), {x}, [v, ax](Node& self) {
    // dx = y ⊙ (g − Σ_axis g ⊙ y); create_graph: the same with ops, the fast path by lanes
    if (self.grad_node) {
      const Variable g(self.grad_node), y = output_variable(self);
      add_variable_to_parent(self, 0, y * (g - sum(g * y, int(ax), true)));
      return;
    }
    const Scalar* y = self.output_value().data();
    const Scalar* g = self.grad.data();
    Scalar beta = 0;
    Scalar* dx = grad_target(self, 0, beta);
    v.for_each_lane([&](std::size_t base, std::size_t stride) {
      Scalar gy = 0;
      for (std::size_t i = 0; i < v.n; ++i) gy += g[base + i * stride] * y[base + i * stride];
      for (std::size_t i = 0, k = base; i < v.n; ++i, k += stride) {
        dx[k] = (beta == 0 ? Scalar(0) : dx[k]) + y[k] * (g[k] - gy);
      }
    });
  });
}

template <>
Variable log_softmax(const Variable& x, int axis) {
  const std::size_t ax = normalize_axis("log_softmax", x.value(), axis);
  const AxisView v(x.value(), ax);
  if (v.n == 0) return make_result("log_softmax", empty_like(x.value()), {x}, [](Node&) {});
  // y = (x − max) − log Σ_axis e^(x − max)
  Tensor y = empty_like(x.value());
  subtract_axis_max(x.value(), v, y);
  Tensor e = evaluate(xt::exp(y));
  Scalar* ys = y.data();
  v.for_each_lane([&](std::size_t base, std::size_t stride) {
    Scalar s = 0;
    for (std::size_t i = 0; i < v.n; ++i) s += e.data()[base + i * stride];
    const Scalar log_s = std::log(s);
    for (std::size_t i = 0; i < v.n; ++i) ys[base + i * stride] -= log_s;
  });
  recycle(e);
  return make_result("log_softmax", std::move(y), {x}, [v, ax](Node& self) {
    // dx = g − softmax(x) ⊙ Σ_axis g, with softmax(x) = e^y
    if (self.grad_node) {
      const Variable g(self.grad_node), y = output_variable(self);
      add_variable_to_parent(self, 0, g - exp(y) * sum(g, int(ax), true));
      return;
    }
    const Scalar* y = self.output_value().data();
    const Scalar* g = self.grad.data();
    Scalar beta = 0;
    Scalar* dx = grad_target(self, 0, beta);
    v.for_each_lane([&](std::size_t base, std::size_t stride) {
      Scalar gs = 0;
      for (std::size_t i = 0; i < v.n; ++i) gs += g[base + i * stride];
      for (std::size_t i = 0, k = base; i < v.n; ++i, k += stride) {
        dx[k] = (beta == 0 ? Scalar(0) : dx[k]) + g[k] - std::exp(y[k]) * gs;
      }
    });
  });
}

}  // namespace xtgrad
