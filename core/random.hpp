// The explicit, seedable random engine every initializer, sampler and shuffler takes.
#pragma once

#include <cstdint>
#include <random>

#include "xtgrad/core/tensor.hpp"

namespace xtgrad {

// Same seed, same library build: same draws. Pass it by reference; never a global.
using Rng = std::mt19937_64;

// Tensor of `shape` with i.i.d. N(mean, stddev²) draws (drawn in double, then rounded to T:
// the same seed gives the same numbers in both precisions, up to rounding).
template <class T = float>
TensorOf<T> randn(const Shape& shape, Rng& rng, double mean = 0.0, double stddev = 1.0);
// Tensor of `shape` with i.i.d. U[low, high) draws (in double, rounded to T).
template <class T = float>
TensorOf<T> rand_uniform(const Shape& shape, Rng& rng, double low = 0.0, double high = 1.0);

}  // namespace xtgrad
