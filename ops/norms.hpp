// Parameter norms, the building blocks of the regularizers, and the p-norm along axes.
#pragma once

#include "xtgrad/core/variable.hpp"
#include "xtgrad/ops/reductions.hpp"

namespace xtgrad {

template <class T>
BasicVariable<T> l1(const BasicVariable<T>& w);          // Σ|w|: shape (); gradient sign(w), 0 at 0
template <class T>
BasicVariable<T> squared_l2(const BasicVariable<T>& w);  // Σw²: shape (); gradient 2w

// (Σ |x|ᵖ)^(1/p) over `axes` (torch.linalg.vector_norm): p = 1 Σ|x|, p = 2 √Σx², p = ±inf
// max/min |x| (ties split the gradient evenly), any other p > 0 the general form. Composed of
// abs, pow/square/sqrt, where and the reductions, so second derivatives come with it. dx =
// g·sign(x)·|x|ᵖ⁻¹/yᵖ⁻¹ (p = 2: g·x/y); 0 in a lane of zeros, as PyTorch (for p < 1 a single
// zero element still gives an infinite |x|ᵖ⁻¹). Throws unless p > 0 or p = −inf.
template <class T>
BasicVariable<T> norm(const BasicVariable<T>& x, double p = 2.0, Axes axes = Axes::all(), bool keepdims = false);

}  // namespace xtgrad
