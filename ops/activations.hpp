// Activations, and softmax / log-softmax along an axis.
#pragma once

#include "xtgrad/core/variable.hpp"

namespace xtgrad {

template <class T>
BasicVariable<T> sigmoid(const BasicVariable<T>& x);  // 1 / (1 + e⁻ˣ), computed without overflow for any x
template <class T>
BasicVariable<T> tanh(const BasicVariable<T>& x);     // tanh x
template <class T>
BasicVariable<T> relu(const BasicVariable<T>& x);     // max(x, 0); subgradient 0 at 0; NaN stays NaN
template <class T>
BasicVariable<T> affine(const BasicVariable<T>& x, double slope, double intercept);  // slope·x + intercept
// exp(x − max) / Σ exp(x − max) along `axis` (default: the last, i.e. per row of (n, c)).
template <class T>
BasicVariable<T> softmax(const BasicVariable<T>& x, int axis = -1);
// x − max − log Σ exp(x − max) along `axis`: finite for logits of any size.
template <class T>
BasicVariable<T> log_softmax(const BasicVariable<T>& x, int axis = -1);

}  // namespace xtgrad
