// LeNet-5 in libtorch, as bench/lenet_pytorch.py and xtgrad's nn::lenet5: x (N, 1, 28, 28) →
// conv 1→6 5×5 pad 2 → ReLU → pool 2 → conv 6→16 5×5 → ReLU → pool 2 → 400 → 120 → 84 → 10.
#pragma once

#include <torch/torch.h>

namespace bench {

struct TorchLeNetImpl : torch::nn::Module {
  torch::nn::Conv2d conv1{nullptr}, conv2{nullptr};
  torch::nn::Linear fc1{nullptr}, fc2{nullptr}, fc3{nullptr};
  TorchLeNetImpl()
      : conv1(register_module("conv1", torch::nn::Conv2d(torch::nn::Conv2dOptions(1, 6, 5).padding(2)))),
        conv2(register_module("conv2", torch::nn::Conv2d(6, 16, 5))),
        fc1(register_module("fc1", torch::nn::Linear(400, 120))),
        fc2(register_module("fc2", torch::nn::Linear(120, 84))),
        fc3(register_module("fc3", torch::nn::Linear(84, 10))) {}
  torch::Tensor forward(torch::Tensor x) {
    x = torch::max_pool2d(torch::relu(conv1(x)), 2);
    x = torch::max_pool2d(torch::relu(conv2(x)), 2).flatten(1);
    return fc3(torch::relu(fc2(torch::relu(fc1(x)))));
  }
};
TORCH_MODULE(TorchLeNet);

}  // namespace bench
