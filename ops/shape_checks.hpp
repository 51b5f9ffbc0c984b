// Shape checks shared by the ops: each throws std::invalid_argument naming the op and the
// shapes involved.
#pragma once

#include <cstddef>

#include "xtgrad/core/tensor.hpp"

namespace xtgrad {
inline namespace XTGRAD_ABI {

// Numpy broadcast shape of a and b; throws "op: shapes (2, 3) and (4,) do not broadcast".
Shape broadcast_shape(const char* op, const Tensor& a, const Tensor& b);
// The same check without building the shape (no allocation: the ops run it every step).
void check_broadcastable(const char* op, const Tensor& a, const Tensor& b);
// Throws unless a and b have exactly the same shape.
void check_same_shape(const char* op, const Tensor& a, const Tensor& b, const char* a_name = "lhs",
                      const char* b_name = "rhs");
// Throws unless x has rank `rank`.
void check_rank(const char* op, const Tensor& x, std::size_t rank, const char* name = "input");
// Maps a possibly negative axis into [0, rank); throws if out of range.
std::size_t normalize_axis(const char* op, const Tensor& x, int axis);

}  // namespace XTGRAD_ABI
}  // namespace xtgrad
