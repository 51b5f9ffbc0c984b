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
  template <class Scalar>
  AxisView(const TensorOf<Scalar>& x, std::size_t ax) : n(x.shape()[ax]) {
    for (std::size_t d = 0; d < ax; ++d) outer *= x.shape()[d];
    for (std::size_t d = ax + 1; d < x.dimension(); ++d) inner *= x.shape()[d];
  }
  std::size_t lanes() const { return outer * inner; }
  // Calls f(base, stride) once per lane; lanes [l0, l1) in the order a, then j.
  template <class F>
  void for_lanes(std::size_t l0, std::size_t l1, const F& f) const {
    for (std::size_t l = l0; l < l1; ++l) f((l / inner) * n * inner + l % inner, inner);
  }
  // The same for every lane, split across the threads above `grain` elements (lanes are
  // independent: each is computed as on one thread).
  template <class F>
  void for_each_lane(const F& f, std::size_t grain = kElementwiseGrain) const {
    parallel_for(0, lanes(), std::max<std::size_t>(1, grain / std::max<std::size_t>(n, 1)),
                 [&](std::size_t l0, std::size_t l1) { for_lanes(l0, l1, f); });
  }
};

// out = x − max along the lane at (base, stride).
template <class Scalar>
void subtract_lane_max(const Scalar* xs, Scalar* o, std::size_t base, std::size_t stride, std::size_t n) {
  Scalar m = xs[base];
  for (std::size_t i = 1; i < n; ++i) m = std::max(m, xs[base + i * stride]);
  for (std::size_t i = 0; i < n; ++i) o[base + i * stride] = xs[base + i * stride] - m;
}

// out = x − max along the axis, lane by lane.
template <class Scalar>
void subtract_axis_max(const TensorOf<Scalar>& x, const AxisView& v, TensorOf<Scalar>& out) {
  const Scalar* xs = x.data();
  Scalar* o = out.data();
  v.for_each_lane([&](std::size_t base, std::size_t stride) { subtract_lane_max(xs, o, base, stride, v.n); });
}

// g where x > 0, else 0: the relu derivative applied to g.
template <class Scalar>
auto where_positive(const TensorOf<Scalar>& x, const TensorOf<Scalar>& g) {
  return xt::where(x > Scalar(0), g, Scalar(0));
}
template <class Scalar>
BasicVariable<Scalar> where_positive(const BasicVariable<Scalar>& x, const BasicVariable<Scalar>& g) {
  using Variable = BasicVariable<Scalar>;
  return g * Variable(evaluate(xt::where(x.value() > Scalar(0), Scalar(1), Scalar(0))), false);
}

}  // namespace

template <class Scalar>
BasicVariable<Scalar> sigmoid(const BasicVariable<Scalar>& x) {
  using Tensor = TensorOf<Scalar>;
  using Node = BasicNode<Scalar>;
  const Tensor& v = x.value();
  // e = e^(−|x|) ∈ (0, 1], never overflows; σ(x) = 1/(1+e) for x ≥ 0, e/(1+e) for x < 0.
  Tensor y = empty_like(v);
  sigmoid_into(v, y);  // one SIMD pass, the same value at every position
  return make_result("sigmoid", std::move(y), {x}, [](Node& self) {
    // dx = g ⊙ y ⊙ (1 − y)
    backward_unary(self, [](const auto& g, const auto&, const auto& y) { return g * y * (Scalar(1) - y); });
  });
}

template <class Scalar>
BasicVariable<Scalar> tanh(const BasicVariable<Scalar>& x) {
  using Node = BasicNode<Scalar>;
  return make_result("tanh", evaluate(xt::tanh(x.value()), kExpGrain), {x}, [](Node& self) {
    // dx = g ⊙ (1 − y²)
    backward_unary(self, [](const auto& g, const auto&, const auto& y) { return g * (Scalar(1) - square(y)); });
  });
}

template <class Scalar>
BasicVariable<Scalar> relu(const BasicVariable<Scalar>& x) {
  using Tensor = TensorOf<Scalar>;
  using Node = BasicNode<Scalar>;
  Tensor y = empty_like(x.value());
  relu_into(x.value(), y);  // x ≤ 0 → 0, else x (NaN stays NaN)
  return make_result("relu", std::move(y), {x}, [](Node& self) {
    // dx = g ⊙ [x > 0]
    if (self.grad_node || !self.parent_requires_grad(0)) {
      backward_unary(self, [](const auto& g, const auto& x, const auto&) { return where_positive(x, g); });
      return;
    }
    Scalar beta = 0;
    Scalar* dx = grad_target(self, 0, beta);
    relu_grad_into(self.parent_value(0), self.grad, dx, beta != 0);
  });
}

template <class Scalar>
BasicVariable<Scalar> affine(const BasicVariable<Scalar>& x, double slope, double intercept) {
  using Node = BasicNode<Scalar>;
  const Scalar a = static_cast<Scalar>(slope), b = static_cast<Scalar>(intercept);
  return make_result("affine", evaluate(a * x.value() + b), {x},
                     [a](Node& self) { backward_linear(self, [a](const auto& g) { return a * g; }); });
}

template <class Scalar>
BasicVariable<Scalar> softmax(const BasicVariable<Scalar>& x, int axis) {
  using Tensor = TensorOf<Scalar>;
  using Variable = BasicVariable<Scalar>;
  using Node = BasicNode<Scalar>;
  const std::size_t ax = normalize_axis("softmax", x.value(), axis);
  const AxisView v(x.value(), ax);
  if (v.n == 0) return make_result("softmax", empty_like(x.value()), {x}, [](Node&) {});
  // y = e^(x − max) / Σ_axis e^(x − max), on every core above kExpGrain elements
  Tensor y = empty_like(x.value());
  Scalar* ys = y.data();
  auto normalize = [&](std::size_t base, std::size_t stride) {
    Scalar s = 0;
    for (std::size_t i = 0; i < v.n; ++i) s += ys[base + i * stride];
    for (std::size_t i = 0; i < v.n; ++i) ys[base + i * stride] /= s;
  };
  if (v.inner == 1) {  // contiguous lanes (the last axis): one pass per lane
    const Scalar* xs = x.value().data();
    v.for_each_lane(
        [&](std::size_t base, std::size_t stride) {
          subtract_lane_max(xs, ys, base, stride, v.n);
          exp_range(ys + base, ys + base, v.n);  // the values of exp_into
          normalize(base, stride);
        },
        kExpGrain);
  } else {
    subtract_axis_max(x.value(), v, y);
    exp_into(y, y);  // subnormal results kept: log(softmax(x)) stays finite
    v.for_each_lane(normalize);
  }
  return make_result("softmax", std::move(y), {x}, [v, ax](Node& self) {
    // dx = y ⊙ (g − Σ_axis g ⊙ y); create_graph: the same with ops, the fast path by lanes
    if (self.grad_node) {
      const Variable g(self.grad_node), y = output_variable(self);
      add_variable_to_parent(self, 0, y * (g - sum(g * y, int(ax), true)));
      return;
    }
    const Scalar* y = self.output_value().data();
    const Scalar* g = self.grad.data();
    bool accumulate = false;
    Scalar* dx = grad_target(self, 0, accumulate);
    v.for_each_lane([&](std::size_t base, std::size_t stride) {  // lanes on every core
      Scalar gy = 0;
      for (std::size_t i = 0; i < v.n; ++i) gy += g[base + i * stride] * y[base + i * stride];
      for (std::size_t i = 0, k = base; i < v.n; ++i, k += stride) {
        dx[k] = (accumulate ? dx[k] : Scalar(0)) + y[k] * (g[k] - gy);
      }
    });
  });
}

template <class Scalar>
BasicVariable<Scalar> log_softmax(const BasicVariable<Scalar>& x, int axis) {
  using Tensor = TensorOf<Scalar>;
  using Variable = BasicVariable<Scalar>;
  using Node = BasicNode<Scalar>;
  const std::size_t ax = normalize_axis("log_softmax", x.value(), axis);
  const AxisView v(x.value(), ax);
  if (v.n == 0) return make_result("log_softmax", empty_like(x.value()), {x}, [](Node&) {});
  // y = (x − max) − log Σ_axis e^(x − max)
  Tensor y = empty_like(x.value());
  subtract_axis_max(x.value(), v, y);
  Tensor e = evaluate(xt::exp(y), kExpGrain);
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
    bool accumulate = false;
    Scalar* dx = grad_target(self, 0, accumulate);
    v.for_each_lane(
        [&](std::size_t base, std::size_t stride) {
          Scalar gs = 0;
          for (std::size_t i = 0; i < v.n; ++i) gs += g[base + i * stride];
          for (std::size_t i = 0, k = base; i < v.n; ++i, k += stride) {
            dx[k] = (accumulate ? dx[k] : Scalar(0)) + g[k] - std::exp(y[k]) * gs;
          }
        },
        kExpGrain);
  });
}

// float and double, the precisions the library is built for
#define XTGRAD_INSTANTIATE(T)                                                \
  template BasicVariable<T> sigmoid(const BasicVariable<T>&);                \
  template BasicVariable<T> tanh(const BasicVariable<T>&);                   \
  template BasicVariable<T> relu(const BasicVariable<T>&);                   \
  template BasicVariable<T> affine(const BasicVariable<T>&, double, double); \
  template BasicVariable<T> softmax(const BasicVariable<T>&, int);           \
  template BasicVariable<T> log_softmax(const BasicVariable<T>&, int);
XTGRAD_INSTANTIATE(float)
XTGRAD_INSTANTIATE(double)
#undef XTGRAD_INSTANTIATE

}  // namespace xtgrad
