// Small models shared by the tests that train, save or checkpoint one.
#pragma once

#include "xtgrad/core/defaults.hpp"
#include "xtgrad/nn/layers.hpp"
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

}  // namespace xtgrad_test
