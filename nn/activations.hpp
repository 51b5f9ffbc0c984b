// Module forms of the activations of ops/activations_extra.hpp, with PyTorch's names,
// parameters and defaults. Each forward is its op; the constructors check their arguments
// (std::invalid_argument naming the module and the value) so a bad layer fails where it is built.
// Each is a class template BasicX<T> over the scalar type; X is BasicX<float>.
#pragma once

#include "xtgrad/nn/module.hpp"
#include "xtgrad/ops/activations_extra.hpp"

namespace xtgrad {
namespace nn {

// y = x·Φ(x) (exact) or its tanh approximation: gelu() as a module.
template <class T>
class BasicGELU : public BasicModule<T> {
 public:
  using Variable = BasicVariable<T>;
  explicit BasicGELU(GeluApproximation approximate = GeluApproximation::none) : approximate_(approximate) {}
  Variable forward(const Variable& x) override;
  GeluApproximation approximate() const { return approximate_; }

 private:
  GeluApproximation approximate_;
};

// y = x·σ(x) (swish): silu() as a module.
template <class T>
class BasicSiLU : public BasicModule<T> {
 public:
  using Variable = BasicVariable<T>;
  Variable forward(const Variable& x) override;
};

// y = x for x > 0, α(eˣ − 1) otherwise: elu() as a module. α finite.
template <class T>
class BasicELU : public BasicModule<T> {
 public:
  using Variable = BasicVariable<T>;
  explicit BasicELU(double alpha = 1.0);
  Variable forward(const Variable& x) override;
  double alpha() const { return alpha_; }

 private:
  double alpha_;
};

// y = x for x > 0, negative_slope·x otherwise: leaky_relu() as a module. Slope finite.
template <class T>
class BasicLeakyReLU : public BasicModule<T> {
 public:
  using Variable = BasicVariable<T>;
  explicit BasicLeakyReLU(double negative_slope = 0.01);
  Variable forward(const Variable& x) override;
  double negative_slope() const { return negative_slope_; }

 private:
  double negative_slope_;
};

// y = (1/β)·ln(1 + e^(βx)), x itself where βx > threshold: softplus() as a module.
// β finite and > 0, threshold finite.
template <class T>
class BasicSoftplus : public BasicModule<T> {
 public:
  using Variable = BasicVariable<T>;
  explicit BasicSoftplus(double beta = 1.0, double threshold = 20.0);
  Variable forward(const Variable& x) override;
  double beta() const { return beta_; }
  double threshold() const { return threshold_; }

 private:
  double beta_, threshold_;
};

// y = min(max(x, min_val), max_val): hardtanh() as a module. Bounds finite, min_val ≤ max_val.
template <class T>
class BasicHardtanh : public BasicModule<T> {
 public:
  using Variable = BasicVariable<T>;
  explicit BasicHardtanh(double min_val = -1.0, double max_val = 1.0);
  Variable forward(const Variable& x) override;
  double min_val() const { return min_val_; }
  double max_val() const { return max_val_; }

 private:
  double min_val_, max_val_;
};

// y = min(max(x, 0), 6): relu6() as a module (a Hardtanh(0, 6), as PyTorch's ReLU6).
template <class T>
class BasicReLU6 : public BasicHardtanh<T> {
 public:
  using Variable = BasicVariable<T>;
  BasicReLU6() : BasicHardtanh<T>(0.0, 6.0) {}
  Variable forward(const Variable& x) override;
};

// y = ln σ(x): log_sigmoid() as a module.
template <class T>
class BasicLogSigmoid : public BasicModule<T> {
 public:
  using Variable = BasicVariable<T>;
  Variable forward(const Variable& x) override;
};

// y = x·tanh(softplus(x)) (Misra 2019), composed of the tanh, softplus and mul ops.
template <class T>
class BasicMish : public BasicModule<T> {
 public:
  using Variable = BasicVariable<T>;
  Variable forward(const Variable& x) override;
};

extern template class BasicGELU<float>;
extern template class BasicGELU<double>;
extern template class BasicSiLU<float>;
extern template class BasicSiLU<double>;
extern template class BasicELU<float>;
extern template class BasicELU<double>;
extern template class BasicLeakyReLU<float>;
extern template class BasicLeakyReLU<double>;
extern template class BasicSoftplus<float>;
extern template class BasicSoftplus<double>;
extern template class BasicHardtanh<float>;
extern template class BasicHardtanh<double>;
extern template class BasicReLU6<float>;
extern template class BasicReLU6<double>;
extern template class BasicLogSigmoid<float>;
extern template class BasicLogSigmoid<double>;
extern template class BasicMish<float>;
extern template class BasicMish<double>;

using GELU = BasicGELU<float>;
using SiLU = BasicSiLU<float>;
using ELU = BasicELU<float>;
using LeakyReLU = BasicLeakyReLU<float>;
using Softplus = BasicSoftplus<float>;
using Hardtanh = BasicHardtanh<float>;
using ReLU6 = BasicReLU6<float>;
using LogSigmoid = BasicLogSigmoid<float>;
using Mish = BasicMish<float>;

}  // namespace nn
}  // namespace xtgrad
