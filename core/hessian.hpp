// Second-order products by double backward: Hessian-vector products and small Hessians.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

#include "xtgrad/core/variable.hpp"

namespace xtgrad {

// f(params) → a one-element Variable (a loss).
template <class T>
using ScalarFunctionOf = std::function<BasicVariable<T>(const std::vector<BasicVariable<T>>&)>;

// H·v, H the Hessian of f with respect to `params` (each must require grad) and v one tensor
// per parameter, of its shape. Pearlmutter's trick: H·v = ∇⟨∇f, v⟩, one create_graph backward
// and one more backward, never forming H. Returns one tensor per parameter; .grad is untouched.
// Declared for each precision (not a template), so that braced lists work: hvp(f, {w}, {v}).
std::vector<TensorOf<float>> hessian_vector_product(const ScalarFunctionOf<float>& f,
                                                    const std::vector<BasicVariable<float>>& params,
                                                    const std::vector<TensorOf<float>>& v);
std::vector<TensorOf<double>> hessian_vector_product(const ScalarFunctionOf<double>& f,
                                                     const std::vector<BasicVariable<double>>& params,
                                                     const std::vector<TensorOf<double>>& v);

// The dominant eigenpair of the Hessian H of f with respect to `params` (at their values), by
// power iteration on Hessian-vector products (as hessian_vector_product, with ∇f formed once and
// its graph kept for every product): v₀ random (N(0, 1) from `seed`, unit norm over all
// parameters), λₖ = vₖᵀHvₖ, vₖ₊₁ = Hvₖ/‖Hvₖ‖. It converges to the eigenvalue of largest
// magnitude (signed: a saddle's negative curvature can win), at the rate |λ₂/λ₁| per iteration.
// Stops after `iterations`, or earlier once |λₖ − λₖ₋₁| ≤ tolerance·|λₖ| (tolerance 0: never).
struct PowerIterationOptions {
  std::size_t iterations = 20;
  double tolerance = 0;
  std::uint64_t seed = 0;
};
template <class T>
struct TopEigen {
  double eigenvalue = 0;               // the last Rayleigh quotient λₖ
  std::vector<TensorOf<T>> eigenvector;  // vₖ (unit norm over all parameters), one tensor per parameter
  std::size_t iterations = 0;          // Hessian-vector products made
  double relative_change = 0;          // |λₖ − λₖ₋₁|/|λₖ| (0 after one iteration or when λₖ = 0)
  double residual = 0;                 // ‖Hvₖ − λₖvₖ‖: 0 for an exact eigenpair; H symmetric has an
                                       // eigenvalue within it of λₖ (not necessarily the top one)
};
// std::invalid_argument for no parameters or iterations = 0, and as hessian_vector_product.
// Declared for each precision, like hessian_vector_product.
TopEigen<float> hessian_top_eigenvalue(const ScalarFunctionOf<float>& f, const std::vector<BasicVariable<float>>& params,
                                       const PowerIterationOptions& options = {});
TopEigen<double> hessian_top_eigenvalue(const ScalarFunctionOf<double>& f,
                                        const std::vector<BasicVariable<double>>& params,
                                        const PowerIterationOptions& options = {});

// The Hessian of f at x, of shape x.shape + x.shape (one double backward per element of x:
// for small inputs).
template <class T>
TensorOf<T> hessian(const NonDeduced<std::function<BasicVariable<T>(const BasicVariable<T>&)>>& f, const TensorOf<T>& x);

}  // namespace xtgrad
