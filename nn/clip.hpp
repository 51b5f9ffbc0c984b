// Gradient clipping, between backward() and the optimizer's step().
#pragma once

#include "xtgrad/core/variable.hpp"

namespace xtgrad {
namespace nn {

// Scales every gradient by max_norm/(‖g‖ + 1e-6) when the global norm ‖g‖ = √(Σ over all
// parameters with a gradient of Σg²) exceeds max_norm (PyTorch clip_grad_norm_). Returns ‖g‖
// before clipping. max_norm must be > 0. (T defaults to float so that a braced list of float
// parameters, clip_grad_norm({{"w", w}}, 1.0), works.)
template <class T = float>
double clip_grad_norm(const NamedParametersOf<T>& params, double max_norm);

// Clamps every gradient element to [−clip, clip]; clip must be > 0.
template <class T = float>
void clip_grad_value(const NamedParametersOf<T>& params, double clip);

}  // namespace nn
}  // namespace xtgrad
