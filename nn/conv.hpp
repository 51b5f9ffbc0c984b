// Convolution and pooling modules over NCHW batches (ops/conv.hpp).
#pragma once

#include <cstddef>

#include "xtgrad/core/random.hpp"
#include "xtgrad/nn/layers.hpp"
#include "xtgrad/ops/conv.hpp"

namespace xtgrad {
inline namespace XTGRAD_ABI {
namespace nn {

struct Conv2dConfig {
  Size2 stride{1, 1};
  Size2 padding{0, 0};
  Size2 dilation{1, 1};
  std::size_t groups = 1;
  bool bias = true;
};

// y = conv2d(x, W, b): x (N, in, H, W) → (N, out, OH, OW); W (out, in/groups, kh, kw) and
// b (out) drawn, as in PyTorch, from U(−1/√fan_in, 1/√fan_in), fan_in = in/groups·kh·kw,
// unless `init` is given (it gets the 4-d weight shape; the bias then starts at zero).
class Conv2d : public Module {
 public:
  Conv2d(std::size_t in_channels, std::size_t out_channels, Size2 kernel, Rng& rng, const Conv2dConfig& config = {},
         const WeightInit& init = {});
  // A square kernel × kernel.
  Conv2d(std::size_t in_channels, std::size_t out_channels, std::size_t kernel, Rng& rng,
         const Conv2dConfig& config = {}, const WeightInit& init = {})
      : Conv2d(in_channels, out_channels, Size2{kernel, kernel}, rng, config, init) {}
  Variable forward(const Variable& x) override;
  Variable weight, bias;  // "weight" (out, in/groups, kh, kw); "bias" (out), undefined without one

 private:
  Conv2dOptions options_;
};

// Maximum over kernel windows (ops max_pool2d); stride defaults to the kernel.
class MaxPool2d : public Module {
 public:
  explicit MaxPool2d(Size2 kernel, Size2 stride = {0, 0}, Size2 padding = {0, 0}) : options_{kernel, stride, padding} {}
  explicit MaxPool2d(std::size_t kernel, std::size_t stride = 0, std::size_t padding = 0)
      : MaxPool2d(Size2{kernel, kernel}, Size2{stride, stride}, Size2{padding, padding}) {}
  Variable forward(const Variable& x) override;

 private:
  Pool2dOptions options_;
};

// Mean over kernel windows (ops avg_pool2d); stride defaults to the kernel.
class AvgPool2d : public Module {
 public:
  explicit AvgPool2d(Size2 kernel, Size2 stride = {0, 0}, Size2 padding = {0, 0}) : options_{kernel, stride, padding} {}
  explicit AvgPool2d(std::size_t kernel, std::size_t stride = 0, std::size_t padding = 0)
      : AvgPool2d(Size2{kernel, kernel}, Size2{stride, stride}, Size2{padding, padding}) {}
  Variable forward(const Variable& x) override;

 private:
  Pool2dOptions options_;
};

// Mean over bins tiling each plane into output_size (ops adaptive_avg_pool2d); {1, 1} is
// global average pooling.
class AdaptiveAvgPool2d : public Module {
 public:
  explicit AdaptiveAvgPool2d(Size2 output_size) : output_size_(output_size) {}
  explicit AdaptiveAvgPool2d(std::size_t output_size) : output_size_{output_size, output_size} {}
  Variable forward(const Variable& x) override;

 private:
  Size2 output_size_;
};

}  // namespace nn
}  // namespace XTGRAD_ABI
}  // namespace xtgrad
