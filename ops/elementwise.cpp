#include "xtgrad/ops/elementwise.hpp"

#include "xtgrad/core/accumulate.hpp"
#include "xtgrad/core/xt.hpp"
#include "xtgrad/ops/shape_checks.hpp"
#include "xtgrad/ops/simd_math.hpp"

namespace xtgrad {

// Binary ops compute gradients at the broadcast output shape; accumulate_grad sums them back
// down to each input's shape.
// Each backward is a formula written once over generic operands (core/accumulate.hpp): on
// Tensors it is a lazy expression evaluated into the parent's gradient, on Variables (a
// create_graph sweep) the same text builds differentiable ops. Scalar constants are written
// as Scalar(k) so that the tensor expressions stay in one type.

template <>
Variable add(const Variable& a, const Variable& b) {
  check_broadcastable("add", a.value(), b.value());
  return make_result("add", evaluate(a.value() + b.value()), {a, b}, [](Node& self) {
    // da = g, db = g (at the broadcast shape)
    backward_linear(self, [](const auto& g) -> const auto& { return g; },
                    [](const auto& g) -> const auto& { return g; });
  });
}

template <>
Variable sub(const Variable& a, const Variable& b) {
  check_broadcastable("sub", a.value(), b.value());
  return make_result("sub", evaluate(a.value() - b.value()), {a, b}, [](Node& self) {
    // da = g, db = −g
    backward_linear(self, [](const auto& g) -> const auto& { return g; }, [](const auto& g) { return -g; });
  });
}

template <>
Variable mul(const Variable& a, const Variable& b) {
  check_broadcastable("mul", a.value(), b.value());
  return make_result("mul", evaluate(a.value() * b.value()), {a, b}, [](Node& self) {
    // da = g ⊙ b, db = g ⊙ a (at the broadcast shape)
    backward_binary(self, [](const auto& g, const auto&, const auto& b, const auto&) { return g * b; },
                    [](const auto& g, const auto& a, const auto&, const auto&) { return g * a; });
  });
}

template <>
Variable div(const Variable& a, const Variable& b) {
  check_broadcastable("div", a.value(), b.value());
  return make_result("div", evaluate(a.value() / b.value()), {a, b}, [](Node& self) {
    // da = g ⊘ b, db = −g ⊙ (a/b) ⊘ b = −g ⊙ z ⊘ b
    backward_binary(self, [](const auto& g, const auto&, const auto& b, const auto&) { return g / b; },
                    [](const auto& g, const auto&, const auto& b, const auto& z) { return -g * z / b; });
  });
}

template <>
Variable neg(const Variable& a) {
  return make_result("neg", evaluate(-a.value()), {a}, [](Node& self) {
    backward_linear(self, [](const auto& g) { return -g; });  // da = −g
  });
}

template <>
Variable add(const Variable& a, double s) {
  return make_result("add_scalar", evaluate(a.value() + static_cast<Scalar>(s)), {a}, [](Node& self) {
    backward_linear(self, [](const auto& g) -> const auto& { return g; });  // da = g
  });
}

template <>
Variable mul(const Variable& a, double s) {
  const Scalar k = static_cast<Scalar>(s);
  return make_result("mul_scalar", evaluate(a.value() * k), {a}, [k](Node& self) {
    backward_linear(self, [k](const auto& g) { return g * k; });  // da = s·g
  });
}

template <>
Variable rsub(double s, const Variable& a) {
  return make_result("rsub_scalar", evaluate(static_cast<Scalar>(s) - a.value()), {a}, [](Node& self) {
    backward_linear(self, [](const auto& g) { return -g; });  // da = −g
  });
}

template <>
Variable rdiv(double s, const Variable& a) {
  return make_result("rdiv_scalar", evaluate(static_cast<Scalar>(s) / a.value()), {a}, [](Node& self) {
    // d(s/a)/da = −(s/a)/a = −y/a
    backward_unary(self, [](const auto& g, const auto& a, const auto& y) { return -g * y / a; });
  });
}

template <>
Variable exp(const Variable& x) {
  Tensor y = empty_like(x.value());
  exp_into(x.value(), y);  // the same value at every position, subnormals kept
  return make_result("exp", std::move(y), {x}, [](Node& self) {
    backward_unary(self, [](const auto& g, const auto&, const auto& y) { return g * y; });  // dx = g ⊙ eˣ
  });
}

template <>
Variable log(const Variable& x) {
  Tensor y = empty_like(x.value());
  log_into(x.value(), y);  // the same value at every position, exact for subnormal x
  return make_result("log", std::move(y), {x}, [](Node& self) {
    backward_unary(self, [](const auto& g, const auto& x, const auto&) { return g / x; });  // dx = g ⊘ x
  });
}

template <>
Variable sqrt(const Variable& x) {
  return make_result("sqrt", evaluate(xt::sqrt(x.value())), {x}, [](Node& self) {
    // d√x/dx = 1 / (2√x)
    backward_unary(self, [](const auto& g, const auto&, const auto& y) { return g / (Scalar(2) * y); });
  });
}

template <>
Variable square(const Variable& x) {
  return make_result("square", evaluate(xt::square(x.value())), {x}, [](Node& self) {
    backward_unary(self, [](const auto& g, const auto& x, const auto&) { return Scalar(2) * g * x; });  // dx = 2g ⊙ x
  });
}

template <>
Variable pow(const Variable& x, double p) {
  const Scalar e = static_cast<Scalar>(p);
  return make_result("pow", evaluate(xt::pow(x.value(), e)), {x}, [e](Node& self) {
    // d xᵖ/dx = p·xᵖ⁻¹; for p = 0 the derivative is 0 everywhere (p·xᵖ⁻¹ would be 0·∞ at x = 0)
    if (e == Scalar(0)) {
      backward_unary(self, [](const auto& g, const auto&, const auto&) { return Scalar(0) * g; });
    } else {
      backward_unary(self, [e](const auto& g, const auto& x, const auto&) { return g * e * pow(x, e - Scalar(1)); });
    }
  });
}

template <>
Variable abs(const Variable& x) {
  return make_result("abs", evaluate(xt::abs(x.value())), {x}, [](Node& self) {
    // d|x|/dx = sign(x), 0 at 0
    backward_unary(self, [](const auto& g, const auto& x, const auto&) { return g * sign_of(x); });
  });
}

}  // namespace xtgrad
