// LeNet-5 in xtgrad: the library's own nn::lenet5 (nn/models.hpp), x (N, 1, 28, 28) → logits
// (N, 10); parameters conv1, conv2, fc1, fc2, fc3 (.weight, .bias).
#pragma once

#include <xtgrad/core/core.hpp>
#include <xtgrad/nn/nn.hpp>
#include <xtgrad/ops/ops.hpp>

namespace bench {

inline xtgrad::nn::Sequential lenet(xtgrad::Rng& rng) { return xtgrad::nn::lenet5(rng); }

}  // namespace bench
