#include "xtgrad/nn/conv.hpp"

#include <cmath>
#include <stdexcept>
#include <string>

#include "xtgrad/core/xt.hpp"

namespace xtgrad {
namespace nn {

template <class T>
BasicConv2d<T>::BasicConv2d(std::size_t in_channels, std::size_t out_channels, Size2 kernel, Rng& rng,
                            const Conv2dOptions& config, const WeightInitOf<T>& init)
    : options_(config) {
  if (config.groups == 0 || in_channels % config.groups != 0 || out_channels % config.groups != 0 ||
      out_channels == 0 || in_channels == 0 || kernel[0] == 0 || kernel[1] == 0) {
    throw std::invalid_argument("Conv2d: in_channels " + std::to_string(in_channels) + " and out_channels " +
                                std::to_string(out_channels) + " must be positive multiples of groups " +
                                std::to_string(config.groups) + ", and the kernel (" + std::to_string(kernel[0]) +
                                ", " + std::to_string(kernel[1]) + ") positive");
  }
  const Shape shape{out_channels, in_channels / config.groups, kernel[0], kernel[1]};
  const double bound = 1.0 / std::sqrt(double(shape[1] * kernel[0] * kernel[1]));  // 1/√fan_in
  weight = this->register_parameter("weight", init ? init(shape, rng) : rand_uniform<T>(shape, rng, -bound, bound));
  if (config.bias) {
    bias = this->register_parameter("bias", init ? TensorOf<T>(xt::zeros<T>({out_channels}))
                                                 : rand_uniform<T>({out_channels}, rng, -bound, bound));
  }
}

template <class T>
BasicVariable<T> BasicConv2d<T>::forward(const Variable& x) {
  return bias.defined() ? conv2d(x, weight, bias, options_) : conv2d(x, weight, options_);
}

template <class T>
BasicVariable<T> BasicMaxPool2d<T>::forward(const Variable& x) {
  return max_pool2d(x, options_);
}
template <class T>
BasicVariable<T> BasicAvgPool2d<T>::forward(const Variable& x) {
  return avg_pool2d(x, options_);
}
template <class T>
BasicVariable<T> BasicAdaptiveAvgPool2d<T>::forward(const Variable& x) {
  return adaptive_avg_pool2d(x, output_size_);
}

#define XTGRAD_NN_CONV_INSTANTIATE(T) \
  template class BasicConv2d<T>; \
  template class BasicMaxPool2d<T>; \
  template class BasicAvgPool2d<T>; \
  template class BasicAdaptiveAvgPool2d<T>;
XTGRAD_NN_CONV_INSTANTIATE(float)
XTGRAD_NN_CONV_INSTANTIATE(double)
#undef XTGRAD_NN_CONV_INSTANTIATE

}  // namespace nn
}  // namespace xtgrad
