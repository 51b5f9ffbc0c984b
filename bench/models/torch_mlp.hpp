// The seed model in libtorch: x (N, 784) → Linear 784→200 → sigmoid → Linear 200→10 → logits.
#pragma once

#include <torch/torch.h>

namespace bench {

struct TorchMlpImpl : torch::nn::Module {
  torch::nn::Linear fc1{nullptr}, fc2{nullptr};
  TorchMlpImpl() : fc1(register_module("fc1", torch::nn::Linear(784, 200))),
                   fc2(register_module("fc2", torch::nn::Linear(200, 10))) {}
  torch::Tensor forward(const torch::Tensor& x) { return fc2(torch::sigmoid(fc1(x))); }
};
TORCH_MODULE(TorchMlp);

}  // namespace bench
