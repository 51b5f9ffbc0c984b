// The explicit, seedable random engine every initializer, sampler and shuffler takes.
#pragma once

#include <cstdint>
#include <random>

#include "xtgrad/core/tensor.hpp"

namespace xtgrad {
inline namespace XTGRAD_ABI {

// Same seed, same library build: same draws. Pass it by reference; never a global.
using Rng = std::mt19937_64;

// Tensor of `shape` with i.i.d. N(mean, stddev²) draws.
Tensor randn(const Shape& shape, Rng& rng, double mean = 0.0, double stddev = 1.0);
// Tensor of `shape` with i.i.d. U[low, high) draws.
Tensor rand_uniform(const Shape& shape, Rng& rng, double low = 0.0, double high = 1.0);

}  // namespace XTGRAD_ABI
}  // namespace xtgrad
