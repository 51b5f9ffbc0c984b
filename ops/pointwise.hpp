// One-input elementwise ops: the value by a scalar function y = f(x), the backward by one
// formula over Tensors or Variables (core/accumulate.hpp), so they have second derivatives.
// Internal to the ops' sources. The values are plain loops with std:: maths: the value of an
// element depends only on that element (no SIMD body and scalar tail that disagree).
#pragma once

#include <type_traits>
#include <utility>

#include "xtgrad/core/accumulate.hpp"
#include "xtgrad/core/variable.hpp"
#include "xtgrad/ops/elementwise.hpp"
#include "xtgrad/ops/elementwise_math.hpp"

namespace xtgrad {
inline namespace XTGRAD_ABI {

// ---- helpers for backward formulas written once over Tensors or Variables (core/accumulate.hpp) ----

// The value of an operand: the Tensor itself, or a Variable's value (for masks: constants).
inline const Tensor& value_of(const Tensor& t) { return t; }
inline const Tensor& value_of(const Variable& v) { return v.value(); }

// A constant factor (a mask, a tie share) next to the gradient g: on the fast path the lazy
// expression itself, in a create_graph sweep a Variable without history (derivative 0).
inline const Tensor& constant_like(const Tensor&, const Tensor& t) { return t; }
template <class E, class = std::enable_if_t<xt::is_xexpression<std::decay_t<E>>::value>>
std::decay_t<E> constant_like(const Tensor&, E&& e) {
  return std::forward<E>(e);
}
template <class E>
Variable constant_like(const Variable&, const E& e) {
  return Variable(evaluate(e), false);
}

// 0 in a formula: a Scalar on the fast path (xt::where takes one), a constant 0-d Variable in a
// create_graph sweep.
inline Scalar zero_like(const Tensor&) { return Scalar(0); }
inline Variable zero_like(const Variable&) { return Variable(scalar_tensor(Scalar(0)), false); }

// a where cond, else b (cond an expression over operand values): xt::where on the fast path,
// the differentiable where() in a create_graph sweep.
template <class C, class A, class B,
          class = std::enable_if_t<!std::is_same_v<std::decay_t<A>, Variable> && !std::is_same_v<std::decay_t<B>, Variable>>>
auto select_where(C&& cond, A&& a, B&& b) {
  return xt::where(std::forward<C>(cond), std::forward<A>(a), std::forward<B>(b));
}
template <class C>
Variable select_where(const C& cond, const Variable& a, const Variable& b) {
  Tensor c = evaluate(cond);
  Variable y = xtgrad::where(c, a, b);
  recycle(c);
  return y;
}

// y = f(x) elementwise (`f` on Scalars); backward dx = d(g, x, y), a formula run by backward_unary.
template <class F, class D>
Variable pointwise(const char* op, const Variable& x, F f, D d) {
  const Tensor& v = x.value();
  Tensor y = empty_like(v);
  const Scalar* xs = v.data();
  Scalar* ys = y.data();
  for (std::size_t k = 0; k < v.size(); ++k) ys[k] = f(xs[k]);
  return make_result(op, std::move(y), {x}, [d](Node& self) { backward_unary(self, d); });
}

}  // namespace XTGRAD_ABI
}  // namespace xtgrad
