#include "xtgrad/nn/conv.hpp"

#include <cmath>
#include <stdexcept>
#include <string>

#include "xtgrad/core/xt.hpp"

namespace xtgrad {
inline namespace XTGRAD_ABI {
namespace nn {

Conv2d::Conv2d(std::size_t in_channels, std::size_t out_channels, Size2 kernel, Rng& rng, const Conv2dConfig& config,
               const WeightInit& init)
    : options_{config.stride, config.padding, config.dilation, config.groups} {
  if (config.groups == 0 || in_channels % config.groups != 0 || out_channels % config.groups != 0 ||
      out_channels == 0 || in_channels == 0 || kernel[0] == 0 || kernel[1] == 0) {
    throw std::invalid_argument("Conv2d: in_channels " + std::to_string(in_channels) + " and out_channels " +
                                std::to_string(out_channels) + " must be positive multiples of groups " +
                                std::to_string(config.groups) + ", and the kernel (" + std::to_string(kernel[0]) +
                                ", " + std::to_string(kernel[1]) + ") positive");
  }
  const Shape shape{out_channels, in_channels / config.groups, kernel[0], kernel[1]};
  const double bound = 1.0 / std::sqrt(double(shape[1] * kernel[0] * kernel[1]));  // 1/√fan_in
  weight = register_parameter("weight", init ? init(shape, rng) : rand_uniform(shape, rng, -bound, bound));
  if (config.bias) {
    bias = register_parameter("bias", init ? Tensor(xt::zeros<Scalar>({out_channels}))
                                           : rand_uniform({out_channels}, rng, -bound, bound));
  }
}

Variable Conv2d::forward(const Variable& x) {
  return bias.defined() ? conv2d(x, weight, bias, options_) : conv2d(x, weight, options_);
}

Variable MaxPool2d::forward(const Variable& x) { return max_pool2d(x, options_); }
Variable AvgPool2d::forward(const Variable& x) { return avg_pool2d(x, options_); }
Variable AdaptiveAvgPool2d::forward(const Variable& x) { return adaptive_avg_pool2d(x, output_size_); }

}  // namespace nn
}  // namespace XTGRAD_ABI
}  // namespace xtgrad
