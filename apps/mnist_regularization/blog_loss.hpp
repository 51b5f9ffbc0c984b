// The blog's loss node: cross-entropy whose backward applies the softmax Jacobian twice.
#pragma once

#include "xtgrad/core/variable.hpp"

namespace mnist_app {

// Forward: the mean cross-entropy of softmax(z) against one-hot y, like cross_entropy.
// Backward: the gradient the blog's code computes, not the true one. Its loss layer already
// returns the gradient with respect to the logits, g = (p − y)/n, and its separate Softmax
// layer multiplies it by the softmax Jacobian again: dz = p ⊙ (g − ⟨p, g⟩) per row.
// In float (training) and double (its test against finite differences).
template <class T>
xtgrad::BasicVariable<T> blog_cross_entropy(const xtgrad::BasicVariable<T>& logits,
                                            const xtgrad::BasicVariable<T>& targets);

}  // namespace mnist_app
