// Reference models built from the nn layers, as function templates over the scalar type
// (float unless asked: lenet5<double>(rng)).
#pragma once

#include <cstddef>

#include "xtgrad/core/random.hpp"
#include "xtgrad/nn/layers.hpp"

namespace xtgrad {
namespace nn {

template <class T>
struct BasicLeNet5Options {
  std::size_t classes = 10;     // outputs of fc3
  WeightInitOf<T> linear_init;  // fc1–fc3 weights; default glorot_uniform (Linear's)
};
using LeNet5Options = BasicLeNet5Options<float>;

// LeNet-5 for (N, 1, 28, 28) images (MNIST) as PyTorch's tutorial has it, logits (N, classes):
//   conv1 Conv2d(1→6, 5×5, padding 2) → relu1 → pool1 MaxPool2d(2)     (N, 6, 14, 14)
//   conv2 Conv2d(6→16, 5×5)           → relu2 → pool2 MaxPool2d(2)     (N, 16, 5, 5)
//   flatten (N, 400) → fc1 Linear(400, 120) → relu3 → fc2 Linear(120, 84) → relu4 → fc3 Linear(84, classes)
// Layers are named as above, so the parameters are conv1.weight, conv1.bias, ..., fc3.bias;
// weights are drawn from `rng` in that order (conv layers with Conv2d's PyTorch default).
// 61 706 parameters for 10 classes.
template <class T = float>
BasicSequential<T> lenet5(Rng& rng, const BasicLeNet5Options<T>& options = {});

}  // namespace nn
}  // namespace xtgrad
