// Numerical check of backward(): central differences in double precision.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "xtgrad/core/variable.hpp"

namespace xtgrad {
inline namespace XTGRAD_ABI {

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

using GradcheckFunction = std::function<Variable(const std::vector<Variable>&)>;

// Checks d⟨f(x), R⟩/dx from backward() against central differences for every element of
// every input (each passed to f as a leaf that requires grad); R is a fixed random tensor of
// f's output shape. Needs the double library (xtgrad::xtgrad_f64): throws std::logic_error
// in the float one, where differences are too coarse to mean anything.
GradcheckReport gradcheck(const GradcheckFunction& f, const std::vector<Tensor>& inputs,
                          const GradcheckOptions& options = {});

// Checks second derivatives: d⟨∇ₓ⟨f(x), R⟩, S⟩/dx from a double backward (grad with
// create_graph, then grad again) against central differences of the first derivatives
// (computed by plain backward passes), for every element of every input; R and S are fixed
// random tensors of f's output and inputs' shapes. The report names the input and the worst
// element. Needs the double library, like gradcheck.
GradcheckReport gradgradcheck(const GradcheckFunction& f, const std::vector<Tensor>& inputs,
                              const GradcheckOptions& options = {});

}  // namespace XTGRAD_ABI
}  // namespace xtgrad
