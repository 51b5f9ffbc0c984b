// Learning-rate schedulers: step, multi-step, exponential, cosine with linear warm-up, and
// reduce-on-plateau. Call step() once per epoch, by hand or through FitOptions::scheduler.
#pragma once

#include <cstddef>
#include <limits>
#include <vector>

#include "xtgrad/nn/optimizers.hpp"

namespace xtgrad {
namespace nn {

// Sets the learning rates of an optimizer's groups as training goes; precision-free (it holds
// the OptimizerBase of a float or double optimizer). Keeps a reference to the optimizer, which
// must outlive it.
class LrScheduler {
 public:
  explicit LrScheduler(OptimizerBase& optimizer);
  virtual ~LrScheduler() = default;
  LrScheduler(const LrScheduler&) = delete;
  LrScheduler& operator=(const LrScheduler&) = delete;
  // Ends one epoch. `metric` is the monitored value (ReduceLROnPlateau needs one; the
  // others ignore it).
  virtual void step(double metric = std::numeric_limits<double>::quiet_NaN()) = 0;
  // Epochs ended so far.
  std::size_t epoch() const { return epoch_; }

 protected:
  OptimizerBase& optimizer_;
  std::vector<double> base_lrs_;  // each group's learning rate when the scheduler was made
  std::size_t epoch_ = 0;
};

// lr_g = base_g · factor(t) after t epochs; the factor of epoch 0 applies at construction.
class FactorScheduler : public LrScheduler {
 public:
  void step(double metric = std::numeric_limits<double>::quiet_NaN()) override;
  // factor(epoch()).
  double factor() const { return factor(epoch_); }

 protected:
  explicit FactorScheduler(OptimizerBase& optimizer) : LrScheduler(optimizer) {}
  // Sets every group's lr for the current epoch (call at the end of a derived constructor).
  void apply();
  virtual double factor(std::size_t t) const = 0;
};

// factor = γ^⌊t / step_size⌋ (PyTorch StepLR).
class StepLR : public FactorScheduler {
 public:
  StepLR(OptimizerBase& optimizer, std::size_t step_size, double gamma = 0.1);

 private:
  double factor(std::size_t t) const override;
  std::size_t step_size_;
  double gamma_;
};

// factor = γ^(number of milestones ≤ t) (PyTorch MultiStepLR); milestones increasing.
class MultiStepLR : public FactorScheduler {
 public:
  MultiStepLR(OptimizerBase& optimizer, std::vector<std::size_t> milestones, double gamma = 0.1);

 private:
  double factor(std::size_t t) const override;
  std::vector<std::size_t> milestones_;
  double gamma_;
};

// factor = γᵗ (PyTorch ExponentialLR).
class ExponentialLR : public FactorScheduler {
 public:
  ExponentialLR(OptimizerBase& optimizer, double gamma);

 private:
  double factor(std::size_t t) const override;
  double gamma_;
};

// Linear warm-up over `warmup` epochs, factor (t + 1)/(warmup + 1), then a half cosine from
// 1 down to min_factor at t = total (and min_factor after):
//   factor = min + (1 − min)·(1 + cos(π·(t − warmup)/(total − warmup)))/2.
class CosineLR : public FactorScheduler {
 public:
  CosineLR(OptimizerBase& optimizer, std::size_t total, std::size_t warmup = 0, double min_factor = 0.0);

 private:
  double factor(std::size_t t) const override;
  std::size_t total_, warmup_;
  double min_factor_;
};

enum class PlateauMode { min, max };  // whether smaller (a loss) or larger (an accuracy) is better

// Multiplies every group's lr by `factor` (not below min_lr) once the metric has not improved
// for more than `patience` epochs, then waits `cooldown` epochs (PyTorch ReduceLROnPlateau,
// relative threshold). An improvement is metric < best·(1 − threshold) in min mode,
// metric > best·(1 + threshold) in max mode.
class ReduceLROnPlateau : public LrScheduler {
 public:
  ReduceLROnPlateau(OptimizerBase& optimizer, PlateauMode mode = PlateauMode::min, double factor = 0.1,
                    std::size_t patience = 10, double threshold = 1e-4, std::size_t cooldown = 0,
                    double min_lr = 0.0);
  // A NaN metric throws std::invalid_argument: this scheduler needs one.
  void step(double metric) override;
  // Number of reductions so far.
  std::size_t reductions() const { return reductions_; }

 private:
  PlateauMode mode_;
  double factor_, threshold_, min_lr_;
  std::size_t patience_, cooldown_;
  double best_;  // the first metric seen is the first best
  std::size_t bad_epochs_ = 0, cooldown_left_ = 0, reductions_ = 0;
};

}  // namespace nn
}  // namespace xtgrad
