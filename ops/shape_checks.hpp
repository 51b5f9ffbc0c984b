// Shape checks shared by the ops: each throws std::invalid_argument naming the op and the
// shapes involved. Defined for TensorOf<float> and TensorOf<double>.
#pragma once

#include <cstddef>

#include "xtgrad/core/tensor.hpp"

namespace xtgrad {

// Numpy broadcast shape of a and b; throws "op: shapes (2, 3) and (4,) do not broadcast".
template <class T>
Shape broadcast_shape(const char* op, const TensorOf<T>& a, const TensorOf<T>& b);
// The same check without building the shape (no allocation: the ops run it every step).
template <class T>
void check_broadcastable(const char* op, const TensorOf<T>& a, const TensorOf<T>& b);
// Throws unless a and b have exactly the same shape.
template <class T>
void check_same_shape(const char* op, const TensorOf<T>& a, const TensorOf<T>& b, const char* a_name = "lhs",
                      const char* b_name = "rhs");
// Throws unless x has rank `rank`.
template <class T>
void check_rank(const char* op, const TensorOf<T>& x, std::size_t rank, const char* name = "input");
// Maps a possibly negative axis into [0, rank); throws if out of range.
template <class T>
std::size_t normalize_axis(const char* op, const TensorOf<T>& x, int axis);

}  // namespace xtgrad
