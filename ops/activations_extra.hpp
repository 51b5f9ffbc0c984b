// More activations: softplus, leaky_relu, elu, gelu, silu, hardtanh, relu6, mish, log_sigmoid. Each has
// PyTorch's parameters, defaults and gradient at the kinks.
#pragma once

#include "xtgrad/core/variable.hpp"

namespace xtgrad {

// (1/β)·ln(1 + e^(βx)), computed as max(βx, 0) + ln(1 + e^−|βx|) so it never overflows; x itself
// where βx > threshold (as PyTorch). dx = g·σ(βx) (1 above the threshold).
template <class T>
BasicVariable<T> softplus(const BasicVariable<T>& x, double beta = 1.0, double threshold = 20.0);
// x for x > 0, slope·x otherwise; dx = g·(x > 0 ? 1 : slope) (slope at 0, as PyTorch).
template <class T>
BasicVariable<T> leaky_relu(const BasicVariable<T>& x, double negative_slope = 0.01);
// x for x > 0, α(eˣ − 1) otherwise; dx = g·(x > 0 ? 1 : α eˣ).
template <class T>
BasicVariable<T> elu(const BasicVariable<T>& x, double alpha = 1.0);

enum class GeluApproximation { none, tanh };
// x·Φ(x) with Φ the standard normal CDF (none), or 0.5x(1 + tanh(√(2/π)(x + 0.044715x³))) (tanh).
// dx = g·(Φ(x) + x·φ(x)), or the derivative of the tanh form.
template <class T>
BasicVariable<T> gelu(const BasicVariable<T>& x, GeluApproximation approximate = GeluApproximation::none);
// x·σ(x); dx = g·σ(x)(1 + x(1 − σ(x))).
template <class T>
BasicVariable<T> silu(const BasicVariable<T>& x);
// min(max(x, lo), hi); dx = g where lo < x < hi, 0 at and beyond the bounds (as PyTorch; clamp
// keeps the gradient at the bounds). Throws if lo > hi.
template <class T>
BasicVariable<T> hardtanh(const BasicVariable<T>& x, double min_val = -1.0, double max_val = 1.0);
// min(max(x, 0), 6) = hardtanh(x, 0, 6), as PyTorch: dx = g where 0 < x < 6, 0 at and beyond.
template <class T>
BasicVariable<T> relu6(const BasicVariable<T>& x);
// x·tanh(softplus(x)) (softplus with β = 1, threshold 20, as PyTorch), composed of those ops;
// dx = g·(tanh s + x·σ(x)·(1 − tanh² s)), s = softplus(x).
template <class T>
BasicVariable<T> mish(const BasicVariable<T>& x);
// ln σ(x) = min(x, 0) − ln(1 + e^−|x|), finite for any finite x; dx = g·σ(−x).
template <class T>
BasicVariable<T> log_sigmoid(const BasicVariable<T>& x);

}  // namespace xtgrad
