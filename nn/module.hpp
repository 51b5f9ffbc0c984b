// Module: the base of every layer and model; registers named parameters, buffers and children,
// and carries the train/eval mode.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "xtgrad/core/variable.hpp"

namespace xtgrad {
inline namespace XTGRAD_ABI {
namespace nn {

class Module;
// Called after each Module::operator() on the thread that installed it (nn/summary.cpp).
using ForwardObserver = std::function<void(const Module& module, const Variable& output)>;
// Installs `observer` (nullptr: none) for the calling thread; returns the previous one.
ForwardObserver* set_forward_observer(ForwardObserver* observer);

// A module in the tree with its dotted path ("" for the root, "features.0", ...). The pointer
// does not own: it is valid while the root module lives.
using NamedModule = std::pair<std::string, Module*>;

// A model or layer. Parameters and buffers are Variable handles, and the mode flag is shared
// state, so a copy of a module aliases the same parameters, buffers and mode (as the copy
// stored by register_module does: train()/eval() on the parent reach the member too). Derive,
// register members in the constructor, implement forward.
class Module {
 public:
  Module() = default;
  Module(const Module&) = default;
  Module& operator=(const Module&) = default;
  virtual ~Module() = default;

  // y = f(x) for this module.
  virtual Variable forward(const Variable& x) = 0;
  // forward(x), reported to an active summary (nn/summary.hpp).
  Variable operator()(const Variable& x);

  // Own parameters first, then each child's under "child." (e.g. fc1.weight), in
  // registration order.
  NamedParameters named_parameters() const;
  // The handles of named_parameters(), in the same order, without names.
  std::vector<Variable> parameters() const;
  // State that is not trained by gradients (BatchNorm's running statistics), named like
  // named_parameters(); the handles alias the module's tensors.
  NamedParameters named_buffers() const;
  // This module ("") and every descendant, depth-first in registration order.
  std::vector<NamedModule> named_modules();
  // Forgets every parameter's gradient.
  void zero_grad();
  // Total number of scalar parameters.
  std::size_t parameter_count() const;

  // Sets training mode (on = true) or evaluation mode on this module and every descendant.
  // Dropout and BatchNorm read it; a new module is in training mode.
  void train(bool on = true);
  // train(false): dropout off, BatchNorm uses its running statistics.
  void eval() { train(false); }
  // Whether this module is in training mode.
  bool is_training() const { return state_->training; }

  // The class name shown by summaries ("Linear", "Conv2d", ...); by default the demangled
  // type name without namespaces.
  virtual std::string type_name() const;
  // Identity shared by a module and its copies (a member and the child stored for it).
  const void* identity() const { return state_.get(); }

 protected:
  // Adds a leaf that requires grad under `name` (no '.', not empty, not taken).
  Variable register_parameter(const std::string& name, Tensor value);
  // Adds a constant leaf under `name`, listed by named_buffers().
  Variable register_buffer(const std::string& name, Tensor value);
  // Adds a child under `name` and returns the module (a copy sharing its parameters and mode).
  template <class M>
  M register_module(const std::string& name, M module) {
    check_name(name);
    children_.emplace_back(name, std::make_shared<M>(module));
    return module;
  }
  // Same, for a child already owned elsewhere (Sequential).
  void register_shared_module(const std::string& name, std::shared_ptr<Module> module);
  // The registered children, in order.
  const std::vector<std::pair<std::string, std::shared_ptr<Module>>>& children() const { return children_; }

 private:
  friend class EvalModeGuard;
  struct State {
    bool training = true;
  };
  void check_name(const std::string& name) const;
  // Parameters (or buffers) of the whole tree, dotted, each module's own before its children's.
  NamedParameters named_entries(bool buffers) const;
  std::shared_ptr<State> state_ = std::make_shared<State>();
  std::vector<std::pair<std::string, Variable>> parameters_;
  std::vector<std::pair<std::string, Variable>> buffers_;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> children_;
};

// Puts every module of a tree in evaluation mode for its lifetime, then restores each
// module's own mode (accuracy() and summaries evaluate through it).
class EvalModeGuard {
 public:
  explicit EvalModeGuard(Module& root);
  ~EvalModeGuard();
  EvalModeGuard(const EvalModeGuard&) = delete;
  EvalModeGuard& operator=(const EvalModeGuard&) = delete;

 private:
  std::vector<std::pair<Module*, bool>> saved_;
};

}  // namespace nn
}  // namespace XTGRAD_ABI
}  // namespace xtgrad
