// Losses: fused softmax cross-entropy from logits, mean squared error.
#pragma once

#include <cstddef>
#include <vector>

#include "xtgrad/core/variable.hpp"

namespace xtgrad {

// −(1/n) Σᵢ Σ_c yᵢc · log_softmax(zᵢ)_c for logits z (n, c) and targets y (n, c): one-hot
// rows or any probability rows. Fused: one node, stable for logits of any size; the
// gradient is (softmax(z)·Σ_c yᵢc − y)/n, i.e. (p − y)/n for one-hot y.
template <class T>
BasicVariable<T> cross_entropy(const BasicVariable<T>& logits, const BasicVariable<T>& targets);
// Same with class indices: labels[i] ∈ [0, c).
template <class T>
BasicVariable<T> cross_entropy(const BasicVariable<T>& logits, const std::vector<std::size_t>& labels);
// (1/N) Σ (prediction − target)² over all N elements; shapes must match exactly.
template <class T>
BasicVariable<T> mse(const BasicVariable<T>& prediction, const BasicVariable<T>& target);

}  // namespace xtgrad
