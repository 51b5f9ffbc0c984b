#include "xtgrad/nn/normalization.hpp"

#include <stdexcept>
#include <string>

#include "xtgrad/core/xt.hpp"
#include "xtgrad/ops/embedding.hpp"
#include "xtgrad/ops/normalization.hpp"

namespace xtgrad {
namespace nn {

template <class T>
BasicBatchNorm<T>::BasicBatchNorm(const char* name, std::size_t rank, std::size_t features, double eps, double momentum)
    : name_(name), rank_(rank), eps_(eps), momentum_(momentum) {
  if (features == 0 || !(eps > 0) || !(momentum >= 0 && momentum <= 1)) {
    throw std::invalid_argument(std::string(name) + ": features must be positive, eps > 0 and momentum in [0, 1], got " +
                                std::to_string(features) + ", " + std::to_string(eps) + ", " +
                                std::to_string(momentum));
  }
  weight = this->register_parameter("weight", TensorOf<T>(xt::ones<T>({features})));
  bias = this->register_parameter("bias", TensorOf<T>(xt::zeros<T>({features})));
  running_mean = this->register_buffer("running_mean", TensorOf<T>(xt::zeros<T>({features})));
  running_var = this->register_buffer("running_var", TensorOf<T>(xt::ones<T>({features})));
}

template <class T>
BasicVariable<T> BasicBatchNorm<T>::forward(const Variable& x) {
  const std::size_t r = x.value().dimension();
  if (rank_ ? r != rank_ : (r != 2 && r != 3)) {
    throw std::invalid_argument(std::string(name_) + ": expects input " +
                                (rank_ ? std::string("(N, C, H, W)") : std::string("(N, C) or (N, C, L)")) + ", got " +
                                shape_str(x.value()));
  }
  return batch_norm(x, weight, bias, running_mean.mutable_value(), running_var.mutable_value(), this->is_training(),
                    momentum_, eps_);
}

template <class T>
BasicLayerNorm<T>::BasicLayerNorm(const Shape& normalized_shape, double eps) : eps_(eps) {
  if (normalized_shape.empty() || element_count(normalized_shape) == 0 || !(eps > 0)) {
    throw std::invalid_argument("LayerNorm: normalized shape " + shape_str(normalized_shape) +
                                " must be non-empty and eps > 0");
  }
  weight = this->register_parameter("weight", TensorOf<T>(xt::ones<T>(normalized_shape)));
  bias = this->register_parameter("bias", TensorOf<T>(xt::zeros<T>(normalized_shape)));
}

template <class T>
BasicVariable<T> BasicLayerNorm<T>::forward(const Variable& x) {
  return layer_norm(x, weight, bias, eps_);
}

template <class T>
BasicEmbedding<T>::BasicEmbedding(std::size_t count, std::size_t dim, Rng& rng) {
  if (count == 0 || dim == 0) {
    throw std::invalid_argument("Embedding: count and dim must be positive, got " + std::to_string(count) + " and " +
                                std::to_string(dim));
  }
  weight = this->register_parameter("weight", randn<T>({count, dim}, rng));
}

template <class T>
BasicVariable<T> BasicEmbedding<T>::forward(const Variable& indices) {
  return embedding(indices, weight);
}

template <class T>
BasicVariable<T> BasicEmbedding<T>::operator()(const IndexTensor& indices) {
  Variable y = embedding(indices, weight);
  this->report_call(y);
  return y;
}

#define XTGRAD_NN_NORMALIZATION_INSTANTIATE(T) \
  template class BasicBatchNorm<T>; \
  template class BasicBatchNorm1d<T>; \
  template class BasicBatchNorm2d<T>; \
  template class BasicLayerNorm<T>; \
  template class BasicEmbedding<T>;
XTGRAD_NN_NORMALIZATION_INSTANTIATE(float)
XTGRAD_NN_NORMALIZATION_INSTANTIATE(double)
#undef XTGRAD_NN_NORMALIZATION_INSTANTIATE

}  // namespace nn
}  // namespace xtgrad
