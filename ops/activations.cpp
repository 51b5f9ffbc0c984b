#include "xtgrad/ops/activations.hpp"

#include "xtgrad/core/accumulate.hpp"
#include "xtgrad/core/xt.hpp"
#include "xtgrad/ops/shape_checks.hpp"

namespace xtgrad {
inline namespace XTGRAD_ABI {
namespace {

// Reductions along one axis, kept as a size-1 axis and evaluated into a container before
// they meet a broadcast (a lazy keep_dims reducer inside a broadcast is wrong in xtensor
// 0.24.3: notes/xtensor-probe.md §5.1).
Tensor max_keepdims(const Tensor& x, std::size_t axis) {
  Tensor m = xt::amax(x, {axis}, xt::keep_dims | xt::evaluation_strategy::immediate);
  return m;
}
Tensor sum_keepdims(const Tensor& x, std::size_t axis) {
  Tensor s = xt::sum(x, {axis}, xt::keep_dims | xt::evaluation_strategy::immediate);
  return s;
}

}  // namespace

Variable sigmoid(const Variable& x) {
  const Tensor& v = x.value();
  // e = e^(−|x|) ∈ (0, 1], never overflows; σ(x) = 1/(1+e) for x ≥ 0, e/(1+e) for x < 0.
  Tensor y = evaluate(xt::exp(-xt::abs(v)));
  xt::noalias(y) = xt::where(v >= Scalar(0), Scalar(1) / (Scalar(1) + y), y / (Scalar(1) + y));
  return make_result("sigmoid", std::move(y), {x}, [](Node& self) {
    // dx = g ⊙ y ⊙ (1 − y)
    add_expr_to_parent(self, 0, self.grad * self.value * (Scalar(1) - self.value));
  });
}

Variable tanh(const Variable& x) {
  return make_result("tanh", evaluate(xt::tanh(x.value())), {x}, [](Node& self) {
    // dx = g ⊙ (1 − y²)
    add_expr_to_parent(self, 0, self.grad * (Scalar(1) - xt::square(self.value)));
  });
}

Variable relu(const Variable& x) {
  const Tensor& v = x.value();
  return make_result("relu", evaluate(xt::where(v <= Scalar(0), Scalar(0), v)), {x},
                     [](Node& self) {
                       // dx = g ⊙ [x > 0]
                       add_expr_to_parent(self, 0, xt::where(self.parent_value(0) > Scalar(0), self.grad, Scalar(0)));
                     });
}

Variable affine(const Variable& x, double slope, double intercept) {
  const Scalar a = static_cast<Scalar>(slope), b = static_cast<Scalar>(intercept);
  return make_result("affine", evaluate(a * x.value() + b), {x},
                     [a](Node& self) { add_expr_to_parent(self, 0, a * self.grad); });
}

Variable softmax(const Variable& x, int axis) {
  const std::size_t ax = normalize_axis("softmax", x.value(), axis);
  const Tensor m = max_keepdims(x.value(), ax);
  Tensor e = xt::exp(x.value() - m);
  const Tensor s = sum_keepdims(e, ax);
  e /= s;
  return make_result("softmax", std::move(e), {x}, [ax](Node& self) {
    // dx = y ⊙ (g − Σ_axis g ⊙ y)
    const Tensor& y = self.value;
    const Tensor gy = sum_keepdims(self.grad * y, ax);
    add_expr_to_parent(self, 0, y * (self.grad - gy));
  });
}

Variable log_softmax(const Variable& x, int axis) {
  const std::size_t ax = normalize_axis("log_softmax", x.value(), axis);
  const Tensor m = max_keepdims(x.value(), ax);
  Tensor shifted = x.value() - m;
  const Tensor lse = xt::log(sum_keepdims(xt::exp(shifted), ax));
  shifted -= lse;
  return make_result("log_softmax", std::move(shifted), {x}, [ax](Node& self) {
    // dx = g − softmax(x) ⊙ Σ_axis g, with softmax(x) = e^y
    const Tensor gs = sum_keepdims(self.grad, ax);
    add_expr_to_parent(self, 0, self.grad - xt::exp(self.value) * gs);
  });
}

}  // namespace XTGRAD_ABI
}  // namespace xtgrad
