// Matrix products through BLAS (transpose flags, never a transposed copy), transpose, reshape.
#pragma once

#include <initializer_list>

#include "xtgrad/core/variable.hpp"

namespace xtgrad {

// a·b for a (..., m, k) of rank >= 2 and b (k, n) → (..., m, n): the leading axes of a and m fold
// into the rows of one gemm (a is contiguous: no copy); db = a2dᵀ·g2d sums over them. A batched
// b (torch.matmul's broadcasting, 1-d operands) is matmul_nd's (ops/matmul_nd.hpp).
template <class T>
BasicVariable<T> matmul(const BasicVariable<T>& a, const BasicVariable<T>& b);
// y = x·Wᵀ + b for x (..., in) of rank >= 1, W (out, in), b (out) or (1, out) → (..., out), in one
// node: torch.nn.functional.linear's layout (W (out, in), as nn::Linear stores it; before 0.2 it
// was (in, out): for x·W write matmul(x, W)). The leading axes of x fold into the rows of one
// gemm (no reshape copy), Wᵀ is a gemm flag, the bias is written into the output first and the
// product added on top (β = 1). Backward: dx = g·W, dW = g2dᵀ·x2d, db = Σ_rows g, x2d and g2d the
// folded views.
template <class T>
BasicVariable<T> linear(const BasicVariable<T>& x, const BasicVariable<T>& weight, const BasicVariable<T>& bias);
// y = x·Wᵀ without a bias (nn::Linear with bias = false).
template <class T>
BasicVariable<T> linear(const BasicVariable<T>& x, const BasicVariable<T>& weight);
// Reversed axes (for 2-d, the matrix transpose), materialized as a new array.
template <class T>
BasicVariable<T> transpose(const BasicVariable<T>& x);
// Same elements in a new shape with the same element count.
template <class T>
BasicVariable<T> reshape(const BasicVariable<T>& x, const Shape& shape);
// The same with the extents as a braced list, reshape(x, {n, d}): no Shape vector is built (no
// heap allocation up to rank 4).
template <class T>
BasicVariable<T> reshape(const BasicVariable<T>& x, std::initializer_list<std::size_t> shape);

}  // namespace xtgrad
