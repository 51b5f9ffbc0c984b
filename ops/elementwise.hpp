// Elementwise ops with numpy broadcasting. Scalars are doubles: `x * 2`, `1 - x` just work.
#pragma once

#include "xtgrad/core/variable.hpp"

namespace xtgrad {
inline namespace XTGRAD_ABI {

Variable add(const Variable& a, const Variable& b);  // a + b
Variable sub(const Variable& a, const Variable& b);  // a − b
Variable mul(const Variable& a, const Variable& b);  // a ⊙ b
Variable div(const Variable& a, const Variable& b);  // a ⊘ b
Variable neg(const Variable& a);                     // −a

Variable add(const Variable& a, double s);  // a + s
Variable mul(const Variable& a, double s);  // s·a
Variable rsub(double s, const Variable& a);  // s − a
Variable rdiv(double s, const Variable& a);  // s ⊘ a

Variable exp(const Variable& x);             // eˣ
Variable log(const Variable& x);             // ln x (x > 0)
Variable sqrt(const Variable& x);            // √x (x > 0)
Variable square(const Variable& x);          // x²
Variable pow(const Variable& x, double p);   // xᵖ
Variable abs(const Variable& x);             // |x|; subgradient 0 at 0

inline Variable operator+(const Variable& a, const Variable& b) { return add(a, b); }  // add(a, b)
inline Variable operator-(const Variable& a, const Variable& b) { return sub(a, b); }  // sub(a, b)
inline Variable operator*(const Variable& a, const Variable& b) { return mul(a, b); }  // mul(a, b)
inline Variable operator/(const Variable& a, const Variable& b) { return div(a, b); }  // div(a, b)
inline Variable operator-(const Variable& a) { return neg(a); }  // neg(a)
inline Variable operator+(const Variable& a, double s) { return add(a, s); }  // a + s
inline Variable operator+(double s, const Variable& a) { return add(a, s); }  // s + a
inline Variable operator-(const Variable& a, double s) { return add(a, -s); }  // a − s
inline Variable operator-(double s, const Variable& a) { return rsub(s, a); }  // s − a
inline Variable operator*(const Variable& a, double s) { return mul(a, s); }  // s·a
inline Variable operator*(double s, const Variable& a) { return mul(a, s); }  // s·a
inline Variable operator/(const Variable& a, double s) { return mul(a, 1.0 / s); }  // (1/s)·a
inline Variable operator/(double s, const Variable& a) { return rdiv(s, a); }  // s ⊘ a

}  // namespace XTGRAD_ABI
}  // namespace xtgrad
