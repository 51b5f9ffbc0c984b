#include "xtgrad/nn/schedulers.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace xtgrad {
namespace nn {
namespace {

void require(bool ok, const char* who, const std::string& what) {
  if (!ok) throw std::invalid_argument(std::string(who) + ": " + what);
}

}  // namespace

LrScheduler::LrScheduler(OptimizerBase& optimizer) : optimizer_(optimizer) {
  for (std::size_t g = 0; g < optimizer.group_count(); ++g) base_lrs_.push_back(optimizer.group_learning_rate(g));
}

void FactorScheduler::step(double) {
  ++epoch_;
  apply();
}

void FactorScheduler::apply() {
  const double f = factor(epoch_);
  for (std::size_t g = 0; g < base_lrs_.size(); ++g) optimizer_.set_group_learning_rate(g, base_lrs_[g] * f);
}

StepLR::StepLR(OptimizerBase& optimizer, std::size_t step_size, double gamma)
    : FactorScheduler(optimizer), step_size_(step_size), gamma_(gamma) {
  require(step_size > 0, "StepLR", "step_size must be positive, got 0");
  require(gamma > 0 && gamma <= 1, "StepLR", "gamma must be in (0, 1], got " + std::to_string(gamma));
  apply();
}
double StepLR::factor(std::size_t t) const { return std::pow(gamma_, double(t / step_size_)); }

MultiStepLR::MultiStepLR(OptimizerBase& optimizer, std::vector<std::size_t> milestones, double gamma)
    : FactorScheduler(optimizer), milestones_(std::move(milestones)), gamma_(gamma) {
  require(std::is_sorted(milestones_.begin(), milestones_.end()) &&
              std::adjacent_find(milestones_.begin(), milestones_.end()) == milestones_.end(),
          "MultiStepLR", "milestones must be strictly increasing");
  require(gamma > 0 && gamma <= 1, "MultiStepLR", "gamma must be in (0, 1], got " + std::to_string(gamma));
  apply();
}
double MultiStepLR::factor(std::size_t t) const {
  const auto passed = std::upper_bound(milestones_.begin(), milestones_.end(), t) - milestones_.begin();
  return std::pow(gamma_, double(passed));
}

ExponentialLR::ExponentialLR(OptimizerBase& optimizer, double gamma) : FactorScheduler(optimizer), gamma_(gamma) {
  require(gamma > 0 && gamma <= 1, "ExponentialLR", "gamma must be in (0, 1], got " + std::to_string(gamma));
  apply();
}
double ExponentialLR::factor(std::size_t t) const { return std::pow(gamma_, double(t)); }

CosineLR::CosineLR(OptimizerBase& optimizer, std::size_t total, std::size_t warmup, double min_factor)
    : FactorScheduler(optimizer), total_(total), warmup_(warmup), min_factor_(min_factor) {
  require(total > warmup, "CosineLR",
          "total (" + std::to_string(total) + ") must exceed warmup (" + std::to_string(warmup) + ")");
  require(min_factor >= 0 && min_factor <= 1, "CosineLR", "min_factor must be in [0, 1], got " + std::to_string(min_factor));
  apply();
}
double CosineLR::factor(std::size_t t) const {
  if (t < warmup_) return double(t + 1) / double(warmup_ + 1);
  const double progress = std::min(1.0, double(t - warmup_) / double(total_ - warmup_));
  return min_factor_ + (1 - min_factor_) * 0.5 * (1 + std::cos(M_PI * progress));
}

ReduceLROnPlateau::ReduceLROnPlateau(OptimizerBase& optimizer, PlateauMode mode, double factor, std::size_t patience,
                                     double threshold, std::size_t cooldown, double min_lr)
    : LrScheduler(optimizer),
      mode_(mode),
      factor_(factor),
      threshold_(threshold),
      min_lr_(min_lr),
      patience_(patience),
      cooldown_(cooldown),
      best_(0) {
  require(factor > 0 && factor < 1, "ReduceLROnPlateau", "factor must be in (0, 1), got " + std::to_string(factor));
  require(threshold >= 0 && std::isfinite(threshold), "ReduceLROnPlateau", "threshold must be finite and >= 0");
  require(min_lr >= 0 && std::isfinite(min_lr), "ReduceLROnPlateau", "min_lr must be finite and >= 0");
}

void ReduceLROnPlateau::step(double metric) {
  require(!std::isnan(metric), "ReduceLROnPlateau", "step() needs the monitored metric, got NaN");
  ++epoch_;
  const bool better = epoch_ == 1 || (mode_ == PlateauMode::min ? metric < best_ - std::abs(best_) * threshold_
                                                                 : metric > best_ + std::abs(best_) * threshold_);
  if (better) {
    best_ = metric;
    bad_epochs_ = 0;
  } else {
    ++bad_epochs_;
  }
  if (cooldown_left_ > 0) {
    --cooldown_left_;
    bad_epochs_ = 0;
  }
  if (bad_epochs_ > patience_) {
    for (std::size_t g = 0; g < optimizer_.group_count(); ++g) {
      const double lr = optimizer_.group_learning_rate(g);
      optimizer_.set_group_learning_rate(g, std::max(lr * factor_, min_lr_));
    }
    ++reductions_;
    cooldown_left_ = cooldown_;
    bad_epochs_ = 0;
  }
}

}  // namespace nn
}  // namespace xtgrad
