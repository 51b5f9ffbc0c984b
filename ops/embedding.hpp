// Embedding lookup: rows of a table selected by integer indices.
#pragma once

#include "xtgrad/core/index.hpp"
#include "xtgrad/core/variable.hpp"

namespace xtgrad {

// y[..., :] = weight[indices[...], :] for weight (V, D) and indices of any shape in [0, V)
// → indices.shape + (D). The gradient adds each g row into the row it came from.
template <class T>
BasicVariable<T> embedding(const IndexTensor& indices, const BasicVariable<T>& weight);
// Same with indices held by a (constant) float Variable, checked to be whole numbers in
// [0, V): what nn::Embedding's forward(Variable) gets. Indices get no gradient.
template <class T>
BasicVariable<T> embedding(const BasicVariable<T>& indices, const BasicVariable<T>& weight);

}  // namespace xtgrad
