// Dropout: inverted dropout with an explicit, seedable random engine.
#pragma once

#include "xtgrad/core/random.hpp"
#include "xtgrad/core/variable.hpp"

namespace xtgrad {

// Training: y = x ⊙ m with mᵢ = 1/(1−p) with probability 1−p, else 0 (one draw from `rng`
// per element), so E[y] = x; the gradient is g ⊙ m. Not training, or p = 0: y is x itself.
// p ∈ [0, 1); std::invalid_argument otherwise.
template <class T>
BasicVariable<T> dropout(const BasicVariable<T>& x, double p, Rng& rng, bool training = true);

// The multipliers dropout() applies, m ∈ {0, 1/(1−p)} of `shape` (a recycled buffer), two
// 32-bit draws per 64-bit word of `rng`: ops that drop out internally (attention) use it so a
// seeded run draws the same masks either way. p ∈ [0, 1), not checked here.
template <class T>
TensorOf<T> dropout_mask(const typename TensorOf<T>::shape_type& shape, double p, Rng& rng);

}  // namespace xtgrad
