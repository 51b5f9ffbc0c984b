// Normalisation: batch norm (per channel, over the batch) and layer norm (per sample, over
// the trailing axes).
#pragma once

#include "xtgrad/core/variable.hpp"

namespace xtgrad {

// Batch normalisation of x (N, C) or (N, C, d₁, ...) per channel c, with weight γ and bias β
// of shape (C):  y = γ·(x − μ)/√(σ² + eps) + β.
// training: μ, σ² are the mean and biased variance of channel c over the batch and spatial
//   axes (M values, M > 1), and the running statistics (shape (C), updated in place) move
//   towards them: r_μ ← (1 − momentum)·r_μ + momentum·μ, r_σ² likewise with the unbiased
//   variance σ²·M/(M − 1). The gradient flows through μ and σ² as well.
// otherwise: μ, σ² are the running statistics, constants.
template <class T>
BasicVariable<T> batch_norm(const BasicVariable<T>& x, const BasicVariable<T>& weight, const BasicVariable<T>& bias, TensorOf<T>& running_mean,
                    TensorOf<T>& running_var, bool training, double momentum = 0.1, double eps = 1e-5);

// Layer normalisation over the trailing axes of x whose shape is weight's (the normalized
// shape, e.g. (D) for x (N, D)): per sample, y = γ ⊙ (x − μ)/√(σ² + eps) + β, μ and σ² the
// mean and biased variance of that sample's normalized elements; γ, β of the normalized shape.
// Any rank (weight (D) normalizes the last axis). One pass per row for μ and σ² (double sums,
// shifted by the row's first element), rows in parallel; backward one pass per row in
// parallel, dγ and dβ summed over fixed blocks of rows in block order (the same bits at any
// thread count).
template <class T>
BasicVariable<T> layer_norm(const BasicVariable<T>& x, const BasicVariable<T>& weight, const BasicVariable<T>& bias, double eps = 1e-5);

}  // namespace xtgrad
