// Module forms of the activations of ops/activations_extra.hpp, with PyTorch's names,
// parameters and defaults. Each forward is its op; the constructors check their arguments
// (std::invalid_argument naming the module and the value) so a bad layer fails where it is built.
#pragma once

#include "xtgrad/nn/module.hpp"
#include "xtgrad/ops/activations_extra.hpp"

namespace xtgrad {
inline namespace XTGRAD_ABI {
namespace nn {

// y = x·Φ(x) (exact) or its tanh approximation: gelu() as a module.
class GELU : public Module {
 public:
  explicit GELU(GeluApproximation approximate = GeluApproximation::none) : approximate_(approximate) {}
  Variable forward(const Variable& x) override;
  GeluApproximation approximate() const { return approximate_; }

 private:
  GeluApproximation approximate_;
};

// y = x·σ(x) (swish): silu() as a module.
class SiLU : public Module {
 public:
  Variable forward(const Variable& x) override;
};

// y = x for x > 0, α(eˣ − 1) otherwise: elu() as a module. α finite.
class ELU : public Module {
 public:
  explicit ELU(double alpha = 1.0);
  Variable forward(const Variable& x) override;
  double alpha() const { return alpha_; }

 private:
  double alpha_;
};

// y = x for x > 0, negative_slope·x otherwise: leaky_relu() as a module. Slope finite.
class LeakyReLU : public Module {
 public:
  explicit LeakyReLU(double negative_slope = 0.01);
  Variable forward(const Variable& x) override;
  double negative_slope() const { return negative_slope_; }

 private:
  double negative_slope_;
};

// y = (1/β)·ln(1 + e^(βx)), x itself where βx > threshold: softplus() as a module.
// β finite and > 0, threshold finite.
class Softplus : public Module {
 public:
  explicit Softplus(double beta = 1.0, double threshold = 20.0);
  Variable forward(const Variable& x) override;
  double beta() const { return beta_; }
  double threshold() const { return threshold_; }

 private:
  double beta_, threshold_;
};

// y = min(max(x, min_val), max_val): hardtanh() as a module. Bounds finite, min_val ≤ max_val.
class Hardtanh : public Module {
 public:
  explicit Hardtanh(double min_val = -1.0, double max_val = 1.0);
  Variable forward(const Variable& x) override;
  double min_val() const { return min_val_; }
  double max_val() const { return max_val_; }

 private:
  double min_val_, max_val_;
};

// y = min(max(x, 0), 6): Hardtanh(0, 6), as PyTorch's ReLU6.
class ReLU6 : public Hardtanh {
 public:
  ReLU6() : Hardtanh(0.0, 6.0) {}
};

// y = ln σ(x): log_sigmoid() as a module.
class LogSigmoid : public Module {
 public:
  Variable forward(const Variable& x) override;
};

// y = x·tanh(softplus(x)) (Misra 2019), composed of the tanh, softplus and mul ops.
class Mish : public Module {
 public:
  Variable forward(const Variable& x) override;
};

}  // namespace nn
}  // namespace XTGRAD_ABI
}  // namespace xtgrad
