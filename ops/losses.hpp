// Losses: fused softmax cross-entropy from logits, mean squared error.
#pragma once

#include <cstddef>
#include <initializer_list>
#include <vector>

#include "xtgrad/core/index.hpp"
#include "xtgrad/core/variable.hpp"

namespace xtgrad {

// −(1/n) Σᵢ Σ_c yᵢc · log_softmax(zᵢ)_c for logits z (n, c) and targets y (n, c): one-hot
// rows or any probability rows. Targets of shape (n) are class indices held as floats (what a
// DataLoader over label_tensor gives), checked to be whole numbers, as the IndexTensor form. Fused: one node, stable for logits of any size; the
// gradient is (softmax(z)·Σ_c yᵢc − y)/n, i.e. (p − y)/n for one-hot y.
template <class T>
BasicVariable<T> cross_entropy(const BasicVariable<T>& logits, const BasicVariable<T>& targets);
// Same with class indices (n), PyTorch's cross_entropy(z, y): labels[i] ∈ [0, c) or −100
// (ignored, as PyTorch's default ignore_index; losses_extra.hpp has the options).
template <class T>
BasicVariable<T> cross_entropy(const BasicVariable<T>& logits, const IndexTensor& labels);
// Same with positions: labels[i] ∈ [0, c). One fused node, no allocation in a training loop.
template <class T>
BasicVariable<T> cross_entropy(const BasicVariable<T>& logits, const std::vector<std::size_t>& labels);
// cross_entropy(z, {2, 0, 1}): a braced list of class indices.
template <class T>
BasicVariable<T> cross_entropy(const BasicVariable<T>& logits, std::initializer_list<Index> labels) {
  return cross_entropy(logits, index_tensor(labels));
}
// (1/N) Σ (prediction − target)² over all N elements; shapes must match exactly.
template <class T>
BasicVariable<T> mse(const BasicVariable<T>& prediction, const BasicVariable<T>& target);

}  // namespace xtgrad
