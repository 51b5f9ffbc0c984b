// Second-order products by double backward: Hessian-vector products and small Hessians.
#pragma once

#include <functional>
#include <vector>

#include "xtgrad/core/variable.hpp"

namespace xtgrad {
inline namespace XTGRAD_ABI {

// f(params) → a one-element Variable (a loss).
using ScalarFunction = std::function<Variable(const std::vector<Variable>&)>;

// H·v, H the Hessian of f with respect to `params` (each must require grad) and v one tensor
// per parameter, of its shape. Pearlmutter's trick: H·v = ∇⟨∇f, v⟩, one create_graph backward
// and one more backward, never forming H. Returns one tensor per parameter; .grad is untouched.
std::vector<Tensor> hessian_vector_product(const ScalarFunction& f, const std::vector<Variable>& params,
                                           const std::vector<Tensor>& v);

// The Hessian of f at x, of shape x.shape + x.shape (one double backward per element of x:
// for small inputs).
Tensor hessian(const std::function<Variable(const Variable&)>& f, const Tensor& x);

}  // namespace XTGRAD_ABI
}  // namespace xtgrad
