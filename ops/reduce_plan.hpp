// Which output element each input element reduces into, for reductions over any set of axes;
// and the checks every reduction makes on its `Axes`. Internal to the ops' sources.
#pragma once

#include <cstddef>
#include <vector>

#include "xtgrad/core/tensor.hpp"
#include "xtgrad/ops/reductions.hpp"

namespace xtgrad {

struct ReducePlan {
  Shape out_shape;                     // the kept axes (reduced ones as 1 with keepdims)
  std::vector<std::size_t> out_index;  // x's flat index → its output's flat index
  std::size_t out_size = 1;            // element count of out_shape
  std::size_t group = 1;               // input elements per output element
};

// The reduced dimensions of x when they form one run [first, last] (every axis, one axis, or
// adjacent ones): x is then (outer, n, inner) with n = Π extents of the run. `contiguous` is
// false for axes with a gap ({0, 2} of a rank-3 x; outer, n, inner then mean nothing). For a
// 0-d x and every axis, first > last.
struct AxisRun {
  bool contiguous = false;
  std::size_t first = 0, last = 0;
  std::size_t outer = 1, n = 1, inner = 1;
};

// Checks `axes` against x: a list must be non-empty, each axis in [−rank, rank) and given once.
// Throws std::invalid_argument naming `op`, the axis, the rank and x's shape. Allocates nothing.
template <class T>
AxisRun axis_run(const char* op, const TensorOf<T>& x, const Axes& axes);

// x's shape with the reduced axes as 1.
template <class T>
Shape kept_shape(const char* op, const TensorOf<T>& x, const Axes& axes);

// The plan for reducing x over `axes` (checked as by axis_run).
// Defined for float and double (reduce_plan.cpp).
template <class T>
ReducePlan plan_reduction(const char* op, const TensorOf<T>& x, const Axes& axes, bool keepdims);

}  // namespace xtgrad
