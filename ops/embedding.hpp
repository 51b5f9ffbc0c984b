// Embedding lookup: rows of a table selected by integer indices.
#pragma once

#include "xtgrad/core/variable.hpp"

namespace xtgrad {
inline namespace XTGRAD_ABI {

// y[..., :] = weight[indices[...], :] for weight (V, D) and indices of any shape holding whole
// numbers in [0, V) → indices.shape + (D). The gradient adds each g row into the row it
// came from; indices get none.
Variable embedding(const Variable& indices, const Variable& weight);

}  // namespace XTGRAD_ABI
}  // namespace xtgrad
