#include "xtgrad/nn/layers.hpp"

#include <cmath>
#include <stdexcept>
#include <string>

#include "xtgrad/core/xt.hpp"
#include "xtgrad/nn/init.hpp"
#include "xtgrad/ops/activations.hpp"
#include "xtgrad/ops/linalg.hpp"

namespace xtgrad {
namespace nn {

template <class T>
BasicLinear<T>::BasicLinear(std::size_t in_features, std::size_t out_features, Rng& rng, const WeightInitOf<T>& init) {
  const Shape shape{out_features, in_features};
  weight = this->register_parameter("weight", init ? init(shape, rng) : glorot_uniform<T>(shape, rng));
  bias = this->register_parameter("bias", TensorOf<T>(xt::zeros<T>({out_features})));
}

template <class T>
BasicLinear<T>::BasicLinear(std::size_t in_features, std::size_t out_features, Rng& rng,
                            const LinearOptions& options) {
  const Shape shape{out_features, in_features};
  if (options.init() == LinearInit::glorot) {
    weight = this->register_parameter("weight", glorot_uniform<T>(shape, rng));
    if (options.bias()) bias = this->register_parameter("bias", TensorOf<T>(xt::zeros<T>({out_features})));
    return;
  }
  // torch.nn.Linear: kaiming_uniform(a = √5) gives the bound √(6 / ((1 + a²)·in)) = 1/√in; the
  // bias U(±1/√in) too.
  if (in_features == 0) throw std::invalid_argument("Linear: LinearInit::pytorch needs in_features > 0");
  const double bound = 1.0 / std::sqrt(double(in_features));
  weight = this->register_parameter("weight", rand_uniform<T>(shape, rng, -bound, bound));
  if (options.bias()) bias = this->register_parameter("bias", rand_uniform<T>({out_features}, rng, -bound, bound));
}

template <class T>
BasicVariable<T> BasicLinear<T>::forward(const Variable& x) {
  return bias.defined() ? linear(x, weight, bias) : linear(x, weight);
}
template <class T>
BasicVariable<T> BasicSigmoid<T>::forward(const Variable& x) {
  return sigmoid(x);
}
template <class T>
BasicVariable<T> BasicTanh<T>::forward(const Variable& x) {
  return tanh(x);
}
template <class T>
BasicVariable<T> BasicReLU<T>::forward(const Variable& x) {
  return relu(x);
}
template <class T>
BasicVariable<T> BasicAffine<T>::forward(const Variable& x) {
  return affine(x, slope_, intercept_);
}
template <class T>
BasicVariable<T> BasicSoftmax<T>::forward(const Variable& x) {
  return softmax(x, axis_);
}
template <class T>
BasicVariable<T> BasicLogSoftmax<T>::forward(const Variable& x) {
  return log_softmax(x, axis_);
}

template <class T>
BasicVariable<T> BasicFlatten<T>::forward(const Variable& x) {
  const TensorOf<T>& v = x.value();
  if (v.dimension() < 1) throw std::invalid_argument("Flatten: expects an input with a batch axis, got shape ()");
  const std::size_t n = v.shape()[0];
  shape_.assign({n, n == 0 ? 0 : v.size() / n});
  return reshape(x, shape_);
}

template <class T>
BasicVariable<T> BasicSequential<T>::forward(const Variable& x) {
  Variable y = x;
  for (auto& layer : layers_) y = (*layer)(y);
  return y;
}

template <class T>
BasicModule<T>& BasicSequential<T>::operator[](std::size_t index) const {
  if (index >= layers_.size()) {
    throw std::out_of_range("Sequential: index " + std::to_string(index) + " is out of range for " +
                            std::to_string(layers_.size()) + " layers");
  }
  return *layers_[index];
}

template <class T>
BasicModule<T>& BasicSequential<T>::operator[](const std::string& name) const {
  for (std::size_t i = 0; i < names_.size(); ++i)
    if (names_[i] == name) return *layers_[i];
  std::string known;
  for (const auto& n : names_) known += (known.empty() ? "'" : ", '") + n + "'";
  throw std::invalid_argument("Sequential: no layer named '" + name + "' (layers: " +
                              (known.empty() ? std::string("none") : known) + ")");
}

template <class T>
void BasicSequential<T>::throw_wrong_type(const std::string& which, const ModuleBase& m) {
  throw std::invalid_argument("Sequential: layer " + which + " is a " + m.type_name() + ", not the type asked for");
}

#define XTGRAD_NN_LAYERS_INSTANTIATE(T) \
  template class BasicLinear<T>;        \
  template class BasicSigmoid<T>;       \
  template class BasicTanh<T>;          \
  template class BasicReLU<T>;          \
  template class BasicAffine<T>;        \
  template class BasicSoftmax<T>;       \
  template class BasicLogSoftmax<T>;    \
  template class BasicFlatten<T>;       \
  template class BasicSequential<T>;
XTGRAD_NN_LAYERS_INSTANTIATE(float)
XTGRAD_NN_LAYERS_INSTANTIATE(double)
#undef XTGRAD_NN_LAYERS_INSTANTIATE

}  // namespace nn
}  // namespace xtgrad
