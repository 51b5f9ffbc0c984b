// The one integer index type: class labels, positions for index_select / gather /
// scatter_add, embedding rows, what argmax / argmin return. 64-bit signed integers, as
// PyTorch's torch.long, so a negative value (ignore_index = −100) can be told apart.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

#include "xtgrad/core/tensor.hpp"

namespace xtgrad {

using Index = std::int64_t;
// Any shape, row-major: labels (n), gather / scatter indices of the input's rank, embedding
// indices of any shape.
using IndexTensor = xt::xarray<Index>;

// A 1-d IndexTensor holding `values` in order: index_tensor({0, 2, 1}).
IndexTensor index_tensor(std::initializer_list<Index> values);
IndexTensor index_tensor(const std::vector<std::size_t>& values);

// `value` as a position in [0, size); otherwise std::invalid_argument
// "<op>: index <value> at flat position <position> is out of range for size <size><where>".
std::size_t checked_index(const char* op, Index value, std::size_t position, std::size_t size,
                          const std::string& where = {});

// Every element of `index` checked by checked_index, in row-major order.
std::vector<std::size_t> checked_indices(const char* op, const IndexTensor& index, std::size_t size,
                                         const std::string& where = {});

// The whole numbers held by a float tensor (labels loaded as floats, the float index forms of
// gather / scatter_add / embedding) as an IndexTensor of the same shape; a value that is not a
// whole number (NaN, 0.5, beyond ±2⁶³) throws std::invalid_argument naming `op` and its position.
template <class T>
IndexTensor to_index_tensor(const TensorOf<T>& values, const char* op = "to_index_tensor");

}  // namespace xtgrad
