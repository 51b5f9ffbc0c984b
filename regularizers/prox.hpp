// The proximal step of an L1 penalty: soft thresholding, applied in place after an optimizer
// step so that weights reach exactly 0 (the subgradient λ·sign(w) only makes them oscillate
// around 0). For plain SGD with learning rate lr the pair "gradient step on the data loss, then
// soft_threshold(lr·λ)" is proximal gradient descent (ISTA) on data loss + λ·Σ|w|.
#pragma once

#include <cstddef>

#include "xtgrad/core/variable.hpp"
#include "xtgrad/regularizers/regularizer.hpp"
#include "xtgrad/regularizers/selection.hpp"

namespace xtgrad {

// w ← sign(w)·max(|w| − threshold, 0) elementwise, in place; a result of 0 is +0. Returns how
// many elements are exactly 0 afterwards. Throws std::invalid_argument unless threshold is
// finite and ≥ 0.
template <class T>
std::size_t soft_threshold(TensorOf<T>& w, double threshold);

// Same on every tensor `selection` picks from `params` (a tensor listed twice, once); the
// handles alias the parameters, so the model's weights change. Returns the exact zeros.
template <class T>
std::size_t soft_threshold(const NamedParametersOf<T>& params, const BasicSelection<T>& selection,
                           double threshold);

// The proximal step of `reg` after an optimizer step with learning rate `lr` in `epoch`
// (1-based): reg.prox_step(params, lr) when reg is active in that epoch (for L1 and the elastic
// net in mode prox soft_threshold by lr·reg.prox_l1() over reg.prox_selection(); for a group
// lasso in mode prox block soft-thresholding). Returns whether it ran. Throws
// std::invalid_argument unless lr is finite and > 0.
template <class T>
bool apply_prox(const BasicRegularizer<T>& reg, const NamedParametersOf<T>& params, double lr,
                std::size_t epoch);

}  // namespace xtgrad
