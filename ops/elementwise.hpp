// Elementwise ops with numpy broadcasting. Scalars are doubles: `x * 2`, `1 - x` just work.
#pragma once

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

}  // namespace xtgrad
