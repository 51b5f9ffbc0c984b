// A small batch-norm CNN as a new user would write it in xtgrad, x (N, 1, 28, 28) → logits (N, 10):
//   2 × [Conv2d 3×3 (padding 1) → BatchNorm2d → ReLU → MaxPool2d 2], 32 then 64 channels
//   (N, 32, 14, 14) → (N, 64, 7, 7) → flatten 3136 → Linear 128 → ReLU → Dropout 0.5 → Linear 10.
#pragma once

#include <xtgrad/core/core.hpp>
#include <xtgrad/nn/nn.hpp>
#include <xtgrad/ops/ops.hpp>

namespace bench {

inline xtgrad::nn::Sequential bn_cnn(xtgrad::Rng& rng) {
  namespace nn = xtgrad::nn;
  nn::Conv2dOptions same;
  same.padding = {1, 1};
  nn::Sequential net;
  net.add("conv1", nn::Conv2d(1, 32, 3, rng, same)).add("bn1", nn::BatchNorm2d(32)).add("relu1", nn::ReLU())
      .add("pool1", nn::MaxPool2d(2))
      .add("conv2", nn::Conv2d(32, 64, 3, rng, same)).add("bn2", nn::BatchNorm2d(64)).add("relu2", nn::ReLU())
      .add("pool2", nn::MaxPool2d(2))
      .add("flatten", nn::Flatten()).add("fc1", nn::Linear(64 * 7 * 7, 128, rng)).add("relu3", nn::ReLU())
      .add("drop", nn::Dropout(0.5, rng)).add("fc2", nn::Linear(128, 10, rng));
  return net;
}

}  // namespace bench
