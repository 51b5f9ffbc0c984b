// More elementwise ops: clamp, where, maximum/minimum, log1p, expm1, sin, cos, pow with a
// tensor exponent, reciprocal, sign. Binary ops broadcast as numpy does.
#pragma once

#include <optional>

#include "xtgrad/core/variable.hpp"

namespace xtgrad {

// min(max(x, lo), hi), either bound optional; dx = g where lo ≤ x ≤ hi (bounds included, as
// PyTorch), 0 outside. NaN stays NaN. Throws if lo > hi (PyTorch returns hi everywhere).
template <class T>
BasicVariable<T> clamp(const BasicVariable<T>& x, std::optional<double> lo, std::optional<double> hi);
// a where condition ≠ 0, else b; all three broadcast together. da = g·[c], db = g·[¬c].
template <class T>
BasicVariable<T> where(const TensorOf<T>& condition, const BasicVariable<T>& a, const BasicVariable<T>& b);
// Elementwise max(a, b), NaN if either is NaN; on ties each input gets g/2 (as PyTorch).
template <class T>
BasicVariable<T> maximum(const BasicVariable<T>& a, const BasicVariable<T>& b);
// Elementwise min(a, b), NaN if either is NaN; on ties each input gets g/2 (as PyTorch).
template <class T>
BasicVariable<T> minimum(const BasicVariable<T>& a, const BasicVariable<T>& b);
template <class T>
BasicVariable<T> log1p(const BasicVariable<T>& x);  // ln(1 + x), accurate for small x; dx = g/(1 + x)
template <class T>
BasicVariable<T> expm1(const BasicVariable<T>& x);  // eˣ − 1, accurate for small x; dx = g·eˣ
template <class T>
BasicVariable<T> sin(const BasicVariable<T>& x);    // sin x; dx = g·cos x
template <class T>
BasicVariable<T> cos(const BasicVariable<T>& x);    // cos x; dx = −g·sin x
// xᵖ with a tensor exponent (broadcast). dx = g·p·xᵖ⁻¹ (0 where p = 0); dp = g·xᵖ·ln x
// (0 where x = 0 and p ≥ 0), as PyTorch.
template <class T>
BasicVariable<T> pow(const BasicVariable<T>& x, const BasicVariable<T>& p);
template <class T>
BasicVariable<T> reciprocal(const BasicVariable<T>& x);  // 1/x; dx = −g/x²
// −1, 0 or +1 (NaN stays NaN). A constant: no gradient flows through it (PyTorch: zeros).
template <class T>
BasicVariable<T> sign(const BasicVariable<T>& x);

}  // namespace xtgrad
