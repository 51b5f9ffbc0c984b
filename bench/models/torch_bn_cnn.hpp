// The batch-norm CNN of xtgrad_bn_cnn.hpp in libtorch, x (N, 1, 28, 28) → logits (N, 10):
//   2 × [Conv2d 3×3 pad 1 → BatchNorm2d → ReLU → MaxPool2d 2] (32, 64 channels) → 3136 →
//   Linear 128 → ReLU → Dropout 0.5 → Linear 10.
#pragma once

#include <torch/torch.h>

namespace bench {

struct TorchBnCnnImpl : torch::nn::Module {
  torch::nn::Conv2d conv1{nullptr}, conv2{nullptr};
  torch::nn::BatchNorm2d bn1{nullptr}, bn2{nullptr};
  torch::nn::Linear fc1{nullptr}, fc2{nullptr};
  torch::nn::Dropout drop{nullptr};
  TorchBnCnnImpl()
      : conv1(register_module("conv1", torch::nn::Conv2d(torch::nn::Conv2dOptions(1, 32, 3).padding(1)))),
        conv2(register_module("conv2", torch::nn::Conv2d(torch::nn::Conv2dOptions(32, 64, 3).padding(1)))),
        bn1(register_module("bn1", torch::nn::BatchNorm2d(32))),
        bn2(register_module("bn2", torch::nn::BatchNorm2d(64))),
        fc1(register_module("fc1", torch::nn::Linear(64 * 7 * 7, 128))),
        fc2(register_module("fc2", torch::nn::Linear(128, 10))),
        drop(register_module("drop", torch::nn::Dropout(0.5))) {}
  torch::Tensor forward(torch::Tensor x) {
    x = torch::max_pool2d(torch::relu(bn1(conv1(x))), 2);
    x = torch::max_pool2d(torch::relu(bn2(conv2(x))), 2).flatten(1);
    return fc2(drop(torch::relu(fc1(x))));
  }
};
TORCH_MODULE(TorchBnCnn);

}  // namespace bench
