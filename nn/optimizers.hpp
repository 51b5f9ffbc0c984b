// Optimizers: update parameters in place from the gradients stored in their nodes.
//
// An optimizer holds the same Variable handles the module holds (copies alias), reads each
// parameter's gradient from its node and nothing else, and keeps its per-parameter state in
// slots aligned with the parameter list. So a data-parallel run can average the gradients
// (an allreduce) between backward() and step() without the optimizer knowing.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "xtgrad/core/variable.hpp"

namespace xtgrad {
inline namespace XTGRAD_ABI {
namespace nn {

// Named tensors an optimizer exports for a checkpoint: "fc1.weight.momentum", ...
using OptimizerState = std::vector<std::pair<std::string, Tensor>>;

// A subset of the parameters with its own learning rate and weight decay (PyTorch's
// parameter groups): e.g. no decay for biases, a smaller lr for a pretrained part. A
// negative value takes the optimizer's own.
struct ParamGroup {
  ParamGroup(NamedParameters params, double lr = -1, double weight_decay = -1)
      : params(std::move(params)), lr(lr), weight_decay(weight_decay) {}
  NamedParameters params;
  double lr;
  double weight_decay;
};
using ParamGroups = std::vector<ParamGroup>;

// Base of every optimizer. Parameters without a gradient are skipped by step(). State
// buffers are allocated on a parameter's first step; later steps allocate nothing. The
// parameters come in one or more groups (ParamGroup), each with its lr and weight decay.
class Optimizer {
 public:
  virtual ~Optimizer() = default;
  Optimizer(const Optimizer&) = delete;
  Optimizer& operator=(const Optimizer&) = delete;

  // One update of every parameter that has a gradient.
  virtual void step() = 0;
  // Forgets every parameter's gradient (the buffers are kept for reuse).
  void zero_grad();

  // The handles this optimizer updates, with their names.
  const NamedParameters& parameters() const { return params_; }
  // The current learning rate of group 0 (of the only group unless groups were given).
  double learning_rate() const { return groups_[0].lr; }
  // Sets every group's learning rate; must be finite and > 0.
  void set_learning_rate(double lr);
  // Number of parameter groups (1 unless groups were given).
  std::size_t group_count() const { return groups_.size(); }
  // Learning rate and weight decay of group g (std::out_of_range past the last group).
  double group_learning_rate(std::size_t g) const;
  double group_weight_decay(std::size_t g) const;
  // Sets group g's learning rate (schedulers scale each group's own); finite and >= 0 (a
  // cosine schedule ends at 0, which freezes the group).
  void set_group_learning_rate(std::size_t g, double lr);
  // "SGD", "Adam", ...: the prefix of this optimizer's error messages.
  const char* name() const { return name_; }

  // Per-parameter state as "<parameter>.<buffer>" tensors, in parameter order; a parameter
  // not yet stepped has no entries. Counters (Adam's "step") are 0-d tensors.
  OptimizerState state() const;
  // Replaces the whole state with `state` (as state() produced it, possibly by another
  // optimizer of the same kind and hyperparameters over parameters of the same names and
  // shapes). A parameter missing from it starts afresh. Unknown, duplicate or misshapen
  // entries, or a parameter with only some of its buffers, throw std::invalid_argument
  // naming the entry; the state is then unchanged.
  void load_state(const OptimizerState& state);

 protected:
  // `buffer_names`: the per-parameter tensors (each of the parameter's shape); `counts_steps`:
  // whether a per-parameter step counter is kept and exported as "<parameter>.step".
  Optimizer(const char* name, NamedParameters params, double lr, double weight_decay,
            std::vector<std::string> buffer_names, bool counts_steps);
  // Same with groups; a group's negative lr or weight decay takes `lr` or `weight_decay`.
  Optimizer(const char* name, ParamGroups groups, double lr, double weight_decay,
            std::vector<std::string> buffer_names, bool counts_steps);

  // A parameter's slot: its buffers (empty until its first step) and its step count.
  struct Slot {
    std::vector<Tensor> buffers;
    std::int64_t steps = 0;
  };
  // Whether parameter i has been stepped (its buffers exist).
  bool has_state(std::size_t i) const { return !slots_[i].buffers.empty(); }
  // Slot i with its buffers allocated (zeros) if this is the parameter's first step; throws
  // std::logic_error if the parameter's shape changed since.
  Slot& slot(std::size_t i);
  // The parameter's value and gradient, checked to have the same shape (an invariant).
  Tensor& checked_value(std::size_t i);
  // Throws std::invalid_argument naming this optimizer unless `ok`.
  void require(bool ok, const std::string& what, double value) const;
  // Learning rate and weight decay for parameter i (its group's).
  double lr_of(std::size_t i) const { return groups_[group_of_[i]].lr; }
  double weight_decay_of(std::size_t i) const { return groups_[group_of_[i]].weight_decay; }

 private:
  struct Group {
    double lr, weight_decay;
  };
  const char* name_;
  NamedParameters params_;
  std::vector<Group> groups_;
  std::vector<std::size_t> group_of_;  // group_of_[i]: the group of params_[i]
  std::vector<std::string> buffer_names_;
  bool counts_steps_;
  std::vector<Slot> slots_;  // slots_[i] belongs to params_[i]
};

// Stochastic gradient descent, PyTorch's semantics:
//   g ← ∇w + wd·w;  v ← μ·v + g (v = g on the first step);  g ← nesterov ? g + μ·v : v;  w ← w − lr·g.
// State: "<p>.momentum" when μ > 0.
class SGD : public Optimizer {
 public:
  // lr > 0, momentum μ ≥ 0, weight_decay ≥ 0, nesterov only with μ > 0; else std::invalid_argument.
  SGD(NamedParameters params, double lr, double momentum = 0.0, bool nesterov = false, double weight_decay = 0.0);
  // Per-group lr and weight decay; the others are shared.
  SGD(ParamGroups groups, double lr, double momentum = 0.0, bool nesterov = false, double weight_decay = 0.0);
  void step() override;

 private:
  double momentum_;
  bool nesterov_;
};

// Adam (Kingma & Ba) with bias correction; L2 folded into the gradient, as PyTorch's Adam:
//   g ← ∇w + wd·w;  m ← β₁m + (1−β₁)g;  v ← β₂v + (1−β₂)g²;
//   w ← w − lr·m̂/(√v̂ + ε), m̂ = m/(1−β₁ᵗ), v̂ = v/(1−β₂ᵗ).
// State: "<p>.exp_avg", "<p>.exp_avg_sq", "<p>.step".
class Adam : public Optimizer {
 public:
  // lr > 0, β₁, β₂ ∈ [0, 1), ε ≥ 0, weight_decay ≥ 0; else std::invalid_argument.
  Adam(NamedParameters params, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8,
       double weight_decay = 0.0);
  // Per-group lr and weight decay; the others are shared.
  Adam(ParamGroups groups, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8,
       double weight_decay = 0.0);
  void step() override;

 protected:
  // For AdamW: `decoupled` applies the weight decay to w directly instead of through the gradient.
  Adam(const char* name, ParamGroups groups, double lr, double beta1, double beta2, double eps, double weight_decay,
       bool decoupled);

 private:
  double beta1_;
  double beta2_;
  double eps_;
  bool decoupled_;  // AdamW: w ← w − lr·wd·w, then Adam without L2
};

// AdamW (Loshchilov & Hutter), PyTorch's: w ← w − lr·wd·w before the Adam update of ∇w.
class AdamW : public Adam {
 public:
  // As Adam's, with PyTorch's default weight_decay 0.01.
  AdamW(NamedParameters params, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8,
        double weight_decay = 1e-2);
  // Per-group lr and weight decay; the others are shared.
  AdamW(ParamGroups groups, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8,
        double weight_decay = 1e-2);
};

// RMSProp, PyTorch's (not centered):
//   g ← ∇w + wd·w;  s ← αs + (1−α)g²;  u = g/(√s + ε);
//   μ > 0: b ← μb + u, w ← w − lr·b;  else w ← w − lr·u.
// State: "<p>.square_avg", and "<p>.momentum" when μ > 0.
class RMSProp : public Optimizer {
 public:
  // lr > 0, α ∈ [0, 1), ε ≥ 0, momentum ≥ 0, weight_decay ≥ 0; else std::invalid_argument.
  RMSProp(NamedParameters params, double lr = 1e-2, double alpha = 0.99, double eps = 1e-8, double momentum = 0.0,
          double weight_decay = 0.0);
  // Per-group lr and weight decay; the others are shared.
  RMSProp(ParamGroups groups, double lr = 1e-2, double alpha = 0.99, double eps = 1e-8, double momentum = 0.0,
          double weight_decay = 0.0);
  void step() override;

 private:
  double alpha_;
  double eps_;
  double momentum_;
};

}  // namespace nn
}  // namespace XTGRAD_ABI
}  // namespace xtgrad
