// The input-space tools: the input-gradient penalty (double backpropagation), the FGSM
// perturbation (adversarial training and --eval-fgsm), and the max-norm projection.
#pragma once

#include <vector>

#include "xtgrad/core/variable.hpp"
#include "xtgrad/nn/module.hpp"
#include "xtgrad/nn/train.hpp"

namespace mnist_app {

// λ·mean_i ‖∂ℓᵢ/∂xᵢ‖² as a graph node (its gradient reaches the parameters through a second
// backward), built with grad(…, {.create_graph = true}).
// How it gets the batch: `x` is the leaf (requires_grad) the model was called on and
// `data_loss` = mean_i ℓᵢ the loss computed from that call, e.g.
//   Variable x(batch, /*requires_grad=*/true);
//   Variable loss = cross_entropy(model(x), y);
//   loss = loss + input_gradient_penalty(loss, x, 0.01);
// Row i of ∂(mean ℓ)/∂x is (1/n)·∂ℓᵢ/∂xᵢ when ℓᵢ depends on row i alone (no batch statistics),
// so the penalty is λ·n·Σ (∂ data_loss/∂x)². The graph of data_loss is kept for its own
// backward. std::invalid_argument unless x is (n, ...) with n ≥ 1 and requires grad, or λ < 0.
xtgrad::Variable input_gradient_penalty(const xtgrad::Variable& data_loss, const xtgrad::Variable& x, double lambd);

// clip(x + eps·sign(g), lo, hi) elementwise (x and g the same shape): the FGSM step.
xtgrad::Tensor fgsm_step(const xtgrad::Tensor& x, const xtgrad::Tensor& g, double eps, double lo = -1, double hi = 1);

// Accuracy of `model` (evaluation mode, restored after) on `data` (one-hot or index targets)
// when each input is replaced by fgsm_step(x, ∂ce/∂x, eps) for the cross-entropy ce of its own
// batch of `batch_size` rows: one signed-gradient step of size eps in the [−1, 1] input space.
double fgsm_accuracy(xtgrad::nn::Module& model, const xtgrad::nn::Dataset& data, double eps,
                     std::size_t batch_size = 1000);

// Scales each unit's incoming weight vector to L2 norm ≤ c, in every tensor whose name ends in
// "weight": each column j of a 2-d Linear weight (in, out), each output channel's filter (a row)
// of a 4-d Conv2d weight (out, in, kh, kw); other tensors untouched. Returns the vectors scaled.
std::size_t project_max_norm(const xtgrad::NamedParameters& params, double c);

}  // namespace mnist_app
