// Activations, and softmax / log-softmax along an axis.
#pragma once

#include "xtgrad/core/variable.hpp"

namespace xtgrad {
inline namespace XTGRAD_ABI {

Variable sigmoid(const Variable& x);  // 1 / (1 + e⁻ˣ), computed without overflow for any x
Variable tanh(const Variable& x);     // tanh x
Variable relu(const Variable& x);     // max(x, 0); subgradient 0 at 0; NaN stays NaN
Variable affine(const Variable& x, double slope, double intercept);  // slope·x + intercept
// exp(x − max) / Σ exp(x − max) along `axis` (default: the last, i.e. per row of (n, c)).
Variable softmax(const Variable& x, int axis = -1);
// x − max − log Σ exp(x − max) along `axis`: finite for logits of any size.
Variable log_softmax(const Variable& x, int axis = -1);

}  // namespace XTGRAD_ABI
}  // namespace xtgrad
