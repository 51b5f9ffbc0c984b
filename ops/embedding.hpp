// Embedding lookup: rows of a table selected by integer indices.
#pragma once

#include "xtgrad/core/variable.hpp"

namespace xtgrad {

// y[..., :] = weight[indices[...], :] for weight (V, D) and indices of any shape holding whole
// numbers in [0, V) → indices.shape + (D). The gradient adds each g row into the row it
// came from; indices get none.
template <class T>
BasicVariable<T> embedding(const BasicVariable<T>& indices, const BasicVariable<T>& weight);

}  // namespace xtgrad
