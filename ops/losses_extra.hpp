// More losses, with PyTorch's options and reductions: nll_loss, cross_entropy with class
// weights / ignore_index / label smoothing, binary_cross_entropy_with_logits, mse_loss,
// l1_loss, huber_loss, smooth_l1_loss, kl_div.
#pragma once

#include <cstddef>
#include <initializer_list>
#include <optional>
#include <utility>
#include <vector>

#include "xtgrad/core/index.hpp"
#include "xtgrad/core/variable.hpp"

namespace xtgrad {

// How per-element (or per-row) losses are combined. batch_mean (sum / first extent) is only
// for kl_div, as PyTorch's reduction='batchmean'.
enum class Reduction { none, mean, sum, batch_mean };

template <class T>
struct BasicNllLossOptions {
  std::optional<TensorOf<T>> weight;             // (classes) per-class weights w; all 1 if absent
  // rows with this label add nothing (and no weight); PyTorch's default −100; nullopt: none
  std::optional<Index> ignore_index = Index{-100};
  Reduction reduction = Reduction::mean;    // mean = Σᵢ lossᵢ / Σᵢ w[yᵢ] over kept rows

  // chainable setters (C++17): NllLossOptions().set_ignore_index(-1).set_reduction(Reduction::sum)
  BasicNllLossOptions& set_weight(TensorOf<T> v) { weight = std::move(v); return *this; }
  BasicNllLossOptions& set_ignore_index(std::optional<Index> v) { ignore_index = v; return *this; }
  BasicNllLossOptions& set_reduction(Reduction v) { reduction = v; return *this; }
};
// lossᵢ = −w[yᵢ]·x[i, yᵢ] for log-probabilities x (n, classes) and labels yᵢ ∈ [0, classes).
// labels (n): an IndexTensor, a std::vector<std::size_t> or a braced list; any other label than
// ignore_index outside [0, classes) throws std::invalid_argument.
template <class T>
BasicVariable<T> nll_loss(const BasicVariable<T>& log_probs, const IndexTensor& labels,
                          const BasicNllLossOptions<NonDeduced<T>>& options = {});
template <class T>
BasicVariable<T> nll_loss(const BasicVariable<T>& log_probs, const std::vector<std::size_t>& labels,
                  const BasicNllLossOptions<NonDeduced<T>>& options = {});
template <class T>
BasicVariable<T> nll_loss(const BasicVariable<T>& log_probs, std::initializer_list<Index> labels,
                          const BasicNllLossOptions<NonDeduced<T>>& options = {}) {
  return nll_loss(log_probs, index_tensor(labels), options);
}

template <class T>
struct BasicCrossEntropyOptions {
  std::optional<TensorOf<T>> weight;             // (classes) per-class weights w
  std::optional<Index> ignore_index = Index{-100};  // rows with this label add nothing (PyTorch's −100)
  double label_smoothing = 0.0;             // ε ∈ [0, 1]
  Reduction reduction = Reduction::mean;

  // chainable setters (C++17): CrossEntropyOptions().set_label_smoothing(0.1).set_ignore_index(0)
  BasicCrossEntropyOptions& set_weight(TensorOf<T> v) { weight = std::move(v); return *this; }
  BasicCrossEntropyOptions& set_ignore_index(std::optional<Index> v) { ignore_index = v; return *this; }
  BasicCrossEntropyOptions& set_label_smoothing(double v) { label_smoothing = v; return *this; }
  BasicCrossEntropyOptions& set_reduction(Reduction v) { reduction = v; return *this; }
};
// PyTorch's cross_entropy with class indices: with log p = log_softmax(z),
// loss = (1 − ε)·nll_loss(log p) + (ε/C)·Σᵢ(−Σ_c w_c log p_ic), both reduced the same way (mean:
// divided by Σᵢ w[yᵢ] over kept rows). Stable for any finite logits. Logits (n, classes).
template <class T>
BasicVariable<T> cross_entropy(const BasicVariable<T>& logits, const IndexTensor& labels,
                               const BasicCrossEntropyOptions<NonDeduced<T>>& options);
template <class T>
BasicVariable<T> cross_entropy(const BasicVariable<T>& logits, const std::vector<std::size_t>& labels,
                       const BasicCrossEntropyOptions<NonDeduced<T>>& options);
template <class T>
BasicVariable<T> cross_entropy(const BasicVariable<T>& logits, std::initializer_list<Index> labels,
                               const BasicCrossEntropyOptions<NonDeduced<T>>& options) {
  return cross_entropy(logits, index_tensor(labels), options);
}

template <class T>
struct BasicBceWithLogitsOptions {
  std::optional<TensorOf<T>> weight;      // w, broadcast to the logits' shape
  std::optional<TensorOf<T>> pos_weight;  // p, weight of the positive term, broadcast likewise
  Reduction reduction = Reduction::mean;
};
// w·[p·y·softplus(−x) + (1 − y)·softplus(x)] = −w·[p·y·log σ(x) + (1 − y)·log(1 − σ(x))],
// finite for any finite x; targets y have the logits' shape. dx = w·[(1 − y)σ(x) − p·y·σ(−x)],
// dy = w·[p·softplus(−x) − softplus(x)].
template <class T>
BasicVariable<T> binary_cross_entropy_with_logits(const BasicVariable<T>& logits, const BasicVariable<T>& targets,
                                          const BasicBceWithLogitsOptions<NonDeduced<T>>& options = {});

// The pair losses broadcast prediction against target (numpy rules, as PyTorch); d = x − y.
// (x − y)²; mse() in losses.hpp is the same with mean reduction and equal shapes only.
template <class T>
BasicVariable<T> mse_loss(const BasicVariable<T>& prediction, const BasicVariable<T>& target, Reduction reduction = Reduction::mean);
// |x − y| (mean by default); the gradient is sign(x − y), 0 where x = y. Not the l1 norm penalty.
template <class T>
BasicVariable<T> l1_loss(const BasicVariable<T>& prediction, const BasicVariable<T>& target, Reduction reduction = Reduction::mean);
// ½d² where |d| ≤ δ, δ(|d| − ½δ) beyond; gradient clamp(d, −δ, δ).
template <class T>
BasicVariable<T> huber_loss(const BasicVariable<T>& prediction, const BasicVariable<T>& target, double delta = 1.0,
                    Reduction reduction = Reduction::mean);
// ½d²/β where |d| < β, |d| − ½β beyond; gradient d/β or sign(d). β = 0 is l1_loss.
template <class T>
BasicVariable<T> smooth_l1_loss(const BasicVariable<T>& prediction, const BasicVariable<T>& target, double beta = 1.0,
                        Reduction reduction = Reduction::mean);
// PyTorch's kl_div(input, target): input holds log-probabilities; pointwise t·(log t − x) (0 where
// t = 0), or eᵗ·(t − x) with log_target. Same shapes. Reduction mean averages over every element
// (as PyTorch); batch_mean divides the sum by the first extent (the KL divergence per sample).
template <class T>
BasicVariable<T> kl_div(const BasicVariable<T>& input, const BasicVariable<T>& target, Reduction reduction = Reduction::mean,
                bool log_target = false);

// The options at the default precision (float, as Variable in core/defaults.hpp).
using NllLossOptions = BasicNllLossOptions<float>;
using CrossEntropyOptions = BasicCrossEntropyOptions<float>;
using BceWithLogitsOptions = BasicBceWithLogitsOptions<float>;

}  // namespace xtgrad
