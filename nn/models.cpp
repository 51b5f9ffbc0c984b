#include "xtgrad/nn/models.hpp"

#include <stdexcept>

#include "xtgrad/nn/conv.hpp"

namespace xtgrad {
inline namespace XTGRAD_ABI {
namespace nn {

Sequential lenet5(Rng& rng, const LeNet5Options& options) {
  if (options.classes == 0) throw std::invalid_argument("lenet5: classes must be at least 1, got 0");
  Conv2dConfig same;
  same.padding = {2, 2};
  Sequential net;
  net.add("conv1", Conv2d(1, 6, 5, rng, same))
      .add("relu1", ReLU())
      .add("pool1", MaxPool2d(2))
      .add("conv2", Conv2d(6, 16, 5, rng))
      .add("relu2", ReLU())
      .add("pool2", MaxPool2d(2))
      .add("flatten", Flatten())
      .add("fc1", Linear(16 * 5 * 5, 120, rng, options.linear_init))
      .add("relu3", ReLU())
      .add("fc2", Linear(120, 84, rng, options.linear_init))
      .add("relu4", ReLU())
      .add("fc3", Linear(84, options.classes, rng, options.linear_init));
  return net;
}

}  // namespace nn
}  // namespace XTGRAD_ABI
}  // namespace xtgrad
