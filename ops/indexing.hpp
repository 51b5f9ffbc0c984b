// Indexing along an axis: index_select, gather, scatter_add, and one_hot. Index tensors hold
// integer values in the library's scalar type (as argmax returns them).
#pragma once

#include <cstddef>
#include <vector>

#include "xtgrad/core/variable.hpp"

namespace xtgrad {

// The slices at `indices` along `axis` (repeats allowed); dx adds g back at those slices.
template <class T>
BasicVariable<T> index_select(const BasicVariable<T>& x, int axis, const std::vector<std::size_t>& indices);
// y[p] = x[p with p_axis replaced by index[p]]: y has index's shape, which must have x's rank and
// no larger extents than x off the axis (as PyTorch). dx[…] += g at the gathered positions.
template <class T>
BasicVariable<T> gather(const BasicVariable<T>& x, int axis, const TensorOf<T>& index);
// x with src[p] added at x[p with p_axis replaced by index[p]] for every p in index's shape
// (index no larger than src, and than x off the axis). dx = g, dsrc = g gathered back.
template <class T>
BasicVariable<T> scatter_add(const BasicVariable<T>& x, int axis, const TensorOf<T>& index, const BasicVariable<T>& src);
// (n, classes) rows of 0 with a 1 at each label (a constant; float unless T is given).
template <class T = float>
TensorOf<T> one_hot(const std::vector<std::size_t>& labels, std::size_t classes);

}  // namespace xtgrad
