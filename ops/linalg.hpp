// Matrix products through BLAS (transpose flags, never a transposed copy), transpose, reshape.
#pragma once

#include "xtgrad/core/variable.hpp"

namespace xtgrad {
inline namespace XTGRAD_ABI {

// a·b for a (m, k), b (k, n) → (m, n).
Variable matmul(const Variable& a, const Variable& b);
// x·W + b for x (n, in), W (in, out), b (out) or (1, out) → (n, out), in one node: the bias
// is written into the output first and the product added on top by gemm (β = 1).
Variable linear(const Variable& x, const Variable& weight, const Variable& bias);
// Reversed axes (for 2-d, the matrix transpose), materialized as a new array.
Variable transpose(const Variable& x);
// Same elements in a new shape with the same element count.
Variable reshape(const Variable& x, const Shape& shape);

}  // namespace XTGRAD_ABI
}  // namespace xtgrad
