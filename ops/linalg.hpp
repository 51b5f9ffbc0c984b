// Matrix products through BLAS (transpose flags, never a transposed copy), transpose, reshape.
#pragma once

#include "xtgrad/core/variable.hpp"

namespace xtgrad {

// a·b for a (m, k), b (k, n) → (m, n).
template <class T>
BasicVariable<T> matmul(const BasicVariable<T>& a, const BasicVariable<T>& b);
// x·W + b for x (n, in), W (in, out), b (out) or (1, out) → (n, out), in one node: the bias
// is written into the output first and the product added on top by gemm (β = 1).
template <class T>
BasicVariable<T> linear(const BasicVariable<T>& x, const BasicVariable<T>& weight, const BasicVariable<T>& bias);
// Reversed axes (for 2-d, the matrix transpose), materialized as a new array.
template <class T>
BasicVariable<T> transpose(const BasicVariable<T>& x);
// Same elements in a new shape with the same element count.
template <class T>
BasicVariable<T> reshape(const BasicVariable<T>& x, const Shape& shape);

}  // namespace xtgrad
