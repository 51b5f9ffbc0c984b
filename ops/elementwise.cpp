#include "xtgrad/ops/elementwise.hpp"

#include "xtgrad/core/accumulate.hpp"
#include "xtgrad/core/xt.hpp"
#include "xtgrad/ops/shape_checks.hpp"
#include "xtgrad/ops/simd_math.hpp"

namespace xtgrad {
inline namespace XTGRAD_ABI {

// Binary ops compute gradients at the broadcast output shape; accumulate_grad sums them back
// down to each input's shape.

Variable add(const Variable& a, const Variable& b) {
  check_broadcastable("add", a.value(), b.value());
  return make_result("add", evaluate(a.value() + b.value()), {a, b}, [](Node& self) {
    if (self.parent_requires_grad(0)) add_expr_to_parent(self, 0, self.grad);
    if (self.parent_requires_grad(1)) add_expr_to_parent(self, 1, self.grad);
  });
}

Variable sub(const Variable& a, const Variable& b) {
  check_broadcastable("sub", a.value(), b.value());
  return make_result("sub", evaluate(a.value() - b.value()), {a, b}, [](Node& self) {
    if (self.parent_requires_grad(0)) add_expr_to_parent(self, 0, self.grad);
    if (self.parent_requires_grad(1)) add_expr_to_parent(self, 1, -self.grad);
  });
}

Variable mul(const Variable& a, const Variable& b) {
  check_broadcastable("mul", a.value(), b.value());
  return make_result("mul", evaluate(a.value() * b.value()), {a, b}, [](Node& self) {
    // da = g ⊙ b, db = g ⊙ a (at the broadcast shape)
    if (self.parent_requires_grad(0)) add_expr_to_parent(self, 0, self.grad * self.parent_value(1));
    if (self.parent_requires_grad(1)) add_expr_to_parent(self, 1, self.grad * self.parent_value(0));
  });
}

Variable div(const Variable& a, const Variable& b) {
  check_broadcastable("div", a.value(), b.value());
  return make_result("div", evaluate(a.value() / b.value()), {a, b}, [](Node& self) {
    const Tensor& bv = self.parent_value(1);
    // da = g ⊘ b, db = −g ⊙ (a/b) ⊘ b = −g ⊙ z ⊘ b
    if (self.parent_requires_grad(0)) add_expr_to_parent(self, 0, self.grad / bv);
    if (self.parent_requires_grad(1)) add_expr_to_parent(self, 1, -self.grad * self.value / bv);
  });
}

Variable neg(const Variable& a) {
  return make_result("neg", evaluate(-a.value()), {a}, [](Node& self) { add_expr_to_parent(self, 0, -self.grad); });
}

Variable add(const Variable& a, double s) {
  return make_result("add_scalar", evaluate(a.value() + static_cast<Scalar>(s)), {a},
                     [](Node& self) { add_expr_to_parent(self, 0, self.grad); });
}

Variable mul(const Variable& a, double s) {
  const Scalar k = static_cast<Scalar>(s);
  return make_result("mul_scalar", evaluate(a.value() * k), {a}, [k](Node& self) { add_expr_to_parent(self, 0, self.grad * k); });
}

Variable rsub(double s, const Variable& a) {
  return make_result("rsub_scalar", evaluate(static_cast<Scalar>(s) - a.value()), {a},
                     [](Node& self) { add_expr_to_parent(self, 0, -self.grad); });
}

Variable rdiv(double s, const Variable& a) {
  return make_result("rdiv_scalar", evaluate(static_cast<Scalar>(s) / a.value()), {a}, [](Node& self) {
    // d(s/a)/da = −(s/a)/a
    add_expr_to_parent(self, 0, -self.grad * self.value / self.parent_value(0));
  });
}

Variable exp(const Variable& x) {
  Tensor y = empty_like(x.value());
  exp_into(x.value(), y);  // the same value at every position, subnormals kept
  return make_result("exp", std::move(y), {x}, [](Node& self) { add_expr_to_parent(self, 0, self.grad * self.value); });
}

Variable log(const Variable& x) {
  Tensor y = empty_like(x.value());
  log_into(x.value(), y);  // the same value at every position, exact for subnormal x
  return make_result("log", std::move(y), {x},
                     [](Node& self) { add_expr_to_parent(self, 0, self.grad / self.parent_value(0)); });
}

Variable sqrt(const Variable& x) {
  return make_result("sqrt", evaluate(xt::sqrt(x.value())), {x}, [](Node& self) {
    // d√x/dx = 1 / (2√x)
    add_expr_to_parent(self, 0, self.grad / (Scalar(2) * self.value));
  });
}

Variable square(const Variable& x) {
  return make_result("square", evaluate(xt::square(x.value())), {x}, [](Node& self) {
    add_expr_to_parent(self, 0, Scalar(2) * self.grad * self.parent_value(0));
  });
}

Variable pow(const Variable& x, double p) {
  const Scalar e = static_cast<Scalar>(p);
  return make_result("pow", evaluate(xt::pow(x.value(), e)), {x}, [e](Node& self) {
    // d xᵖ/dx = p·xᵖ⁻¹
    add_expr_to_parent(self, 0, self.grad * e * xt::pow(self.parent_value(0), e - Scalar(1)));
  });
}

Variable abs(const Variable& x) {
  return make_result("abs", evaluate(xt::abs(x.value())), {x}, [](Node& self) {
    // d|x|/dx = sign(x), 0 at 0
    add_expr_to_parent(self, 0, self.grad * xt::sign(self.parent_value(0)));
  });
}

}  // namespace XTGRAD_ABI
}  // namespace xtgrad
