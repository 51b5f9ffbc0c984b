#include "xtgrad/nn/layers.hpp"

#include "xtgrad/core/xt.hpp"
#include "xtgrad/nn/init.hpp"
#include "xtgrad/ops/activations.hpp"
#include "xtgrad/ops/linalg.hpp"

namespace xtgrad {
inline namespace XTGRAD_ABI {
namespace nn {

Linear::Linear(std::size_t in_features, std::size_t out_features, Rng& rng, const WeightInit& init) {
  const Shape shape{in_features, out_features};
  weight = register_parameter("weight", init ? init(shape, rng) : glorot_uniform(shape, rng));
  bias = register_parameter("bias", Tensor(xt::zeros<Scalar>({out_features})));
}

Variable Linear::forward(const Variable& x) { return linear(x, weight, bias); }
Variable Sigmoid::forward(const Variable& x) { return sigmoid(x); }
Variable Tanh::forward(const Variable& x) { return tanh(x); }
Variable ReLU::forward(const Variable& x) { return relu(x); }
Variable Affine::forward(const Variable& x) { return affine(x, slope_, intercept_); }
Variable Softmax::forward(const Variable& x) { return softmax(x, axis_); }

Variable Sequential::forward(const Variable& x) {
  Variable y = x;
  for (auto& layer : layers_) y = layer->forward(y);
  return y;
}

}  // namespace nn
}  // namespace XTGRAD_ABI
}  // namespace xtgrad
