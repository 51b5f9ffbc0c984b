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
#include "xtgrad/ops/simd_math.hpp"

namespace xtgrad {

// Whether T is a BasicVariable (of any scalar type).
template <class T>
struct IsBasicVariable : std::false_type {};
template <class T>
struct IsBasicVariable<BasicVariable<T>> : std::true_type {};

// ---- helpers for backward formulas written once over Tensors or Variables (core/accumulate.hpp) ----

// The value of an operand: the Tensor itself, or a Variable's value (for masks: constants).
template <class Scalar>
const TensorOf<Scalar>& value_of(const TensorOf<Scalar>& t) {
  return t;
}
template <class Scalar>
const TensorOf<Scalar>& value_of(const BasicVariable<Scalar>& v) {
  return v.value();
}

// A constant factor (a mask, a tie share) next to the gradient g: on the fast path the lazy
// expression itself, in a create_graph sweep a Variable without history (derivative 0).
template <class Scalar>
const TensorOf<Scalar>& constant_like(const TensorOf<Scalar>&, const TensorOf<Scalar>& t) {
  return t;
}
template <class Scalar, class E, class = std::enable_if_t<xt::is_xexpression<std::decay_t<E>>::value>>
std::decay_t<E> constant_like(const TensorOf<Scalar>&, E&& e) {
  return std::forward<E>(e);
}
template <class Scalar, class E>
BasicVariable<Scalar> constant_like(const BasicVariable<Scalar>&, const E& e) {
  return BasicVariable<Scalar>(evaluate(e), false);
}

// 0 in a formula: a Scalar on the fast path (xt::where takes one), a constant 0-d Variable in a
// create_graph sweep.
template <class Scalar>
Scalar zero_like(const TensorOf<Scalar>&) {
  return Scalar(0);
}
template <class Scalar>
BasicVariable<Scalar> zero_like(const BasicVariable<Scalar>&) {
  return BasicVariable<Scalar>(scalar_tensor(Scalar(0)), false);
}

// a where cond, else b (cond an expression over operand values): xt::where on the fast path,
// the differentiable where() in a create_graph sweep.
template <class C, class A, class B,
          class = std::enable_if_t<!IsBasicVariable<std::decay_t<A>>::value &&
                                   !IsBasicVariable<std::decay_t<B>>::value>>
auto select_where(C&& cond, A&& a, B&& b) {
  return xt::where(std::forward<C>(cond), std::forward<A>(a), std::forward<B>(b));
}
template <class C, class Scalar>
BasicVariable<Scalar> select_where(const C& cond, const BasicVariable<Scalar>& a, const BasicVariable<Scalar>& b) {
  using Tensor = TensorOf<Scalar>;
  using Variable = BasicVariable<Scalar>;
  Tensor c = evaluate(xt::cast<Scalar>(cond));  // 1 where cond holds, else 0
  Variable y = xtgrad::where(c, a, b);
  recycle(c);
  return y;
}

// y = f(x) elementwise (`f` on Scalars); backward dx = d(g, x, y), a formula run by backward_unary.
// Both run on every core above `grain` elements: kExpGrain when f or d calls exp, log,
// erf, sin ..., kElementwiseGrain for a few comparisons and multiplications.
template <class Scalar, class F, class D>
BasicVariable<Scalar> pointwise(const char* op, const BasicVariable<Scalar>& x, F f, D d,
                                std::size_t grain = kExpGrain) {
  using Tensor = TensorOf<Scalar>;
  using Node = BasicNode<Scalar>;
  const Tensor& v = x.value();
  Tensor y = empty_like(v);
  const Scalar* xs = v.data();
  Scalar* ys = y.data();
  parallel_blocks(v.size(), grain, [&](std::size_t b, std::size_t e) {
    for (std::size_t k = b; k < e; ++k) ys[k] = f(xs[k]);
  });
  return make_result(op, std::move(y), {x}, [d, grain](Node& self) { backward_unary(self, d, grain); });
}

}  // namespace xtgrad
