// eˣ, ln x, σ(x), erf(x) and GELU over a whole tensor with a value that depends only on x, never on the element's
// position. Internal to the ops' sources; defined for float and double.
//
// xtensor computes full SIMD batches with xsimd and the last size % lanes elements with std::
// functions, and the two disagree near the subnormal range: xsimd's exp returns 0 for
// x < ln(smallest normal) (≈ −708.4 in double, −87.3 in float) where std::exp returns the
// subnormal, and xsimd's double log of a subnormal x is wrong by up to 38 (log(4.3e-309) gives
// −746.3, not −710.04). log(softmax(x)) of (146.94, 856.98) came out −inf or −746.3 depending
// on the row's position. Here every element goes through the same SIMD kernel (the tail is
// padded into one more batch) and the few lanes in those ranges through std::exp / std::log.
#pragma once

#include <cstddef>

#include "xtgrad/core/parallel.hpp"
#include "xtgrad/core/tensor.hpp"

namespace xtgrad {

// Elements per thread for the ops with an exp, log, tanh, erf ... per element (4 ×
// kTranscendentalGrain): split in two, sigmoid on the seed model's 64×200 (12800 elements, 7 µs
// on one thread) took 10-13 µs at 2 threads on the 2-core test machine (bench_ops
// BM_threads_*), so such ops stay on one thread below 32Ki elements.
constexpr std::size_t kExpGrain = 4 * kTranscendentalGrain;

// out = eˣ elementwise; subnormal results kept. `out` must have x's size; it may be x itself.
template <class T>
void exp_into(const TensorOf<T>& x, TensorOf<T>& out);
// out = ln x elementwise; exact for subnormal x. `out` must have x's size; it may be x itself.
template <class T>
void log_into(const TensorOf<T>& x, TensorOf<T>& out);
// out = σ(x) = 1/(1 + e⁻ˣ) elementwise, without overflow, in one pass through exp_into's kernel.
template <class T>
void sigmoid_into(const TensorOf<T>& x, TensorOf<T>& out);
// out = erf(x) elementwise. Float: a SIMD kernel of two fitted polynomials and an exp, within
// 1 ulp of the correctly rounded erf (as PyTorch's, whose float erf is also a 1-ulp kernel),
// about 3× the speed of rounding xsimd's double erf. Double: std::erf lane by lane (xsimd's
// double erf is off by up to ~70 ulps). `out` must have x's size; it may be x itself.
template <class T>
void erf_into(const TensorOf<T>& x, TensorOf<T>& out);
// out = x·Φ(x) = ½x(1 + erf(x/√2)), exact GELU, with erf_into's erf, in one pass.
template <class T>
void gelu_into(const TensorOf<T>& x, TensorOf<T>& out);
// gelu_into's out (the same bits) and cdf = Φ(x) = ½(1 + erf(x/√2)) from the same erf, in one pass.
template <class T>
void gelu_cdf_into(const TensorOf<T>& x, TensorOf<T>& out, TensorOf<T>& cdf);
// The five above split their work across the threads above kExpGrain elements.

// out = max(x, 0) elementwise with NaN kept (x ≤ 0 → 0, else x), SIMD batch by batch, on
// every core above kElementwiseGrain elements. `out` must have x's size; it may be x itself.
template <class T>
void relu_into(const TensorOf<T>& x, TensorOf<T>& out);

// relu's backward: d = g where x > 0, else 0 (NaN x gives 0), added to d's contents when
// `accumulate`, over x's size; split as relu_into.
template <class T>
void relu_grad_into(const TensorOf<T>& x, const TensorOf<T>& g, T* d, bool accumulate);

// y[i] = e^x[i] for i in [0, n), the values exp_into gives, on this thread: for a part of a
// tensor (a row of a softmax). y may be x.
template <class T>
void exp_range(const T* x, T* y, std::size_t n);

}  // namespace xtgrad
