// Convolution and pooling modules over NCHW batches (ops/conv.hpp), each a class template
// BasicX<T> over the scalar type with the float alias X (Conv2d = BasicConv2d<float>).
#pragma once

#include <cstddef>

#include "xtgrad/core/random.hpp"
#include "xtgrad/nn/layers.hpp"
#include "xtgrad/ops/conv.hpp"

namespace xtgrad {
namespace nn {

// The conv options (ops/conv.hpp: stride, padding, dilation, groups, bias) under nn:: too, as
// torch::nn::Conv2dOptions. Conv2dConfig is the old name of the same struct.
using xtgrad::Conv2dOptions;
using Conv2dConfig [[deprecated("use nn::Conv2dOptions (the same struct)")]] = Conv2dOptions;
using xtgrad::Pool2dOptions;

// y = conv2d(x, W, b): x (N, in, H, W) → (N, out, OH, OW); W (out, in/groups, kh, kw) and
// b (out) drawn, as in PyTorch, from U(−1/√fan_in, 1/√fan_in), fan_in = in/groups·kh·kw,
// unless `init` is given (it gets the 4-d weight shape; the bias then starts at zero).
template <class T>
class BasicConv2d : public BasicModule<T> {
 public:
  using Variable = BasicVariable<T>;
  BasicConv2d(std::size_t in_channels, std::size_t out_channels, Size2 kernel, Rng& rng,
              const Conv2dOptions& config = {}, const WeightInitOf<T>& init = {});
  // A square kernel × kernel.
  BasicConv2d(std::size_t in_channels, std::size_t out_channels, std::size_t kernel, Rng& rng,
              const Conv2dOptions& config = {}, const WeightInitOf<T>& init = {})
      : BasicConv2d(in_channels, out_channels, Size2{kernel, kernel}, rng, config, init) {}
  Variable forward(const Variable& x) override;
  const Conv2dOptions& options() const { return options_; }
  Variable weight, bias;  // "weight" (out, in/groups, kh, kw); "bias" (out), undefined without one

 private:
  Conv2dOptions options_;
};

// Maximum over kernel windows (ops max_pool2d); stride defaults to the kernel.
template <class T>
class BasicMaxPool2d : public BasicModule<T> {
 public:
  using Variable = BasicVariable<T>;
  explicit BasicMaxPool2d(Size2 kernel, Size2 stride = {0, 0}, Size2 padding = {0, 0})
      : options_{kernel, stride, padding} {}
  explicit BasicMaxPool2d(std::size_t kernel, std::size_t stride = 0, std::size_t padding = 0)
      : BasicMaxPool2d(Size2{kernel, kernel}, Size2{stride, stride}, Size2{padding, padding}) {}
  Variable forward(const Variable& x) override;
  const Pool2dOptions& options() const { return options_; }

 private:
  Pool2dOptions options_;
};

// Mean over kernel windows (ops avg_pool2d); stride defaults to the kernel.
template <class T>
class BasicAvgPool2d : public BasicModule<T> {
 public:
  using Variable = BasicVariable<T>;
  explicit BasicAvgPool2d(Size2 kernel, Size2 stride = {0, 0}, Size2 padding = {0, 0})
      : options_{kernel, stride, padding} {}
  explicit BasicAvgPool2d(std::size_t kernel, std::size_t stride = 0, std::size_t padding = 0)
      : BasicAvgPool2d(Size2{kernel, kernel}, Size2{stride, stride}, Size2{padding, padding}) {}
  Variable forward(const Variable& x) override;
  const Pool2dOptions& options() const { return options_; }

 private:
  Pool2dOptions options_;
};

// Mean over bins tiling each plane into output_size (ops adaptive_avg_pool2d); {1, 1} is
// global average pooling.
template <class T>
class BasicAdaptiveAvgPool2d : public BasicModule<T> {
 public:
  using Variable = BasicVariable<T>;
  explicit BasicAdaptiveAvgPool2d(Size2 output_size) : output_size_(output_size) {}
  explicit BasicAdaptiveAvgPool2d(std::size_t output_size) : output_size_{output_size, output_size} {}
  Variable forward(const Variable& x) override;
  Size2 output_size() const { return output_size_; }

 private:
  Size2 output_size_;
};

extern template class BasicConv2d<float>;
extern template class BasicConv2d<double>;
extern template class BasicMaxPool2d<float>;
extern template class BasicMaxPool2d<double>;
extern template class BasicAvgPool2d<float>;
extern template class BasicAvgPool2d<double>;
extern template class BasicAdaptiveAvgPool2d<float>;
extern template class BasicAdaptiveAvgPool2d<double>;

using Conv2d = BasicConv2d<float>;
using MaxPool2d = BasicMaxPool2d<float>;
using AvgPool2d = BasicAvgPool2d<float>;
using AdaptiveAvgPool2d = BasicAdaptiveAvgPool2d<float>;

}  // namespace nn
}  // namespace xtgrad
