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

template <class Scalar>
BasicVariable<Scalar> add(const BasicVariable<Scalar>& a, const BasicVariable<Scalar>& b) {
  using Node = BasicNode<Scalar>;
  check_broadcastable("add", a.value(), b.value());
  return make_result("add", evaluate(a.value() + b.value()), {a, b}, [](Node& self) {
    // da = g, db = g (at the broadcast shape)
    backward_linear(self, [](const auto& g) -> const auto& { return g; },
                    [](const auto& g) -> const auto& { return g; });
  });
}

template <class Scalar>
BasicVariable<Scalar> sub(const BasicVariable<Scalar>& a, const BasicVariable<Scalar>& b) {
  using Node = BasicNode<Scalar>;
  check_broadcastable("sub", a.value(), b.value());
  return make_result("sub", evaluate(a.value() - b.value()), {a, b}, [](Node& self) {
    // da = g, db = −g
    backward_linear(self, [](const auto& g) -> const auto& { return g; }, [](const auto& g) { return -g; });
  });
}

template <class Scalar>
BasicVariable<Scalar> mul(const BasicVariable<Scalar>& a, const BasicVariable<Scalar>& b) {
  using Node = BasicNode<Scalar>;
  check_broadcastable("mul", a.value(), b.value());
  return make_result("mul", evaluate(a.value() * b.value()), {a, b}, [](Node& self) {
    // da = g ⊙ b, db = g ⊙ a (at the broadcast shape)
    backward_binary(self, [](const auto& g, const auto&, const auto& b, const auto&) { return g * b; },
                    [](const auto& g, const auto& a, const auto&, const auto&) { return g * a; });
  });
}

template <class Scalar>
BasicVariable<Scalar> div(const BasicVariable<Scalar>& a, const BasicVariable<Scalar>& b) {
  using Node = BasicNode<Scalar>;
  check_broadcastable("div", a.value(), b.value());
  return make_result("div", evaluate(a.value() / b.value()), {a, b}, [](Node& self) {
    // da = g ⊘ b, db = −g ⊙ (a/b) ⊘ b = −g ⊙ z ⊘ b
    backward_binary(self, [](const auto& g, const auto&, const auto& b, const auto&) { return g / b; },
                    [](const auto& g, const auto&, const auto& b, const auto& z) { return -g * z / b; });
  });
}

template <class Scalar>
BasicVariable<Scalar> neg(const BasicVariable<Scalar>& a) {
  using Node = BasicNode<Scalar>;
  return make_result("neg", evaluate(-a.value()), {a}, [](Node& self) {
    backward_linear(self, [](const auto& g) { return -g; });  // da = −g
  });
}

template <class Scalar>
BasicVariable<Scalar> add(const BasicVariable<Scalar>& a, double s) {
  using Node = BasicNode<Scalar>;
  return make_result("add_scalar", evaluate(a.value() + static_cast<Scalar>(s)), {a}, [](Node& self) {
    backward_linear(self, [](const auto& g) -> const auto& { return g; });  // da = g
  });
}

template <class Scalar>
BasicVariable<Scalar> mul(const BasicVariable<Scalar>& a, double s) {
  using Node = BasicNode<Scalar>;
  const Scalar k = static_cast<Scalar>(s);
  return make_result("mul_scalar", evaluate(a.value() * k), {a}, [k](Node& self) {
    backward_linear(self, [k](const auto& g) { return g * k; });  // da = s·g
  });
}

template <class Scalar>
BasicVariable<Scalar> rsub(double s, const BasicVariable<Scalar>& a) {
  using Node = BasicNode<Scalar>;
  return make_result("rsub_scalar", evaluate(static_cast<Scalar>(s) - a.value()), {a}, [](Node& self) {
    backward_linear(self, [](const auto& g) { return -g; });  // da = −g
  });
}

template <class Scalar>
BasicVariable<Scalar> rdiv(double s, const BasicVariable<Scalar>& a) {
  using Node = BasicNode<Scalar>;
  return make_result("rdiv_scalar", evaluate(static_cast<Scalar>(s) / a.value()), {a}, [](Node& self) {
    // d(s/a)/da = −(s/a)/a = −y/a
    backward_unary(self, [](const auto& g, const auto& a, const auto& y) { return -g * y / a; });
  });
}

template <class Scalar>
BasicVariable<Scalar> exp(const BasicVariable<Scalar>& x) {
  using Tensor = TensorOf<Scalar>;
  using Node = BasicNode<Scalar>;
  Tensor y = empty_like(x.value());
  exp_into(x.value(), y);  // the same value at every position, subnormals kept
  return make_result("exp", std::move(y), {x}, [](Node& self) {
    backward_unary(self, [](const auto& g, const auto&, const auto& y) { return g * y; });  // dx = g ⊙ eˣ
  });
}

template <class Scalar>
BasicVariable<Scalar> log(const BasicVariable<Scalar>& x) {
  using Tensor = TensorOf<Scalar>;
  using Node = BasicNode<Scalar>;
  Tensor y = empty_like(x.value());
  log_into(x.value(), y);  // the same value at every position, exact for subnormal x
  return make_result("log", std::move(y), {x}, [](Node& self) {
    backward_unary(self, [](const auto& g, const auto& x, const auto&) { return g / x; });  // dx = g ⊘ x
  });
}

template <class Scalar>
BasicVariable<Scalar> sqrt(const BasicVariable<Scalar>& x) {
  using Node = BasicNode<Scalar>;
  return make_result("sqrt", evaluate(xt::sqrt(x.value())), {x}, [](Node& self) {
    // d√x/dx = 1 / (2√x)
    backward_unary(self, [](const auto& g, const auto&, const auto& y) { return g / (Scalar(2) * y); });
  });
}

template <class Scalar>
BasicVariable<Scalar> square(const BasicVariable<Scalar>& x) {
  using Node = BasicNode<Scalar>;
  return make_result("square", evaluate(xt::square(x.value())), {x}, [](Node& self) {
    backward_unary(self, [](const auto& g, const auto& x, const auto&) { return Scalar(2) * g * x; });  // dx = 2g ⊙ x
  });
}

template <class Scalar>
BasicVariable<Scalar> pow(const BasicVariable<Scalar>& x, double p) {
  using Node = BasicNode<Scalar>;
  const Scalar e = static_cast<Scalar>(p);
  return make_result("pow", evaluate(xt::pow(x.value(), e), kExpGrain), {x}, [e](Node& self) {
    // d xᵖ/dx = p·xᵖ⁻¹; for p = 0 the derivative is 0 everywhere (p·xᵖ⁻¹ would be 0·∞ at x = 0)
    if (e == Scalar(0)) {
      backward_unary(self, [](const auto& g, const auto&, const auto&) { return Scalar(0) * g; });
    } else {
      backward_unary(
          self, [e](const auto& g, const auto& x, const auto&) { return g * e * pow(x, e - Scalar(1)); },
          kExpGrain);
    }
  });
}

template <class Scalar>
BasicVariable<Scalar> abs(const BasicVariable<Scalar>& x) {
  using Node = BasicNode<Scalar>;
  return make_result("abs", evaluate(xt::abs(x.value())), {x}, [](Node& self) {
    // d|x|/dx = sign(x), 0 at 0
    backward_unary(self, [](const auto& g, const auto& x, const auto&) { return g * sign_of(x); });
  });
}

// float and double, the precisions the library is built for
#define XTGRAD_INSTANTIATE(T)                                                      \
  template BasicVariable<T> add(const BasicVariable<T>&, const BasicVariable<T>&); \
  template BasicVariable<T> sub(const BasicVariable<T>&, const BasicVariable<T>&); \
  template BasicVariable<T> mul(const BasicVariable<T>&, const BasicVariable<T>&); \
  template BasicVariable<T> div(const BasicVariable<T>&, const BasicVariable<T>&); \
  template BasicVariable<T> neg(const BasicVariable<T>&);                          \
  template BasicVariable<T> add(const BasicVariable<T>&, double);                  \
  template BasicVariable<T> mul(const BasicVariable<T>&, double);                  \
  template BasicVariable<T> rsub(double, const BasicVariable<T>&);                 \
  template BasicVariable<T> rdiv(double, const BasicVariable<T>&);                 \
  template BasicVariable<T> exp(const BasicVariable<T>&);                          \
  template BasicVariable<T> log(const BasicVariable<T>&);                          \
  template BasicVariable<T> sqrt(const BasicVariable<T>&);                         \
  template BasicVariable<T> square(const BasicVariable<T>&);                       \
  template BasicVariable<T> pow(const BasicVariable<T>&, double);                  \
  template BasicVariable<T> abs(const BasicVariable<T>&);
XTGRAD_INSTANTIATE(float)
XTGRAD_INSTANTIATE(double)
#undef XTGRAD_INSTANTIATE

}  // namespace xtgrad
