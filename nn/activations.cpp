#include "xtgrad/nn/activations.hpp"

#include <cmath>
#include <sstream>
#include <stdexcept>
#include <string>

#include "xtgrad/ops/activations.hpp"
#include "xtgrad/ops/elementwise.hpp"

namespace xtgrad {
namespace nn {

namespace {

// `v` as the shortest text that reads back the same ("0.01", "-inf", "nan").
std::string text(double v) {
  std::ostringstream s;
  s.precision(17);
  s << v;
  return s.str();
}

// std::invalid_argument "<module>: <what> must be finite, got <v>" unless v is finite.
void check_finite(const char* module, const char* what, double v) {
  if (!std::isfinite(v)) throw std::invalid_argument(std::string(module) + ": " + what + " must be finite, got " + text(v));
}

}  // namespace

template <class T>
BasicELU<T>::BasicELU(double alpha) : alpha_(alpha) {
  check_finite("ELU", "alpha", alpha);
}

template <class T>
BasicLeakyReLU<T>::BasicLeakyReLU(double negative_slope) : negative_slope_(negative_slope) {
  check_finite("LeakyReLU", "negative_slope", negative_slope);
}

template <class T>
BasicSoftplus<T>::BasicSoftplus(double beta, double threshold) : beta_(beta), threshold_(threshold) {
  check_finite("Softplus", "beta", beta);
  check_finite("Softplus", "threshold", threshold);
  if (beta <= 0) throw std::invalid_argument("Softplus: beta must be > 0, got " + text(beta));
}

template <class T>
BasicHardtanh<T>::BasicHardtanh(double min_val, double max_val) : min_val_(min_val), max_val_(max_val) {
  check_finite("Hardtanh", "min_val", min_val);
  check_finite("Hardtanh", "max_val", max_val);
  if (min_val > max_val) {
    throw std::invalid_argument("Hardtanh: min_val " + text(min_val) + " is greater than max_val " + text(max_val));
  }
}

template <class T>
BasicVariable<T> BasicGELU<T>::forward(const Variable& x) {
  return gelu(x, approximate_);
}
template <class T>
BasicVariable<T> BasicSiLU<T>::forward(const Variable& x) {
  return silu(x);
}
template <class T>
BasicVariable<T> BasicELU<T>::forward(const Variable& x) {
  return elu(x, alpha_);
}
template <class T>
BasicVariable<T> BasicLeakyReLU<T>::forward(const Variable& x) {
  return leaky_relu(x, negative_slope_);
}
template <class T>
BasicVariable<T> BasicSoftplus<T>::forward(const Variable& x) {
  return softplus(x, beta_, threshold_);
}
template <class T>
BasicVariable<T> BasicHardtanh<T>::forward(const Variable& x) {
  return hardtanh(x, min_val_, max_val_);
}
template <class T>
BasicVariable<T> BasicLogSigmoid<T>::forward(const Variable& x) {
  return log_sigmoid(x);
}
template <class T>
BasicVariable<T> BasicMish<T>::forward(const Variable& x) {
  return mish(x);
}
template <class T>
BasicVariable<T> BasicReLU6<T>::forward(const Variable& x) {
  return relu6(x);
}

#define XTGRAD_NN_ACTIVATIONS_INSTANTIATE(T) \
  template class BasicGELU<T>; \
  template class BasicSiLU<T>; \
  template class BasicELU<T>; \
  template class BasicLeakyReLU<T>; \
  template class BasicSoftplus<T>; \
  template class BasicHardtanh<T>; \
  template class BasicReLU6<T>; \
  template class BasicLogSigmoid<T>; \
  template class BasicMish<T>;
XTGRAD_NN_ACTIVATIONS_INSTANTIATE(float)
XTGRAD_NN_ACTIVATIONS_INSTANTIATE(double)
#undef XTGRAD_NN_ACTIVATIONS_INSTANTIATE

}  // namespace nn
}  // namespace xtgrad
