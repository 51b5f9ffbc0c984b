// Small models and data shared by the tests that train, save or checkpoint one.
#pragma once

#include <cstdint>

#include "xtgrad/core/defaults.hpp"
#include "xtgrad/core/random.hpp"
#include "xtgrad/nn/init.hpp"
#include "xtgrad/nn/layers.hpp"
#include "xtgrad/nn/train.hpp"
#include "xtgrad/ops/activations.hpp"

namespace xtgrad_test {

// Linear(in, hidden) → sigmoid → Linear(hidden, out), registered as fc1 and fc2.
struct SigmoidNet : xtgrad::nn::Module {
  xtgrad::nn::Linear fc1, fc2;
  SigmoidNet(std::size_t in, std::size_t hidden, std::size_t out, xtgrad::Rng& rng)
      : fc1(register_module("fc1", xtgrad::nn::Linear(in, hidden, rng))),
        fc2(register_module("fc2", xtgrad::nn::Linear(hidden, out, rng))) {}
  xtgrad::Variable forward(const xtgrad::Variable& x) override { return fc2(xtgrad::sigmoid(fc1(x))); }
};

// n points in 3-d around one of 3 centres (row i around centre i mod 3), one-hot over 3 classes.
inline xtgrad::nn::Dataset clusters(std::size_t n, std::uint64_t seed) {
  xtgrad::Rng rng(seed);
  const xtgrad::Tensor noise = xtgrad::randn({n, 3}, rng, 0.0, 0.8);
  xtgrad::nn::Dataset d{xtgrad::nn::zeros({n, 3}), xtgrad::nn::zeros({n, 3})};
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t c = i % 3;
    for (std::size_t j = 0; j < 3; ++j) d.inputs(i, j) = (j == c ? 1.5 : -0.5) + noise(i, j);
    d.targets(i, c) = 1.0;
  }
  return d;
}

}  // namespace xtgrad_test
