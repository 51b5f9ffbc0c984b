// Matrix products through BLAS (transpose flags, never a transposed copy), transpose, reshape.
#pragma once

#include "xtgrad/core/variable.hpp"

namespace xtgrad {

// a·b for a (..., m, k) of rank >= 2 and b (k, n) → (..., m, n): the leading axes of a and m fold
// into the rows of one gemm (a is contiguous: no copy); db = a2dᵀ·g2d sums over them. A batched
// b (torch.matmul's broadcasting, 1-d operands) is matmul_nd's (ops/matmul_nd.hpp).
template <class T>
BasicVariable<T> matmul(const BasicVariable<T>& a, const BasicVariable<T>& b);
// x·W + b for x (..., in) of rank >= 1, W (in, out), b (out) or (1, out) → (..., out), in one
// node: the leading axes of x fold into the rows of one gemm (no reshape copy), the bias is
// written into the output first and the product added on top by gemm (β = 1). Backward:
// dx = g·Wᵀ, dW = x2dᵀ·g2d (a transpose flag), db = Σ_rows g, x2d and g2d the folded views.
template <class T>
BasicVariable<T> linear(const BasicVariable<T>& x, const BasicVariable<T>& weight, const BasicVariable<T>& bias);
// Reversed axes (for 2-d, the matrix transpose), materialized as a new array.
template <class T>
BasicVariable<T> transpose(const BasicVariable<T>& x);
// Same elements in a new shape with the same element count.
template <class T>
BasicVariable<T> reshape(const BasicVariable<T>& x, const Shape& shape);

}  // namespace xtgrad
