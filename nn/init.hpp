// Weight initializers: tensors drawn from an explicit, seedable Rng (never a global one).
//
// Weights are stored (fan_in, fan_out), as Linear's W in x·W + b, so the fan-based rules read
// fan_in = shape[0], fan_out = shape[1] (PyTorch stores (out, in); the variances are the same).
// A 4-d convolution weight (out, in/groups, kh, kw) has fan_in = in/groups·kh·kw and
// fan_out = out·kh·kw, as in PyTorch.
#pragma once

#include <functional>
#include <string>

#include "xtgrad/core/random.hpp"
#include "xtgrad/core/tensor.hpp"

namespace xtgrad {
namespace nn {

// A rule that fills a tensor of `shape` from `rng` (what initializer_from_name returns).
template <class T>
using InitializerOf = std::function<TensorOf<T>(const Shape& shape, Rng& rng)>;
using Initializer = InitializerOf<float>;

// (fan_in, fan_out) of a 2-d Linear weight shape (out, in) or a 4-d convolution weight
// (out, in, kh, kw), as PyTorch counts them; other ranks throw std::invalid_argument.
struct Fans {
  std::size_t in;
  std::size_t out;
};
// Fans of a weight shape (out, in) or (out, in, kh, kw).
Fans fans_of(const Shape& shape);

// Each initializer draws TensorOf<T> (float unless asked: he_normal<double>(shape, rng)).

// gain·N(0, 1), any shape (the seed's "std_normal" uses gain 0.01).
template <class T = float>
TensorOf<T> std_normal(const Shape& shape, Rng& rng, double gain);
// N(0, 2/fan_in) (He et al. 2015, for ReLU layers).
template <class T = float>
TensorOf<T> he_normal(const Shape& shape, Rng& rng);
// U(−a, a), a = √(6/fan_in): same variance as he_normal.
template <class T = float>
TensorOf<T> he_uniform(const Shape& shape, Rng& rng);
// N(0, 2/(fan_in + fan_out)) (Glorot & Bengio 2010).
template <class T = float>
TensorOf<T> glorot_normal(const Shape& shape, Rng& rng);
// U(−a, a), a = √(6/(fan_in + fan_out)): same variance as glorot_normal.
template <class T = float>
TensorOf<T> glorot_uniform(const Shape& shape, Rng& rng);
// 0 everywhere, any shape (biases).
template <class T = float>
TensorOf<T> zeros(const Shape& shape);

// The initializer a CLI names: "std_normal" (gain 0.01), "he_normal", "he_uniform",
// "glorot_normal", "glorot_uniform". Unknown names throw std::invalid_argument listing these.
template <class T = float>
InitializerOf<T> initializer_from_name(const std::string& name);

}  // namespace nn
}  // namespace xtgrad
