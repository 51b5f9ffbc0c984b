// Losses: fused softmax cross-entropy from logits, mean squared error.
#pragma once

#include <cstddef>
#include <vector>

#include "xtgrad/core/variable.hpp"

namespace xtgrad {
inline namespace XTGRAD_ABI {

// −(1/n) Σᵢ Σ_c yᵢc · log_softmax(zᵢ)_c for logits z (n, c) and targets y (n, c): one-hot
// rows or any probability rows. Fused: one node, stable for logits of any size; the
// gradient is (softmax(z)·Σ_c yᵢc − y)/n, i.e. (p − y)/n for one-hot y.
Variable cross_entropy(const Variable& logits, const Variable& targets);
// Same with class indices: labels[i] ∈ [0, c).
Variable cross_entropy(const Variable& logits, const std::vector<std::size_t>& labels);
// (1/N) Σ (prediction − target)² over all N elements; shapes must match exactly.
Variable mse(const Variable& prediction, const Variable& target);

}  // namespace XTGRAD_ABI
}  // namespace xtgrad
