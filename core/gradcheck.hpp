// Numerical check of backward(): central differences in double precision.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <type_traits>
#include <vector>

#include "xtgrad/core/variable.hpp"

namespace xtgrad {

struct GradcheckOptions {
  double eps = 1e-6;    // central-difference step
  double rtol = 1e-5;   // pass iff |analytic − numeric| ≤ atol + rtol·|numeric|, per element
  double atol = 1e-7;
  std::uint64_t seed = 0;  // draws the fixed projection tensor R
};

struct GradcheckReport {
  bool ok = true;
  std::size_t worst_input = 0;   // which input holds the worst element
  std::size_t worst_index = 0;   // its flat index
  double analytic = 0, numeric = 0;
  double worst_ratio = 0;        // |a − n| / (atol + rtol·|n|); ≤ 1 passes
  std::string message;           // one line naming the input, the element and both values
};

// The function under test: called with the inputs as double-precision leaves, it returns a
// double-precision Variable. Any callable does, typically a generic lambda, so that the code a
// program trains in float is checked in double from the same source:
//   gradcheck([](const auto& x) { return sum(sigmoid(x[0])); }, {w});
using GradcheckFunction = std::function<BasicVariable<double>(const std::vector<BasicVariable<double>>&)>;

// Copies of float tensors in double.
std::vector<TensorOf<double>> widen_to_double(const std::vector<TensorOf<float>>& tensors);

// Checks d⟨f(x), R⟩/dx from backward() against central differences for every element of
// every input (each passed to f as a double leaf that requires grad); R is a fixed random
// tensor of f's output shape. Always in double, whatever precision the program trains in:
// float inputs are widened first (in float the differences would be too coarse to mean anything).
GradcheckReport gradcheck(const GradcheckFunction& f, const std::vector<TensorOf<double>>& inputs,
                          const GradcheckOptions& options = {});
// Float inputs (a std::vector<TensorOf<float>>: a braced list of tensors means the double form).
template <class Inputs, std::enable_if_t<std::is_same_v<Inputs, std::vector<TensorOf<float>>>, int> = 0>
GradcheckReport gradcheck(const GradcheckFunction& f, const Inputs& inputs, const GradcheckOptions& options = {}) {
  return gradcheck(f, widen_to_double(inputs), options);
}
// Checks second derivatives: d⟨∇ₓ⟨f(x), R⟩, S⟩/dx from a double backward (grad with
// create_graph, then grad again) against central differences of the first derivatives
// (computed by plain backward passes), for every element of every input; R and S are fixed
// random tensors of f's output and inputs' shapes. The report names the input and the worst
// element. In double, like gradcheck.
GradcheckReport gradgradcheck(const GradcheckFunction& f, const std::vector<TensorOf<double>>& inputs,
                              const GradcheckOptions& options = {});
template <class Inputs, std::enable_if_t<std::is_same_v<Inputs, std::vector<TensorOf<float>>>, int> = 0>
GradcheckReport gradgradcheck(const GradcheckFunction& f, const Inputs& inputs, const GradcheckOptions& options = {}) {
  return gradgradcheck(f, widen_to_double(inputs), options);
}

}  // namespace xtgrad
