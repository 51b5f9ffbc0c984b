// Sharpness-aware minimisation (Foret et al., 2021) around any optimizer: each step looks for
// the worst nearby weights within an L2 ball of radius ρ and steps with the gradient found there.
//   g = ∇L(w);  ε = ρ·g/‖g‖₂ (‖·‖₂ over all parameters with a gradient; ε = 0 when g = 0);
//   g' = ∇L(w + ε);  w ← the base optimizer's step from w with gradient g'.
// Two forward/backward passes per step. nn::fit drives it through step_with(recompute); a
// hand-written loop calls first_step(), recomputes the loss and its gradient, then second_step().
#pragma once

#include <functional>
#include <vector>

#include "xtgrad/nn/optimizers.hpp"

namespace xtgrad {
namespace nn {

template <class T>
class BasicSAM : public BasicOptimizer<T> {
 public:
  // Wraps `base` (kept by reference: it must outlive this) over the same parameters; ρ finite and
  // > 0, else std::invalid_argument naming SAM. Learning rates and weight decays are the base's
  // groups, shared: set them through either (schedulers work on the SAM).
  BasicSAM(BasicOptimizer<T>& base, double rho = 0.05);

  // Not enough on its own (SAM needs the gradient at w + ε): throws std::logic_error.
  void step() override;
  // first_step(); zero_grad(); recompute(); second_step().
  void step_with(const std::function<void()>& recompute) override;
  // From the gradients at w: saves w and moves to w + ε. Returns ‖g‖₂.
  double first_step();
  // Restores the saved w and runs the base optimizer's step with the current gradients (those
  // at w + ε). std::logic_error without a first_step() before it.
  void second_step();

  double rho() const { return rho_; }
  BasicOptimizer<T>& base() { return base_; }
  // The base optimizer's state (SAM keeps none between steps).
  OptimizerStateOf<T> state() const override { return base_.state(); }
  void load_state(const OptimizerStateOf<T>& state) override { base_.load_state(state); }

 private:
  BasicOptimizer<T>& base_;
  double rho_;
  std::vector<char> perturbed_;  // perturbed_[i]: parameter i was moved by the last first_step()
  bool pending_ = false;         // a first_step() awaits its second_step()
};

using SAM = BasicSAM<float>;

extern template class BasicSAM<float>;
extern template class BasicSAM<double>;

}  // namespace nn
}  // namespace xtgrad
