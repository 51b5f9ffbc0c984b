// Indexing along an axis: index_select, gather, scatter_add, and one_hot. Index tensors hold
// integer values in the library's scalar type (as argmax returns them).
#pragma once

#include <cstddef>
#include <vector>

#include "xtgrad/core/variable.hpp"

namespace xtgrad {
inline namespace XTGRAD_ABI {

// The slices at `indices` along `axis` (repeats allowed); dx adds g back at those slices.
Variable index_select(const Variable& x, int axis, const std::vector<std::size_t>& indices);
// y[p] = x[p with p_axis replaced by index[p]]: y has index's shape, which must have x's rank and
// no larger extents than x off the axis (as PyTorch). dx[…] += g at the gathered positions.
Variable gather(const Variable& x, int axis, const Tensor& index);
// x with src[p] added at x[p with p_axis replaced by index[p]] for every p in index's shape
// (index no larger than src, and than x off the axis). dx = g, dsrc = g gathered back.
Variable scatter_add(const Variable& x, int axis, const Tensor& index, const Variable& src);
// (n, classes) rows of 0 with a 1 at each label (a constant).
Tensor one_hot(const std::vector<std::size_t>& labels, std::size_t classes);

}  // namespace XTGRAD_ABI
}  // namespace xtgrad
