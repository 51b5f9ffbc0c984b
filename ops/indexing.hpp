// Indexing along an axis: index_select, gather, scatter_add, and one_hot. Indices are
// IndexTensors (core/index.hpp: int64, as argmax returns them); an index outside [0, size)
// throws std::invalid_argument naming the op, the index and the size. The older forms stay:
// std::vector<std::size_t> positions, and float index tensors checked to hold whole numbers in
// range (float holds every integer up to 2²⁴ exactly).
#pragma once

#include <cstddef>
#include <initializer_list>
#include <vector>

#include "xtgrad/core/index.hpp"
#include "xtgrad/core/variable.hpp"

namespace xtgrad {

// The slices at `indices` (1-d) along `axis` (repeats allowed); dx adds g back at those slices.
template <class T>
BasicVariable<T> index_select(const BasicVariable<T>& x, int axis, const IndexTensor& indices);
template <class T>
BasicVariable<T> index_select(const BasicVariable<T>& x, int axis, const std::vector<std::size_t>& indices);
// index_select(x, 1, {2, 0, 2}): a braced list of positions.
template <class T>
BasicVariable<T> index_select(const BasicVariable<T>& x, int axis, std::initializer_list<Index> indices) {
  return index_select(x, axis, index_tensor(indices));
}
// y[p] = x[p with p_axis replaced by index[p]]: y has index's shape, which must have x's rank and
// no larger extents than x off the axis (as PyTorch). dx[…] += g at the gathered positions.
template <class T>
BasicVariable<T> gather(const BasicVariable<T>& x, int axis, const IndexTensor& index);
template <class T>
BasicVariable<T> gather(const BasicVariable<T>& x, int axis, const TensorOf<NonDeduced<T>>& index);
// x with src[p] added at x[p with p_axis replaced by index[p]] for every p in index's shape
// (index no larger than src, and than x off the axis). dx = g, dsrc = g gathered back.
template <class T>
BasicVariable<T> scatter_add(const BasicVariable<T>& x, int axis, const IndexTensor& index, const BasicVariable<T>& src);
template <class T>
BasicVariable<T> scatter_add(const BasicVariable<T>& x, int axis, const TensorOf<NonDeduced<T>>& index,
                             const BasicVariable<T>& src);
// (n, classes) rows of 0 with a 1 at each label (a constant; float unless T is given). Labels
// must be 1-d.
template <class T = float>
TensorOf<T> one_hot(const IndexTensor& labels, std::size_t classes);
template <class T = float>
TensorOf<T> one_hot(const std::vector<std::size_t>& labels, std::size_t classes);
template <class T = float>
TensorOf<T> one_hot(std::initializer_list<Index> labels, std::size_t classes) {
  return one_hot<T>(index_tensor(labels), classes);
}

}  // namespace xtgrad
