// Elementwise ops with numpy broadcasting. Scalars are doubles: `x * 2`, `1 - x` just work; a
// Tensor next to a Variable is a constant: `x * mask`.
#pragma once

#include <type_traits>
#include <utility>

#include "xtgrad/core/variable.hpp"

namespace xtgrad {

template <class T>
BasicVariable<T> add(const BasicVariable<T>& a, const BasicVariable<T>& b);  // a + b
template <class T>
BasicVariable<T> sub(const BasicVariable<T>& a, const BasicVariable<T>& b);  // a − b
template <class T>
BasicVariable<T> mul(const BasicVariable<T>& a, const BasicVariable<T>& b);  // a ⊙ b
template <class T>
BasicVariable<T> div(const BasicVariable<T>& a, const BasicVariable<T>& b);  // a ⊘ b
template <class T>
BasicVariable<T> neg(const BasicVariable<T>& a);                     // −a

template <class T>
BasicVariable<T> add(const BasicVariable<T>& a, double s);  // a + s
template <class T>
BasicVariable<T> mul(const BasicVariable<T>& a, double s);  // s·a
template <class T>
BasicVariable<T> rsub(double s, const BasicVariable<T>& a);  // s − a
template <class T>
BasicVariable<T> rdiv(double s, const BasicVariable<T>& a);  // s ⊘ a

template <class T>
BasicVariable<T> exp(const BasicVariable<T>& x);             // eˣ
template <class T>
BasicVariable<T> log(const BasicVariable<T>& x);             // ln x (x > 0)
template <class T>
BasicVariable<T> sqrt(const BasicVariable<T>& x);            // √x (x > 0)
template <class T>
BasicVariable<T> square(const BasicVariable<T>& x);          // x²
template <class T>
BasicVariable<T> pow(const BasicVariable<T>& x, double p);   // xᵖ
template <class T>
BasicVariable<T> abs(const BasicVariable<T>& x);             // |x|; subgradient 0 at 0

template <class T>
inline BasicVariable<T> operator+(const BasicVariable<T>& a, const BasicVariable<T>& b) { return add(a, b); }  // add(a, b)
template <class T>
inline BasicVariable<T> operator-(const BasicVariable<T>& a, const BasicVariable<T>& b) { return sub(a, b); }  // sub(a, b)
template <class T>
inline BasicVariable<T> operator*(const BasicVariable<T>& a, const BasicVariable<T>& b) { return mul(a, b); }  // mul(a, b)
template <class T>
inline BasicVariable<T> operator/(const BasicVariable<T>& a, const BasicVariable<T>& b) { return div(a, b); }  // div(a, b)
template <class T>
inline BasicVariable<T> operator-(const BasicVariable<T>& a) { return neg(a); }  // neg(a)
template <class T>
inline BasicVariable<T> operator+(const BasicVariable<T>& a, double s) { return add(a, s); }  // a + s
template <class T>
inline BasicVariable<T> operator+(double s, const BasicVariable<T>& a) { return add(a, s); }  // s + a
template <class T>
inline BasicVariable<T> operator-(const BasicVariable<T>& a, double s) { return add(a, -s); }  // a − s
template <class T>
inline BasicVariable<T> operator-(double s, const BasicVariable<T>& a) { return rsub(s, a); }  // s − a
template <class T>
inline BasicVariable<T> operator*(const BasicVariable<T>& a, double s) { return mul(a, s); }  // s·a
template <class T>
inline BasicVariable<T> operator*(double s, const BasicVariable<T>& a) { return mul(a, s); }  // s·a
template <class T>
inline BasicVariable<T> operator/(const BasicVariable<T>& a, double s) { return mul(a, 1.0 / s); }  // (1/s)·a
template <class T>
inline BasicVariable<T> operator/(double s, const BasicVariable<T>& a) { return rdiv(s, a); }  // s ⊘ a

// A Variable with a Tensor, or any xtensor expression (converted to T), on either side: the
// Tensor is a constant, as a number is (`x * mask`, `t - y`; no gradient goes to it). The
// Variable is taken by value and the Tensor by forwarding reference, so that these, not
// xtensor's operators (which argument-dependent lookup brings in with the Tensor, and which
// would accept a Variable as a scalar and fail deep inside xtensor), are chosen.
template <class E>
struct IsTensorOperand : std::bool_constant<xt::is_xexpression<std::decay_t<E>>::value> {};
template <class T, class E>
BasicVariable<T> tensor_constant(E&& e) {
  return BasicVariable<T>(TensorOf<T>(std::forward<E>(e)));
}
template <class T, class E, std::enable_if_t<IsTensorOperand<E>::value, int> = 0>
BasicVariable<T> operator+(BasicVariable<T> a, E&& t) { return add(a, tensor_constant<T>(std::forward<E>(t))); }
template <class T, class E, std::enable_if_t<IsTensorOperand<E>::value, int> = 0>
BasicVariable<T> operator+(E&& t, BasicVariable<T> a) { return add(tensor_constant<T>(std::forward<E>(t)), a); }
template <class T, class E, std::enable_if_t<IsTensorOperand<E>::value, int> = 0>
BasicVariable<T> operator-(BasicVariable<T> a, E&& t) { return sub(a, tensor_constant<T>(std::forward<E>(t))); }
template <class T, class E, std::enable_if_t<IsTensorOperand<E>::value, int> = 0>
BasicVariable<T> operator-(E&& t, BasicVariable<T> a) { return sub(tensor_constant<T>(std::forward<E>(t)), a); }
template <class T, class E, std::enable_if_t<IsTensorOperand<E>::value, int> = 0>
BasicVariable<T> operator*(BasicVariable<T> a, E&& t) { return mul(a, tensor_constant<T>(std::forward<E>(t))); }
template <class T, class E, std::enable_if_t<IsTensorOperand<E>::value, int> = 0>
BasicVariable<T> operator*(E&& t, BasicVariable<T> a) { return mul(tensor_constant<T>(std::forward<E>(t)), a); }
template <class T, class E, std::enable_if_t<IsTensorOperand<E>::value, int> = 0>
BasicVariable<T> operator/(BasicVariable<T> a, E&& t) { return div(a, tensor_constant<T>(std::forward<E>(t))); }
template <class T, class E, std::enable_if_t<IsTensorOperand<E>::value, int> = 0>
BasicVariable<T> operator/(E&& t, BasicVariable<T> a) { return div(tensor_constant<T>(std::forward<E>(t)), a); }

}  // namespace xtgrad
