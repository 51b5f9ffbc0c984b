#include "xtgrad/nn/normalization.hpp"

#include <stdexcept>
#include <string>

#include "xtgrad/core/xt.hpp"
#include "xtgrad/ops/embedding.hpp"
#include "xtgrad/ops/normalization.hpp"

namespace xtgrad {
inline namespace XTGRAD_ABI {
namespace nn {

BatchNorm::BatchNorm(const char* name, std::size_t rank, std::size_t features, double eps, double momentum)
    : name_(name), rank_(rank), eps_(eps), momentum_(momentum) {
  if (features == 0 || !(eps > 0) || !(momentum >= 0 && momentum <= 1)) {
    throw std::invalid_argument(std::string(name) + ": features must be positive, eps > 0 and momentum in [0, 1], got " +
                                std::to_string(features) + ", " + std::to_string(eps) + ", " +
                                std::to_string(momentum));
  }
  weight = register_parameter("weight", Tensor(xt::ones<Scalar>({features})));
  bias = register_parameter("bias", Tensor(xt::zeros<Scalar>({features})));
  running_mean = register_buffer("running_mean", Tensor(xt::zeros<Scalar>({features})));
  running_var = register_buffer("running_var", Tensor(xt::ones<Scalar>({features})));
}

Variable BatchNorm::forward(const Variable& x) {
  const std::size_t r = x.value().dimension();
  if (rank_ ? r != rank_ : (r != 2 && r != 3)) {
    throw std::invalid_argument(std::string(name_) + ": expects input " +
                                (rank_ ? std::string("(N, C, H, W)") : std::string("(N, C) or (N, C, L)")) + ", got " +
                                shape_str(x.value()));
  }
  return batch_norm(x, weight, bias, running_mean.mutable_value(), running_var.mutable_value(), is_training(),
                    momentum_, eps_);
}

LayerNorm::LayerNorm(const Shape& normalized_shape, double eps) : eps_(eps) {
  if (normalized_shape.empty() || element_count(normalized_shape) == 0 || !(eps > 0)) {
    throw std::invalid_argument("LayerNorm: normalized shape " + shape_str(normalized_shape) +
                                " must be non-empty and eps > 0");
  }
  weight = register_parameter("weight", Tensor(xt::ones<Scalar>(normalized_shape)));
  bias = register_parameter("bias", Tensor(xt::zeros<Scalar>(normalized_shape)));
}

Variable LayerNorm::forward(const Variable& x) { return layer_norm(x, weight, bias, eps_); }

Embedding::Embedding(std::size_t count, std::size_t dim, Rng& rng) {
  if (count == 0 || dim == 0) {
    throw std::invalid_argument("Embedding: count and dim must be positive, got " + std::to_string(count) + " and " +
                                std::to_string(dim));
  }
  weight = register_parameter("weight", randn({count, dim}, rng));
}

Variable Embedding::forward(const Variable& indices) { return embedding(indices, weight); }

}  // namespace nn
}  // namespace XTGRAD_ABI
}  // namespace xtgrad
