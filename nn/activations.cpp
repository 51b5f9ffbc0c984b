#include "xtgrad/nn/activations.hpp"

#include <cmath>
#include <sstream>
#include <stdexcept>
#include <string>

#include "xtgrad/ops/activations.hpp"
#include "xtgrad/ops/elementwise.hpp"

namespace xtgrad {
inline namespace XTGRAD_ABI {
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

ELU::ELU(double alpha) : alpha_(alpha) {
  check_finite("ELU", "alpha", alpha);
}

LeakyReLU::LeakyReLU(double negative_slope) : negative_slope_(negative_slope) {
  check_finite("LeakyReLU", "negative_slope", negative_slope);
}

Softplus::Softplus(double beta, double threshold) : beta_(beta), threshold_(threshold) {
  check_finite("Softplus", "beta", beta);
  check_finite("Softplus", "threshold", threshold);
  if (beta <= 0) throw std::invalid_argument("Softplus: beta must be > 0, got " + text(beta));
}

Hardtanh::Hardtanh(double min_val, double max_val) : min_val_(min_val), max_val_(max_val) {
  check_finite("Hardtanh", "min_val", min_val);
  check_finite("Hardtanh", "max_val", max_val);
  if (min_val > max_val) {
    throw std::invalid_argument("Hardtanh: min_val " + text(min_val) + " is greater than max_val " + text(max_val));
  }
}

Variable GELU::forward(const Variable& x) { return gelu(x, approximate_); }
Variable SiLU::forward(const Variable& x) { return silu(x); }
Variable ELU::forward(const Variable& x) { return elu(x, alpha_); }
Variable LeakyReLU::forward(const Variable& x) { return leaky_relu(x, negative_slope_); }
Variable Softplus::forward(const Variable& x) { return softplus(x, beta_, threshold_); }
Variable Hardtanh::forward(const Variable& x) { return hardtanh(x, min_val_, max_val_); }
Variable LogSigmoid::forward(const Variable& x) { return log_sigmoid(x); }
Variable Mish::forward(const Variable& x) { return mul(x, tanh(softplus(x))); }

}  // namespace nn
}  // namespace XTGRAD_ABI
}  // namespace xtgrad
