// More elementwise ops: clamp, where, maximum/minimum, log1p, expm1, sin, cos, pow with a
// tensor exponent, reciprocal, sign. Binary ops broadcast as numpy does.
#pragma once

#include <optional>

#include "xtgrad/core/variable.hpp"

namespace xtgrad {
inline namespace XTGRAD_ABI {

// min(max(x, lo), hi), either bound optional; dx = g where lo ≤ x ≤ hi (bounds included, as
// PyTorch), 0 outside. NaN stays NaN. Throws if lo > hi (PyTorch returns hi everywhere).
Variable clamp(const Variable& x, std::optional<double> lo, std::optional<double> hi);
// a where condition ≠ 0, else b; all three broadcast together. da = g·[c], db = g·[¬c].
Variable where(const Tensor& condition, const Variable& a, const Variable& b);
// Elementwise max(a, b), NaN if either is NaN; on ties each input gets g/2 (as PyTorch).
Variable maximum(const Variable& a, const Variable& b);
// Elementwise min(a, b), NaN if either is NaN; on ties each input gets g/2 (as PyTorch).
Variable minimum(const Variable& a, const Variable& b);
Variable log1p(const Variable& x);  // ln(1 + x), accurate for small x; dx = g/(1 + x)
Variable expm1(const Variable& x);  // eˣ − 1, accurate for small x; dx = g·eˣ
Variable sin(const Variable& x);    // sin x; dx = g·cos x
Variable cos(const Variable& x);    // cos x; dx = −g·sin x
// xᵖ with a tensor exponent (broadcast). dx = g·p·xᵖ⁻¹ (0 where p = 0); dp = g·xᵖ·ln x
// (0 where x = 0 and p ≥ 0), as PyTorch.
Variable pow(const Variable& x, const Variable& p);
Variable reciprocal(const Variable& x);  // 1/x; dx = −g/x²
// −1, 0 or +1 (NaN stays NaN). A constant: no gradient flows through it (PyTorch: zeros).
Variable sign(const Variable& x);

}  // namespace XTGRAD_ABI
}  // namespace xtgrad
