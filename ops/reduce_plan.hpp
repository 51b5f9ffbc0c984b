// Which output element each input element reduces into, for reductions over any set of axes.
// Internal to the ops' sources.
#pragma once

#include <cstddef>
#include <vector>

#include "xtgrad/core/tensor.hpp"
#include "xtgrad/ops/reductions_extra.hpp"

namespace xtgrad {

struct ReducePlan {
  Shape out_shape;                     // the kept axes (reduced ones as 1 with keepdims)
  std::vector<std::size_t> out_index;  // x's flat index → its output's flat index
  std::size_t out_size = 1;            // element count of out_shape
  std::size_t group = 1;               // input elements per output element
};

// The plan for reducing x over `axes` (negative count from the end; empty = every axis). Throws
// std::invalid_argument naming `op`, the axis and x's shape for an axis out of range or repeated.
// Defined for float and double (reduce_plan.cpp).
template <class T>
ReducePlan plan_reduction(const char* op, const TensorOf<T>& x, const Axes& axes, bool keepdims);

}  // namespace xtgrad
