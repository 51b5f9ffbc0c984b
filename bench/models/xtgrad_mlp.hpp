// The seed model in xtgrad: x (N, 784) → Linear 784→200 → sigmoid → Linear 200→10 → logits (N, 10).
#pragma once

#include <xtgrad/core/core.hpp>
#include <xtgrad/nn/nn.hpp>
#include <xtgrad/ops/ops.hpp>

namespace bench {

struct SeedMlp : xtgrad::nn::Module {
  xtgrad::nn::Linear fc1, fc2;
  explicit SeedMlp(xtgrad::Rng& rng)
      : fc1(register_module("fc1", xtgrad::nn::Linear(784, 200, rng))),
        fc2(register_module("fc2", xtgrad::nn::Linear(200, 10, rng))) {}
  xtgrad::Variable forward(const xtgrad::Variable& x) override { return fc2(xtgrad::sigmoid(fc1(x))); }
};

}  // namespace bench
