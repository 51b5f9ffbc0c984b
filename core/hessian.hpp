// Second-order products by double backward: Hessian-vector products and small Hessians.
#pragma once

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

// The Hessian of f at x, of shape x.shape + x.shape (one double backward per element of x:
// for small inputs).
template <class T>
TensorOf<T> hessian(const NonDeduced<std::function<BasicVariable<T>(const BasicVariable<T>&)>>& f, const TensorOf<T>& x);

}  // namespace xtgrad
