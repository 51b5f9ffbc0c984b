// Normalisation modules: BatchNorm1d / BatchNorm2d (running statistics, train vs eval),
// LayerNorm, and the Embedding table; each BasicX<T> over the scalar type, X = BasicX<float>.
#pragma once

#include <cstddef>

#include "xtgrad/core/index.hpp"
#include "xtgrad/core/random.hpp"
#include "xtgrad/nn/module.hpp"

namespace xtgrad {
namespace nn {

// batch_norm (ops/normalization.hpp) over `features` channels: weight γ = 1 and bias β = 0
// to start; buffers "running_mean" (0) and "running_var" (1) updated in training mode with
// `momentum` and used in evaluation mode.
template <class T>
class BasicBatchNorm : public BasicModule<T> {
 public:
  using Variable = BasicVariable<T>;
  // `rank`: the input rank this layer accepts (0: any ≥ 2); `name` names it in errors.
  BasicBatchNorm(const char* name, std::size_t rank, std::size_t features, double eps, double momentum);
  Variable forward(const Variable& x) override;
  Variable weight, bias, running_mean, running_var;

 private:
  const char* name_;
  std::size_t rank_;
  double eps_, momentum_;
};

// For (N, C) or (N, C, L) inputs.
template <class T>
class BasicBatchNorm1d : public BasicBatchNorm<T> {
 public:
  explicit BasicBatchNorm1d(std::size_t features, double eps = 1e-5, double momentum = 0.1)
      : BasicBatchNorm<T>("BatchNorm1d", 0, features, eps, momentum) {}
};

// For (N, C, H, W) inputs.
template <class T>
class BasicBatchNorm2d : public BasicBatchNorm<T> {
 public:
  explicit BasicBatchNorm2d(std::size_t features, double eps = 1e-5, double momentum = 0.1)
      : BasicBatchNorm<T>("BatchNorm2d", 4, features, eps, momentum) {}
};

// layer_norm over the trailing axes of shape `normalized_shape`; weight 1, bias 0 to start.
template <class T>
class BasicLayerNorm : public BasicModule<T> {
 public:
  using Variable = BasicVariable<T>;
  explicit BasicLayerNorm(const Shape& normalized_shape, double eps = 1e-5);
  Variable forward(const Variable& x) override;
  Variable weight, bias;

 private:
  double eps_;
};

// A table of `count` vectors of size `dim`, drawn from N(0, 1) as in PyTorch: maps indices
// (any shape, whole numbers) to indices.shape + (dim) (ops/embedding.hpp).
template <class T>
class BasicEmbedding : public BasicModule<T> {
 public:
  using Variable = BasicVariable<T>;
  BasicEmbedding(std::size_t count, std::size_t dim, Rng& rng);
  // Indices held by a float Variable (whole numbers in [0, count)).
  Variable forward(const Variable& indices) override;
  // Indices as an IndexTensor (core/index.hpp), any shape → indices.shape + (dim).
  using BasicModule<T>::operator();
  Variable operator()(const IndexTensor& indices);
  Variable weight;  // (count, dim)
};

extern template class BasicBatchNorm<float>;
extern template class BasicBatchNorm<double>;
extern template class BasicBatchNorm1d<float>;
extern template class BasicBatchNorm1d<double>;
extern template class BasicBatchNorm2d<float>;
extern template class BasicBatchNorm2d<double>;
extern template class BasicLayerNorm<float>;
extern template class BasicLayerNorm<double>;
extern template class BasicEmbedding<float>;
extern template class BasicEmbedding<double>;

using BatchNorm = BasicBatchNorm<float>;
using BatchNorm1d = BasicBatchNorm1d<float>;
using BatchNorm2d = BasicBatchNorm2d<float>;
using LayerNorm = BasicLayerNorm<float>;
using Embedding = BasicEmbedding<float>;

}  // namespace nn
}  // namespace xtgrad
