// Mixup (Zhang, Cisse, Dauphin & Lopez-Paz, 2018): train on convex combinations of pairs of
// examples and of their targets' losses.
//   λ ~ Beta(α, α), π a uniformly random permutation of the batch's n rows;
//   x̃ = λ·x + (1 − λ)·x[π];   loss = λ·ℓ(f(x̃), y) + (1 − λ)·ℓ(f(x̃), y[π]).
// For a loss linear in its targets (cross-entropy) this equals ℓ(f(x̃), λ·y + (1 − λ)·y[π]);
// the two-term form holds for any ℓ. α ≤ 1 puts most draws near 0 or 1 (α = 0.2 is common).
#pragma once

#include <cstddef>
#include <functional>
#include <vector>

#include "xtgrad/core/random.hpp"
#include "xtgrad/core/variable.hpp"

namespace xtgrad {

// One draw of Beta(a, b), a, b > 0: G₁/(G₁ + G₂) with Gᵢ ~ Gamma(a or b, 1) (Marsaglia–Tsang,
// in log space so that small shapes, whose draws underflow, still give a value in [0, 1]).
// std::invalid_argument unless a and b are finite and > 0.
double sample_beta(double a, double b, Rng& rng);

template <class T>
class BasicMixup {
 public:
  // The data loss ℓ(output, targets) → a scalar (nn::BasicLossFunction<T> has this type).
  using LossFunction = std::function<BasicVariable<T>(const BasicVariable<T>&, const BasicVariable<T>&)>;

  // α finite and > 0, else std::invalid_argument naming mixup and α.
  explicit BasicMixup(double alpha);
  double alpha() const { return alpha_; }

  // Draws λ ~ Beta(α, α) and a permutation π of 0..rows−1 from `rng` (λ first, then π by
  // Fisher–Yates), for the next batch.
  void draw(std::size_t rows, Rng& rng);
  // Sets λ ∈ [0, 1] and π (a permutation of 0..n−1), e.g. to replay a draw; else std::invalid_argument.
  void set(double lambda, std::vector<std::size_t> permutation);
  double lambda() const { return lambda_; }
  const std::vector<std::size_t>& permutation() const { return permutation_; }

  // x̃ = λ·x + (1 − λ)·x[π] in place over axis 0 (any trailing shape, x (n, ...) with n = |π|); no graph.
  void mix_inputs(TensorOf<T>& inputs);
  // The same as a node of the graph, differentiable in x: λ·x + (1 − λ)·index_select(x, 0, π).
  BasicVariable<T> mix(const BasicVariable<T>& inputs) const;
  // λ·ℓ(output, y) + (1 − λ)·ℓ(output, y[π]) as nodes of one graph, y[π] = index_select(y, 0, π)
  // (one-hot rows (n, classes) or class indices (n)).
  BasicVariable<T> loss(const LossFunction& loss, const BasicVariable<T>& output,
                        const BasicVariable<T>& targets) const;

 private:
  // std::invalid_argument naming `what` unless x has n = |π| rows.
  void check_rows(const char* what, const TensorOf<T>& x) const;
  double alpha_;
  double lambda_ = 1;
  std::vector<std::size_t> permutation_;
  TensorOf<T> scratch_;  // mix_inputs' copy of x (reused)
};

using Mixup = BasicMixup<float>;

extern template class BasicMixup<float>;
extern template class BasicMixup<double>;

}  // namespace xtgrad
