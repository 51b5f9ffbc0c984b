#include "xtgrad/nn/layers.hpp"

#include <stdexcept>
#include <string>

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

Variable LogSoftmax::forward(const Variable& x) { return log_softmax(x, axis_); }

Variable Flatten::forward(const Variable& x) {
  const Tensor& v = x.value();
  if (v.dimension() < 1) throw std::invalid_argument("Flatten: expects an input with a batch axis, got shape ()");
  const std::size_t n = v.shape()[0];
  shape_.assign({n, n == 0 ? 0 : v.size() / n});
  return reshape(x, shape_);
}

Variable Sequential::forward(const Variable& x) {
  Variable y = x;
  for (auto& layer : layers_) y = (*layer)(y);
  return y;
}

Module& Sequential::operator[](std::size_t index) const {
  if (index >= layers_.size()) {
    throw std::out_of_range("Sequential: index " + std::to_string(index) + " is out of range for " +
                            std::to_string(layers_.size()) + " layers");
  }
  return *layers_[index];
}

Module& Sequential::operator[](const std::string& name) const {
  for (std::size_t i = 0; i < names_.size(); ++i)
    if (names_[i] == name) return *layers_[i];
  std::string known;
  for (const auto& n : names_) known += (known.empty() ? "'" : ", '") + n + "'";
  throw std::invalid_argument("Sequential: no layer named '" + name + "' (layers: " +
                              (known.empty() ? std::string("none") : known) + ")");
}

void Sequential::throw_wrong_type(const std::string& which, const Module& m) {
  throw std::invalid_argument("Sequential: layer " + which + " is a " + m.type_name() + ", not the type asked for");
}

}  // namespace nn
}  // namespace XTGRAD_ABI
}  // namespace xtgrad
