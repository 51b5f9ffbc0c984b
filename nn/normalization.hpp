// Normalisation modules: BatchNorm1d / BatchNorm2d (running statistics, train vs eval),
// LayerNorm, and the Embedding table.
#pragma once

#include <cstddef>

#include "xtgrad/core/random.hpp"
#include "xtgrad/nn/module.hpp"

namespace xtgrad {
inline namespace XTGRAD_ABI {
namespace nn {

// batch_norm (ops/normalization.hpp) over `features` channels: weight γ = 1 and bias β = 0
// to start; buffers "running_mean" (0) and "running_var" (1) updated in training mode with
// `momentum` and used in evaluation mode.
class BatchNorm : public Module {
 public:
  // `rank`: the input rank this layer accepts (0: any ≥ 2); `name` names it in errors.
  BatchNorm(const char* name, std::size_t rank, std::size_t features, double eps, double momentum);
  Variable forward(const Variable& x) override;
  Variable weight, bias, running_mean, running_var;

 private:
  const char* name_;
  std::size_t rank_;
  double eps_, momentum_;
};

// For (N, C) or (N, C, L) inputs.
class BatchNorm1d : public BatchNorm {
 public:
  explicit BatchNorm1d(std::size_t features, double eps = 1e-5, double momentum = 0.1)
      : BatchNorm("BatchNorm1d", 0, features, eps, momentum) {}
};

// For (N, C, H, W) inputs.
class BatchNorm2d : public BatchNorm {
 public:
  explicit BatchNorm2d(std::size_t features, double eps = 1e-5, double momentum = 0.1)
      : BatchNorm("BatchNorm2d", 4, features, eps, momentum) {}
};

// layer_norm over the trailing axes of shape `normalized_shape`; weight 1, bias 0 to start.
class LayerNorm : public Module {
 public:
  explicit LayerNorm(const Shape& normalized_shape, double eps = 1e-5);
  Variable forward(const Variable& x) override;
  Variable weight, bias;

 private:
  double eps_;
};

// A table of `count` vectors of size `dim`, drawn from N(0, 1) as in PyTorch: maps indices
// (any shape, whole numbers) to indices.shape + (dim) (ops/embedding.hpp).
class Embedding : public Module {
 public:
  Embedding(std::size_t count, std::size_t dim, Rng& rng);
  Variable forward(const Variable& indices) override;
  Variable weight;  // (count, dim)
};

}  // namespace nn
}  // namespace XTGRAD_ABI
}  // namespace xtgrad
