// Optimizers: update parameters in place from the gradients stored in their nodes.
//
// An optimizer holds the same BasicVariable<T> handles the module holds (copies alias), reads
// each parameter's gradient from its node and nothing else, and keeps its per-parameter state
// in slots aligned with the parameter list. So a data-parallel run can average the gradients
// (an allreduce) between backward() and step() without the optimizer knowing.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "xtgrad/core/variable.hpp"

namespace xtgrad {
namespace nn {

// Named tensors an optimizer exports for a checkpoint: "fc1.weight.momentum", ...
template <class T>
using OptimizerStateOf = std::vector<std::pair<std::string, TensorOf<T>>>;
using OptimizerState = OptimizerStateOf<float>;

// A subset of the parameters with its own learning rate and weight decay (PyTorch's
// parameter groups): e.g. no decay for biases, a smaller lr for a pretrained part. A
// negative value takes the optimizer's own.
// Names for parameters given as a plain list: "param0", "param1", ... (for messages and state
// keys; distinct tensors may share names, below).
template <class T>
NamedParametersOf<T> name_parameters(const std::vector<BasicVariable<T>>& params) {
  NamedParametersOf<T> named;
  named.reserve(params.size());
  for (std::size_t i = 0; i < params.size(); ++i) named.emplace_back("param" + std::to_string(i), params[i]);
  return named;
}

template <class T>
struct BasicParamGroup {
  BasicParamGroup(NamedParametersOf<T> params, double lr = -1, double weight_decay = -1)
      : params(std::move(params)), lr(lr), weight_decay(weight_decay) {}
  NamedParametersOf<T> params;
  double lr;
  double weight_decay;
};
template <class T>
using BasicParamGroups = std::vector<BasicParamGroup<T>>;
using ParamGroup = BasicParamGroup<float>;
using ParamGroups = BasicParamGroups<float>;

// The precision-free part of every optimizer: its name, step() and zero_grad(), and each
// group's learning rate and weight decay. Schedulers hold an optimizer through this.
class OptimizerBase {
 public:
  virtual ~OptimizerBase() = default;
  OptimizerBase(const OptimizerBase&) = delete;
  OptimizerBase& operator=(const OptimizerBase&) = delete;

  // One update of every parameter that has a gradient.
  virtual void step() = 0;
  // The same with a way to get the gradient again: `recompute` must leave in every parameter's
  // gradient that of the same batch's loss at the current weights (a forward and a backward
  // pass; the gradients are zeroed before it is called). nn::fit steps through this. Most
  // optimizers need one gradient and ignore it; BasicSAM (nn/sam.hpp) calls it at w + ε.
  virtual void step_with(const std::function<void()>& recompute) {
    (void)recompute;
    step();
  }
  // Forgets every parameter's gradient (the buffers are kept for reuse).
  virtual void zero_grad() = 0;

  // The current learning rate of group 0 (of the only group unless groups were given).
  double learning_rate() const { return (*groups_)[0].lr; }
  // Sets every group's learning rate; must be finite and > 0.
  void set_learning_rate(double lr);
  // Number of parameter groups (1 unless groups were given).
  std::size_t group_count() const { return groups_->size(); }
  // Learning rate and weight decay of group g (std::out_of_range past the last group).
  double group_learning_rate(std::size_t g) const;
  double group_weight_decay(std::size_t g) const;
  // Sets group g's learning rate (schedulers scale each group's own); finite and >= 0 (a
  // cosine schedule ends at 0, which freezes the group).
  void set_group_learning_rate(std::size_t g, double lr);
  // "SGD", "Adam", ...: the prefix of this optimizer's error messages.
  const char* name() const { return name_; }

 protected:
  explicit OptimizerBase(const char* name) : name_(name), groups_(std::make_shared<std::vector<Group>>()) {}
  // From now on this optimizer's groups (learning rates, weight decays) are `other`'s: a change
  // through either is seen by both (a wrapper such as BasicSAM and its base optimizer).
  void share_groups_with(const OptimizerBase& other) { groups_ = other.groups_; }
  // Throws std::invalid_argument naming this optimizer unless `ok`.
  void require(bool ok, const std::string& what, double value) const;
  // Checks lr and weight_decay (finite, lr > 0, weight_decay >= 0).
  void check_defaults(double lr, double weight_decay) const;
  // Appends group g with `lr`/`weight_decay` taken where the group's are negative; checked.
  void add_group(double group_lr, double group_wd, double lr, double weight_decay);
  double lr_of_group(std::size_t g) const { return (*groups_)[g].lr; }
  double weight_decay_of_group(std::size_t g) const { return (*groups_)[g].weight_decay; }

 private:
  struct Group {
    double lr, weight_decay;
  };
  const char* name_;
  std::shared_ptr<std::vector<Group>> groups_;  // shared only after share_groups_with()
};

// Base of every optimizer over parameters of scalar type T. Parameters are told apart by
// identity, not by name: `a.named_parameters()` and `b.named_parameters()` appended together
// both hold a "weight" and both are updated (messages use the names; state() keys a repeated
// name's later parameters "weight#2", "weight#3", ...). The same tensor twice is an error (it
// would be updated twice per step). Every optimizer also takes a plain
// std::vector<BasicVariable<T>> (named "param0", ...). Parameters without a gradient are
// skipped by step(). State buffers are allocated on a parameter's first step; later steps
// allocate nothing. The parameters come in one or more groups (BasicParamGroup), each with
// its lr and weight decay.
template <class T>
class BasicOptimizer : public OptimizerBase {
 public:
  void zero_grad() override;

  // The handles this optimizer updates, with their names.
  const NamedParametersOf<T>& parameters() const { return params_; }

  // Per-parameter state as "<parameter>.<buffer>" tensors, in parameter order; a parameter
  // not yet stepped has no entries. Counters (Adam's "step") are 0-d tensors.
  // (Virtual: a wrapper such as BasicSAM exports its base optimizer's.)
  virtual OptimizerStateOf<T> state() const;
  // Replaces the whole state with `state` (as state() produced it, possibly by another
  // optimizer of the same kind and hyperparameters over parameters of the same names and
  // shapes). A parameter missing from it starts afresh. Unknown, duplicate or misshapen
  // entries, or a parameter with only some of its buffers, throw std::invalid_argument
  // naming the entry; the state is then unchanged.
  virtual void load_state(const OptimizerStateOf<T>& state);

 protected:
  // `buffer_names`: the per-parameter tensors (each of the parameter's shape); `counts_steps`:
  // whether a per-parameter step counter is kept and exported as "<parameter>.step".
  BasicOptimizer(const char* name, NamedParametersOf<T> params, double lr, double weight_decay,
                 std::vector<std::string> buffer_names, bool counts_steps);
  // Same with groups; a group's negative lr or weight decay takes `lr` or `weight_decay`.
  BasicOptimizer(const char* name, BasicParamGroups<T> groups, double lr, double weight_decay,
                 std::vector<std::string> buffer_names, bool counts_steps);

  // A parameter's slot: its buffers (empty until its first step) and its step count.
  struct Slot {
    std::vector<TensorOf<T>> buffers;
    std::int64_t steps = 0;
  };
  // Whether parameter i has been stepped (its buffers exist).
  bool has_state(std::size_t i) const { return !slots_[i].buffers.empty(); }
  // Slot i with its buffers allocated (zeros) if this is the parameter's first step; throws
  // std::logic_error if the parameter's shape changed since.
  Slot& slot(std::size_t i);
  // The parameter's value and gradient, checked to have the same shape (an invariant).
  TensorOf<T>& checked_value(std::size_t i);
  // Learning rate and weight decay for parameter i (its group's).
  double lr_of(std::size_t i) const { return lr_of_group(group_of_[i]); }
  double weight_decay_of(std::size_t i) const { return weight_decay_of_group(group_of_[i]); }

 private:
  NamedParametersOf<T> params_;
  std::vector<std::string> keys_;      // keys_[i]: params_[i]'s name, numbered if repeated (state keys)
  std::vector<std::size_t> group_of_;  // group_of_[i]: the group of params_[i]
  std::vector<std::string> buffer_names_;
  bool counts_steps_;
  std::vector<Slot> slots_;  // slots_[i] belongs to params_[i]
};

// SGD's hyperparameters by name (torch::optim::SGDOptions), with decoupled weight decay:
//   nn::SGD opt(params, nn::SGDOptions(0.1).momentum(0.9).weight_decay(1e-4).decoupled_weight_decay(true));
class SGDOptions {
 public:
  explicit SGDOptions(double lr) : lr_(lr) {}
  SGDOptions& lr(double v) { lr_ = v; return *this; }
  SGDOptions& momentum(double v) { momentum_ = v; return *this; }
  SGDOptions& nesterov(bool v) { nesterov_ = v; return *this; }
  SGDOptions& weight_decay(double v) { weight_decay_ = v; return *this; }
  // true: w ← (1 − lr·wd)·w before the momentum update of ∇w alone (as AdamW decouples Adam's).
  SGDOptions& decoupled_weight_decay(bool v) { decoupled_ = v; return *this; }
  double lr() const { return lr_; }
  double momentum() const { return momentum_; }
  bool nesterov() const { return nesterov_; }
  double weight_decay() const { return weight_decay_; }
  bool decoupled_weight_decay() const { return decoupled_; }

 private:
  double lr_;
  double momentum_ = 0, weight_decay_ = 0;
  bool nesterov_ = false, decoupled_ = false;
};

// Stochastic gradient descent, PyTorch's semantics:
//   g ← ∇w + wd·w;  v ← μ·v + g (v = g on the first step);  g ← nesterov ? g + μ·v : v;  w ← w − lr·g.
// With decoupled weight decay (SGDOptions): w ← (1 − lr·wd)·w first, then the above with g ← ∇w.
// Without momentum the two are the same step, w ← w − lr·(∇w + wd·w); with momentum they differ
// (coupled decay is accumulated in v, decoupled is not).
// State: "<p>.momentum" when μ > 0.
template <class T>
class BasicSGD : public BasicOptimizer<T> {
 public:
  // lr > 0, momentum μ ≥ 0, weight_decay ≥ 0, nesterov only with μ > 0; else std::invalid_argument.
  BasicSGD(NamedParametersOf<T> params, double lr, double momentum = 0.0, bool nesterov = false,
           double weight_decay = 0.0);
  // Per-group lr and weight decay; the others are shared.
  BasicSGD(BasicParamGroups<T> groups, double lr, double momentum = 0.0, bool nesterov = false,
           double weight_decay = 0.0);
  // A plain list of parameters.
  BasicSGD(const std::vector<BasicVariable<T>>& params, double lr, double momentum = 0.0, bool nesterov = false,
           double weight_decay = 0.0)
      : BasicSGD(name_parameters(params), lr, momentum, nesterov, weight_decay) {}
  // Hyperparameters by name, decoupled weight decay included.
  BasicSGD(NamedParametersOf<T> params, const SGDOptions& o)
      : BasicSGD(BasicParamGroups<T>{BasicParamGroup<T>(std::move(params))}, o) {}
  BasicSGD(BasicParamGroups<T> groups, const SGDOptions& o);
  BasicSGD(const std::vector<BasicVariable<T>>& params, const SGDOptions& o) : BasicSGD(name_parameters(params), o) {}
  void step() override;
  // Whether the weight decay is decoupled (SGDOptions::decoupled_weight_decay).
  bool decoupled_weight_decay() const { return decoupled_; }

 private:
  double momentum_;
  bool nesterov_;
  bool decoupled_ = false;  // w ← (1 − lr·wd)·w, then SGD on ∇w
};

// Adam's and AdamW's hyperparameters by name, C++17 style (torch::optim::AdamWOptions):
//   nn::AdamW opt(model.named_parameters(), nn::AdamWOptions(1e-3).weight_decay(0.05));
// Each setter returns the options; the getter of the same name reads the value.
template <class Derived>
class AdamOptionsBase {
 public:
  Derived& lr(double v) { lr_ = v; return self(); }
  Derived& betas(double beta1, double beta2) { beta1_ = beta1; beta2_ = beta2; return self(); }
  Derived& eps(double v) { eps_ = v; return self(); }
  Derived& weight_decay(double v) { weight_decay_ = v; return self(); }
  double lr() const { return lr_; }
  double beta1() const { return beta1_; }
  double beta2() const { return beta2_; }
  double eps() const { return eps_; }
  double weight_decay() const { return weight_decay_; }

 protected:
  AdamOptionsBase(double lr, double weight_decay) : lr_(lr), weight_decay_(weight_decay) {}

 private:
  Derived& self() { return static_cast<Derived&>(*this); }
  double lr_;
  double beta1_ = 0.9, beta2_ = 0.999, eps_ = 1e-8;
  double weight_decay_;
};
// Adam's defaults: lr 1e-3, betas (0.9, 0.999), eps 1e-8, weight_decay 0, coupled (L2 in the
// gradient). decoupled_weight_decay(true) makes it AdamW (PyTorch 2.6's Adam option of that name).
class AdamOptions : public AdamOptionsBase<AdamOptions> {
 public:
  explicit AdamOptions(double lr = 1e-3) : AdamOptionsBase(lr, 0.0) {}
  AdamOptions& decoupled_weight_decay(bool v) { decoupled_ = v; return *this; }
  bool decoupled_weight_decay() const { return decoupled_; }

 private:
  bool decoupled_ = false;
};
// AdamW's: the same with weight_decay 0.01 (PyTorch's).
class AdamWOptions : public AdamOptionsBase<AdamWOptions> {
 public:
  explicit AdamWOptions(double lr = 1e-3) : AdamOptionsBase(lr, 1e-2) {}
};

// Adam (Kingma & Ba) with bias correction; L2 folded into the gradient, as PyTorch's Adam:
//   g ← ∇w + wd·w;  m ← β₁m + (1−β₁)g;  v ← β₂v + (1−β₂)g²;
//   w ← w − lr·m̂/(√v̂ + ε), m̂ = m/(1−β₁ᵗ), v̂ = v/(1−β₂ᵗ).
// State: "<p>.exp_avg", "<p>.exp_avg_sq", "<p>.step".
template <class T>
class BasicAdam : public BasicOptimizer<T> {
 public:
  // lr > 0, β₁, β₂ ∈ [0, 1), ε ≥ 0, weight_decay ≥ 0; else std::invalid_argument.
  BasicAdam(NamedParametersOf<T> params, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999,
            double eps = 1e-8, double weight_decay = 0.0);
  // Per-group lr and weight decay; the others are shared.
  BasicAdam(BasicParamGroups<T> groups, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999,
            double eps = 1e-8, double weight_decay = 0.0);
  // A plain list of parameters.
  BasicAdam(const std::vector<BasicVariable<T>>& params, double lr = 1e-3, double beta1 = 0.9,
            double beta2 = 0.999, double eps = 1e-8, double weight_decay = 0.0)
      : BasicAdam(name_parameters(params), lr, beta1, beta2, eps, weight_decay) {}
  // Hyperparameters by name: BasicAdam(params, AdamOptions(1e-3).weight_decay(1e-4)); with
  // .decoupled_weight_decay(true) the steps are AdamW's (the name stays "Adam").
  BasicAdam(NamedParametersOf<T> params, const AdamOptions& o)
      : BasicAdam(BasicParamGroups<T>{BasicParamGroup<T>(std::move(params))}, o) {}
  BasicAdam(BasicParamGroups<T> groups, const AdamOptions& o)
      : BasicAdam("Adam", std::move(groups), o.lr(), o.beta1(), o.beta2(), o.eps(), o.weight_decay(),
                  o.decoupled_weight_decay()) {}
  BasicAdam(const std::vector<BasicVariable<T>>& params, const AdamOptions& o)
      : BasicAdam(name_parameters(params), o) {}
  void step() override;
  // Whether the weight decay is decoupled (AdamW, or AdamOptions::decoupled_weight_decay).
  bool decoupled_weight_decay() const { return decoupled_; }

 protected:
  // For AdamW: `decoupled` applies the weight decay to w directly instead of through the gradient.
  BasicAdam(const char* name, BasicParamGroups<T> groups, double lr, double beta1, double beta2, double eps,
            double weight_decay, bool decoupled);

 private:
  double beta1_;
  double beta2_;
  double eps_;
  bool decoupled_;  // AdamW: w ← w − lr·wd·w, then Adam without L2
};

// AdamW (Loshchilov & Hutter), PyTorch's: w ← w − lr·wd·w before the Adam update of ∇w.
template <class T>
class BasicAdamW : public BasicAdam<T> {
 public:
  // As Adam's, with PyTorch's default weight_decay 0.01.
  BasicAdamW(NamedParametersOf<T> params, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999,
             double eps = 1e-8, double weight_decay = 1e-2);
  // Per-group lr and weight decay; the others are shared.
  BasicAdamW(BasicParamGroups<T> groups, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999,
             double eps = 1e-8, double weight_decay = 1e-2);
  // A plain list of parameters.
  BasicAdamW(const std::vector<BasicVariable<T>>& params, double lr = 1e-3, double beta1 = 0.9,
             double beta2 = 0.999, double eps = 1e-8, double weight_decay = 1e-2)
      : BasicAdamW(name_parameters(params), lr, beta1, beta2, eps, weight_decay) {}
  // Weight decay (and the rest) by name: BasicAdamW(params, AdamWOptions(1e-3).weight_decay(0.05)).
  BasicAdamW(NamedParametersOf<T> params, const AdamWOptions& o)
      : BasicAdamW(std::move(params), o.lr(), o.beta1(), o.beta2(), o.eps(), o.weight_decay()) {}
  BasicAdamW(BasicParamGroups<T> groups, const AdamWOptions& o)
      : BasicAdamW(std::move(groups), o.lr(), o.beta1(), o.beta2(), o.eps(), o.weight_decay()) {}
  BasicAdamW(const std::vector<BasicVariable<T>>& params, const AdamWOptions& o)
      : BasicAdamW(name_parameters(params), o) {}
};

// RMSProp, PyTorch's (not centered):
//   g ← ∇w + wd·w;  s ← αs + (1−α)g²;  u = g/(√s + ε);
//   μ > 0: b ← μb + u, w ← w − lr·b;  else w ← w − lr·u.
// State: "<p>.square_avg", and "<p>.momentum" when μ > 0.
template <class T>
class BasicRMSProp : public BasicOptimizer<T> {
 public:
  // lr > 0, α ∈ [0, 1), ε ≥ 0, momentum ≥ 0, weight_decay ≥ 0; else std::invalid_argument.
  BasicRMSProp(NamedParametersOf<T> params, double lr = 1e-2, double alpha = 0.99, double eps = 1e-8,
               double momentum = 0.0, double weight_decay = 0.0);
  // Per-group lr and weight decay; the others are shared.
  BasicRMSProp(BasicParamGroups<T> groups, double lr = 1e-2, double alpha = 0.99, double eps = 1e-8,
               double momentum = 0.0, double weight_decay = 0.0);
  // A plain list of parameters.
  BasicRMSProp(const std::vector<BasicVariable<T>>& params, double lr = 1e-2, double alpha = 0.99,
               double eps = 1e-8, double momentum = 0.0, double weight_decay = 0.0)
      : BasicRMSProp(name_parameters(params), lr, alpha, eps, momentum, weight_decay) {}
  void step() override;

 private:
  double alpha_;
  double eps_;
  double momentum_;
};

// The float optimizers (what users train with).
using Optimizer = BasicOptimizer<float>;
using SGD = BasicSGD<float>;
using Adam = BasicAdam<float>;
using AdamW = BasicAdamW<float>;
using RMSProp = BasicRMSProp<float>;

extern template class BasicOptimizer<float>;
extern template class BasicOptimizer<double>;
extern template class BasicSGD<float>;
extern template class BasicSGD<double>;
extern template class BasicAdam<float>;
extern template class BasicAdam<double>;
extern template class BasicAdamW<float>;
extern template class BasicAdamW<double>;
extern template class BasicRMSProp<float>;
extern template class BasicRMSProp<double>;

}  // namespace nn
}  // namespace xtgrad
