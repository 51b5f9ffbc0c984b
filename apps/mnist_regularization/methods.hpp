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
// e.g. "l2(lambd=1e-4)+dropout(p=0.5)". `none` stands alone. The grammar and its messages are
// the library's (regularizers/spec_terms.hpp); the app adds these names, keys and ranges.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

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

// Parses `spec`; std::invalid_argument quoting it and saying what is wrong (an unknown name or
// key, a value out of range, an empty term, a method given twice, two norm penalties, none
// combined with anything).
Methods parse_methods(std::string_view spec);

}  // namespace mnist_app
