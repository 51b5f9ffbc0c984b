// Regularizers that act through the inputs or constrain the weights directly: the
// input-gradient penalty (double backpropagation), the FGSM step (adversarial training and
// robustness evaluation) and the max-norm projection. In float and double.
#pragma once

#include <cstddef>
#include <functional>

#include "xtgrad/core/variable.hpp"

namespace xtgrad {

// λ·mean_i ‖∂ℓᵢ/∂xᵢ‖² as a graph node (its gradient reaches the parameters through a second
// backward), built with grad(…, set_create_graph(true)). `x` is the leaf (requires_grad) the
// model was called on and `data_loss` = mean_i ℓᵢ the loss computed from that call:
//   Variable x(batch, /*requires_grad=*/true);
//   Variable loss = cross_entropy(model(x), y);
//   loss = loss + input_gradient_penalty(loss, x, 0.01);
// Row i of ∂(mean ℓ)/∂x is (1/n)·∂ℓᵢ/∂xᵢ when ℓᵢ depends on row i alone (no batch statistics),
// so the penalty is λ·n·Σ (∂ data_loss/∂x)². The graph of data_loss is kept for its own
// backward. std::invalid_argument unless x is (n, ...) with n ≥ 1 and requires grad, and
// λ ≥ 0 is finite.
template <class T>
BasicVariable<T> input_gradient_penalty(const BasicVariable<T>& data_loss, const BasicVariable<T>& x, double lambd);

// clip(x + eps·sign(g), lo, hi) elementwise (x and g the same shape): the fast gradient sign
// method's step. std::invalid_argument naming both shapes if they differ.
template <class T>
TensorOf<T> fgsm_step(const TensorOf<T>& x, const TensorOf<T>& g, double eps, double lo = -1, double hi = 1);

// Accuracy of `model` on (inputs, targets) when each input is replaced by
// fgsm_step(x, ∂ce/∂x, eps) for the cross-entropy ce of its own batch of `batch_size` rows.
// inputs: (n, ...); targets: one-hot (n, classes) or class indices (n). The caller puts the
// model in evaluation mode (nn::EvalModeGuard) so that dropout and batch statistics are off.
template <class T>
double fgsm_accuracy(const NonDeduced<std::function<BasicVariable<T>(const BasicVariable<T>&)>>& model,
                     const TensorOf<T>& inputs, const TensorOf<T>& targets, double eps,
                     std::size_t batch_size = 1000);

// Scales each unit's incoming weight vector to L2 norm ≤ c, in every tensor whose name ends in
// "weight": each row of a 2-d Linear weight (out, in), each output channel's filter (a row)
// of a 4-d Conv2d weight (out, in, kh, kw); other tensors untouched. Outside the graph (like an
// optimizer step). Returns how many vectors were scaled. std::invalid_argument unless c > 0.
template <class T>
std::size_t project_max_norm(const NamedParametersOf<T>& params, double c);

}  // namespace xtgrad
