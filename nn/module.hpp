// BasicModule<T>: the base of every layer and model of scalar type T (float or double);
// registers named parameters, buffers and children, and carries the train/eval mode.
// `Module` is BasicModule<float>. What does not depend on T (the tree of children, the mode,
// the type name) lives in ModuleBase, so EvalModeGuard, named_modules() and the forward
// observer of summaries serve float and double models alike.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "xtgrad/core/defaults.hpp"  // the float names (Variable, Tensor) a subclass of Module writes
#include "xtgrad/core/variable.hpp"

namespace xtgrad {
namespace nn {

class ModuleBase;
template <class T>
class BasicModule;

// A module in the tree with its dotted path ("" for the root, "features.0", ...). The pointer
// does not own: it is valid while the root module lives.
using NamedModule = std::pair<std::string, ModuleBase*>;

// Called after each call of a module (BasicModule<T>, either T) on the thread that installed it,
// with the output's shape (nn/summary.cpp).
using ForwardObserver = std::function<void(const ModuleBase& module, const Shape& output_shape)>;
// Installs `observer` (nullptr: none) for the calling thread; returns the previous one.
ForwardObserver* set_forward_observer(ForwardObserver* observer);

// The precision-free part of a module: its children, its mode and its name. Only
// BasicModule<T> derives from it (its constructor is private), so every child of a
// BasicModule<T> is a BasicModule<T>. The mode flag is shared state: a copy of a module
// aliases the mode (and, through BasicModule, the parameters) of the original.
class ModuleBase {
 public:
  ModuleBase(const ModuleBase&) = default;
  ModuleBase& operator=(const ModuleBase&) = default;
  virtual ~ModuleBase() = default;

  // This module ("") and every descendant, depth-first in registration order.
  std::vector<NamedModule> named_modules();
  // Total number of scalar parameters (this module and its descendants).
  virtual std::size_t parameter_count() const = 0;

  // Sets training mode (on = true) or evaluation mode on this module and every descendant.
  // Dropout and BatchNorm read it; a new module is in training mode.
  void train(bool on = true);
  // train(false): dropout off, BatchNorm uses its running statistics.
  void eval() { train(false); }
  // Whether this module is in training mode.
  bool is_training() const { return state_->training; }

  // The class name shown by summaries ("Linear", "Conv2d", ...): the demangled type name
  // without namespaces, and a library template BasicX<float> / BasicX<double> shown as "X".
  virtual std::string type_name() const;
  // Identity shared by a module and its copies (a member and the child stored for it).
  const void* identity() const { return state_.get(); }

 protected:
  // Reports a call of this module with `main_output` to an active summary (nn/summary.hpp).
  // operator()(x) does it; a module with more call forms (several inputs or outputs:
  // lstm(x, state), mha(q, k, v)) calls it from each, with its main output. Without a summary
  // on this thread it costs one test (the shape is not even copied).
  template <class T>
  void report_call(const BasicVariable<T>& main_output) const {
    if (call_observed()) report_shape(main_output.shape());
  }

 private:
  template <class T>
  friend class BasicModule;
  friend class EvalModeGuard;
  struct State {
    bool training = true;
  };
  using Child = std::pair<std::string, std::shared_ptr<ModuleBase>>;

  ModuleBase() = default;
  // Whether a forward observer (a summary) is installed on this thread.
  static bool call_observed();
  void report_shape(const Shape& output_shape) const;
  // Throws std::invalid_argument unless `name` is not empty, has no '.' and is not taken.
  void check_name(const std::string& name) const;
  // check_name, then records `name` as taken by `kind` ("a parameter", "a buffer", "a child module").
  void claim_name(const std::string& name, const char* kind);

  std::shared_ptr<State> state_ = std::make_shared<State>();
  std::vector<std::pair<std::string, const char*>> names_;  // every registered name and its kind
  std::vector<Child> children_;
};

// A model or layer over BasicVariable<T>. Parameters and buffers are handles, so a copy of a
// module aliases the same parameters, buffers and mode (as the copy stored by register_module
// does: train()/eval() on the parent reach the member too). Derive, register members in the
// constructor, implement forward.
template <class T>
class BasicModule : public ModuleBase {
 public:
  using Scalar = T;
  using Tensor = TensorOf<T>;
  using Variable = BasicVariable<T>;
  using NamedParameters = NamedParametersOf<T>;

  BasicModule() = default;

  // y = f(x) for this module: its one-input form, the one Sequential calls. A module with more
  // inputs or outputs adds call forms of its own beside it (see report_call).
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
  // Forgets every parameter's gradient.
  void zero_grad();
  // Total number of scalar parameters.
  std::size_t parameter_count() const override;

 protected:
  // Adds a leaf that requires grad under `name` (no '.', not empty, not taken).
  Variable register_parameter(const std::string& name, Tensor value);
  // Adds a constant leaf under `name`, listed by named_buffers().
  Variable register_buffer(const std::string& name, Tensor value);
  // Adds a child under `name` and returns the module (a copy sharing its parameters and mode).
  // The child has this module's scalar type.
  template <class M>
  M register_module(const std::string& name, M module) {
    static_assert(std::is_base_of_v<BasicModule<T>, M>,
                  "register_module: the child must be a module of the parent's scalar type");
    claim_name(name, "a child module");
    children_.emplace_back(name, std::make_shared<M>(module));
    return module;
  }
  // Same, for a child already owned elsewhere (Sequential).
  void register_shared_module(const std::string& name, std::shared_ptr<BasicModule> module);

 private:
  // Parameters (or buffers) of the whole tree, dotted, each module's own before its children's.
  NamedParameters named_entries(bool buffers) const;
  NamedParameters parameters_;
  NamedParameters buffers_;
};

extern template class BasicModule<float>;
extern template class BasicModule<double>;

using Module = BasicModule<float>;

// Puts every module of a tree in evaluation mode for its lifetime, then restores each
// module's own mode (accuracy() and summaries evaluate through it).
class EvalModeGuard {
 public:
  explicit EvalModeGuard(ModuleBase& root);
  ~EvalModeGuard();
  EvalModeGuard(const EvalModeGuard&) = delete;
  EvalModeGuard& operator=(const EvalModeGuard&) = delete;

 private:
  std::vector<std::pair<ModuleBase*, bool>> saved_;
};

}  // namespace nn
}  // namespace xtgrad
