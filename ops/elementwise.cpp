#include "xtgrad/ops/elementwise.hpp"

#include "xtgrad/core/xt.hpp"
#include "xtgrad/ops/shape_checks.hpp"

namespace xtgrad {
inline namespace XTGRAD_ABI {

// Binary ops compute gradients at the broadcast output shape; accumulate_grad sums them back
// down to each input's shape.

Variable add(const Variable& a, const Variable& b) {
  broadcast_shape("add", a.value(), b.value());
  return make_result("add", a.value() + b.value(), {a, b}, [](Node& self) {
    if (self.parent_requires_grad(0)) self.add_to_parent(0, Tensor(self.grad));
    if (self.parent_requires_grad(1)) self.add_to_parent(1, Tensor(self.grad));
  });
}

Variable sub(const Variable& a, const Variable& b) {
  broadcast_shape("sub", a.value(), b.value());
  return make_result("sub", a.value() - b.value(), {a, b}, [](Node& self) {
    if (self.parent_requires_grad(0)) self.add_to_parent(0, Tensor(self.grad));
    if (self.parent_requires_grad(1)) self.add_to_parent(1, -self.grad);
  });
}

Variable mul(const Variable& a, const Variable& b) {
  broadcast_shape("mul", a.value(), b.value());
  return make_result("mul", a.value() * b.value(), {a, b}, [](Node& self) {
    // da = g ⊙ b, db = g ⊙ a (at the broadcast shape)
    if (self.parent_requires_grad(0)) self.add_to_parent(0, self.grad * self.parent_value(1));
    if (self.parent_requires_grad(1)) self.add_to_parent(1, self.grad * self.parent_value(0));
  });
}

Variable div(const Variable& a, const Variable& b) {
  broadcast_shape("div", a.value(), b.value());
  return make_result("div", a.value() / b.value(), {a, b}, [](Node& self) {
    const Tensor& bv = self.parent_value(1);
    // da = g ⊘ b, db = −g ⊙ (a/b) ⊘ b = −g ⊙ z ⊘ b
    if (self.parent_requires_grad(0)) self.add_to_parent(0, self.grad / bv);
    if (self.parent_requires_grad(1)) self.add_to_parent(1, -self.grad * self.value / bv);
  });
}

Variable neg(const Variable& a) {
  return make_result("neg", -a.value(), {a}, [](Node& self) { self.add_to_parent(0, -self.grad); });
}

Variable add(const Variable& a, double s) {
  return make_result("add_scalar", a.value() + static_cast<Scalar>(s), {a},
                     [](Node& self) { self.add_to_parent(0, Tensor(self.grad)); });
}

Variable mul(const Variable& a, double s) {
  const Scalar k = static_cast<Scalar>(s);
  return make_result("mul_scalar", a.value() * k, {a}, [k](Node& self) { self.add_to_parent(0, self.grad * k); });
}

Variable rsub(double s, const Variable& a) {
  return make_result("rsub_scalar", static_cast<Scalar>(s) - a.value(), {a},
                     [](Node& self) { self.add_to_parent(0, -self.grad); });
}

Variable rdiv(double s, const Variable& a) {
  return make_result("rdiv_scalar", static_cast<Scalar>(s) / a.value(), {a}, [](Node& self) {
    // d(s/a)/da = −(s/a)/a
    self.add_to_parent(0, -self.grad * self.value / self.parent_value(0));
  });
}

Variable exp(const Variable& x) {
  return make_result("exp", xt::exp(x.value()), {x}, [](Node& self) { self.add_to_parent(0, self.grad * self.value); });
}

Variable log(const Variable& x) {
  return make_result("log", xt::log(x.value()), {x},
                     [](Node& self) { self.add_to_parent(0, self.grad / self.parent_value(0)); });
}

Variable sqrt(const Variable& x) {
  return make_result("sqrt", xt::sqrt(x.value()), {x}, [](Node& self) {
    // d√x/dx = 1 / (2√x)
    self.add_to_parent(0, self.grad / (Scalar(2) * self.value));
  });
}

Variable square(const Variable& x) {
  return make_result("square", xt::square(x.value()), {x}, [](Node& self) {
    self.add_to_parent(0, Scalar(2) * self.grad * self.parent_value(0));
  });
}

Variable pow(const Variable& x, double p) {
  const Scalar e = static_cast<Scalar>(p);
  return make_result("pow", xt::pow(x.value(), e), {x}, [e](Node& self) {
    // d xᵖ/dx = p·xᵖ⁻¹
    self.add_to_parent(0, self.grad * e * xt::pow(self.parent_value(0), e - Scalar(1)));
  });
}

Variable abs(const Variable& x) {
  return make_result("abs", xt::abs(x.value()), {x}, [](Node& self) {
    // d|x|/dx = sign(x), 0 at 0
    self.add_to_parent(0, self.grad * xt::sign(self.parent_value(0)));
  });
}

}  // namespace XTGRAD_ABI
}  // namespace xtgrad
