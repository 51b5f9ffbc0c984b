#include "xtgrad/nn/models.hpp"

#include <stdexcept>

#include "xtgrad/nn/conv.hpp"

namespace xtgrad {
namespace nn {

template <class T>
BasicSequential<T> lenet5(Rng& rng, const BasicLeNet5Options<T>& options) {
  if (options.classes == 0) throw std::invalid_argument("lenet5: classes must be at least 1, got 0");
  Conv2dOptions same;
  same.padding = {2, 2};
  BasicSequential<T> net;
  net.add("conv1", BasicConv2d<T>(1, 6, 5, rng, same))
      .add("relu1", BasicReLU<T>())
      .add("pool1", BasicMaxPool2d<T>(2))
      .add("conv2", BasicConv2d<T>(6, 16, 5, rng))
      .add("relu2", BasicReLU<T>())
      .add("pool2", BasicMaxPool2d<T>(2))
      .add("flatten", BasicFlatten<T>())
      .add("fc1", BasicLinear<T>(16 * 5 * 5, 120, rng, options.linear_init))
      .add("relu3", BasicReLU<T>())
      .add("fc2", BasicLinear<T>(120, 84, rng, options.linear_init))
      .add("relu4", BasicReLU<T>())
      .add("fc3", BasicLinear<T>(84, options.classes, rng, options.linear_init));
  return net;
}

template BasicSequential<float> lenet5(Rng&, const BasicLeNet5Options<float>&);
template BasicSequential<double> lenet5(Rng&, const BasicLeNet5Options<double>&);

}  // namespace nn
}  // namespace xtgrad
