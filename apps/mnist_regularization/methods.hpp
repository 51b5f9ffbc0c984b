// A --reg spec as the app reads it: terms joined by '+', each either a norm penalty (the
// library's spec: none, l1(...), l2(...), l1_l2(...), regularizers/spec.hpp) or one of the
// chapter's other tools, each at most once:
//   dropout(p=P)              Dropout after the hidden activation, P ∈ [0, 1)
//   maxnorm(c=C)              after each step, every unit's incoming weight vector (a row of
//                             a Linear weight (out, in)) is scaled down to norm ≤ C, C > 0
//   noise(std=S)              Gaussian input noise N(0, S²) added in training only, S > 0
//   label_smoothing(eps=E)    targets (1 − E)·y + E/K (K classes), E ∈ (0, 1)
//   early_stopping(patience=N) a validation split of the training subset (validation_fraction)
//                             is held out; training stops after N epochs without a better
//                             validation accuracy and the best epoch's weights are restored
//   adversarial(eps=E)        FGSM adversarial training: each step's loss is
//                             ½·ℓ(x) + ½·ℓ(clip(x + E·sign(∂ℓ/∂x), −1, 1)), E > 0
//   input_grad(lambd=L)       double backpropagation: the penalty L·mean_i ‖∂ℓᵢ/∂xᵢ‖², L > 0
//   weight_decay(lambd=L)     decoupled weight decay, an optimizer option: w ← w − lr·L·w each
//                             step on the weights (not biases), then the optimizer's update of
//                             ∇w (make_optimizer); L > 0
//   mixup(alpha=A)            each batch mixed with a permutation of itself, λ ~ Beta(A, A):
//                             x̃ = λx + (1−λ)x[π], loss λ·ℓ(y) + (1−λ)·ℓ(y[π]) (xtgrad::Mixup); A > 0
//   sam(rho=R)                sharpness-aware minimisation (nn::SAM): the step uses the gradient
//                             at w + R·g/‖g‖₂, two forward/backward passes per step; R > 0
// e.g. "l2(lambd=1e-4)+dropout(p=0.5)". `none` stands alone. The grammar and its messages are
// the library's (regularizers/spec_terms.hpp); the app adds these names, keys and ranges.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "xtgrad/core/defaults.hpp"
#include "xtgrad/nn/optimizers.hpp"
#include "xtgrad/nn/sam.hpp"
#include "xtgrad/regularizers/regularizers.hpp"

namespace mnist_app {

struct Methods {
  std::shared_ptr<const xtgrad::Regularizer> penalty;  // the norm penalty; NoPenalty without one
  double dropout = 0;          // p
  double maxnorm = 0;          // c (0: off)
  double noise = 0;            // std (0: off)
  double label_smoothing = 0;  // eps (0: off)
  std::size_t patience = 0;    // early stopping (0: off)
  double adversarial = 0;      // FGSM eps in training (0: off)
  double input_grad = 0;       // λ of the input-gradient penalty (0: off)
  double weight_decay = 0;     // λ of the decoupled weight decay (0: off)
  double mixup = 0;            // α of mixup (0: off)
  double sam = 0;              // ρ of SAM (0: off)
  std::vector<std::string> terms;  // the canonical terms, in the order given

  // The canonical spec: the terms joined by '+' ("none" for the plain run).
  std::string describe() const;
  // One line per model, data or training change (not the norm penalty), saying what it does.
  std::vector<std::string> effects() const;
  // True when some term changes the loss or step beyond the norm penalty.
  bool has_training_changes() const { return !effects().empty(); }
};

// The fraction of the training subset early_stopping holds out for validation.
constexpr double validation_fraction = 0.1;

// The images early_stopping holds out from a training subset of `train_size`: the fraction
// rounded half away from zero, as nn::split_dataset rounds it.
std::size_t validation_size(std::size_t train_size);

// Throws std::invalid_argument naming --reg and --train-size when `methods` stops early and a
// subset of `train_size` images leaves none to validate on or none to train on (before any
// data is read, rather than nn::split_dataset's internal error later).
void check_train_size(const Methods& methods, std::size_t train_size);

// Throws std::invalid_argument naming --reg and the ranks when `methods` has mixup and `ranks`
// (> 1) processes train one model data-parallel: each holds a shard of every batch, and mixup
// pairs the rows of the whole batch.
void check_data_parallel(const Methods& methods, int ranks);

// Parses `spec`; std::invalid_argument quoting it and saying what is wrong (an unknown name or
// key, a value out of range, an empty term, a method given twice, two norm penalties, none
// combined with anything).
Methods parse_methods(std::string_view spec);

// --optimizer: "sgd" (the blog's, the default), "adam" or "adamw".
bool is_optimizer_name(std::string_view name);

// A run's optimizer: the base one, wrapped in SAM when the run has sam(rho=R).
struct RunOptimizer {
  std::unique_ptr<xtgrad::nn::Optimizer> base;
  std::unique_ptr<xtgrad::nn::SAM> sam;
  xtgrad::nn::Optimizer& get() { return sam ? *sam : *base; }
  std::string description;  // one line: the optimizer, its decay and SAM
};

// The optimizer `kind` (is_optimizer_name) over `params` with learning rate `lr`:
//   sgd    nn::SGD with momentum `momentum` (PyTorch's)
//   adam   nn::Adam (betas 0.9, 0.999, eps 1e-8)
//   adamw  nn::AdamW, its decay the weight_decay term's λ, else PyTorch's default 0.01
// weight_decay(lambd=λ) is decoupled (SGDOptions/AdamOptions::decoupled_weight_decay) and falls on
// the tensors the norm penalties select by default, the weights (a second group, the biases, has
// none). Under plain SGD it is exactly the step of l2(lambd=λ): d/dw ½λ‖w‖² = λw, and
// w − lr·(g + λw) = (1 − lr·λ)w − lr·g; under Adam it is AdamW's step, which differs (Adam divides
// l2's λw by √v̂ with the rest of the gradient). sam(rho=R) wraps the optimizer in nn::SAM.
// std::invalid_argument for an unknown kind or momentum with adam/adamw.
RunOptimizer make_optimizer(std::string_view kind, double lr, double momentum, const Methods& methods,
                            const xtgrad::NamedParameters& params);

}  // namespace mnist_app
