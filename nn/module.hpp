// Module: the base of every layer and model; registers named parameters and children.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "xtgrad/core/variable.hpp"

namespace xtgrad {
inline namespace XTGRAD_ABI {
namespace nn {

// A model or layer. Parameters are Variable handles, so a copy of a module aliases the same
// parameters (as the copy stored by register_module does). Derive, register members in the
// constructor, implement forward.
class Module {
 public:
  virtual ~Module() = default;

  // y = f(x) for this module.
  virtual Variable forward(const Variable& x) = 0;
  // Same as forward(x).
  Variable operator()(const Variable& x) { return forward(x); }

  // Own parameters first, then each child's under "child." (e.g. fc1.weight), in
  // registration order.
  NamedParameters named_parameters() const;
  // The handles of named_parameters(), in the same order, without names.
  std::vector<Variable> parameters() const;
  // Forgets every parameter's gradient.
  void zero_grad();
  // Total number of scalar parameters.
  std::size_t parameter_count() const;

 protected:
  // Adds a leaf that requires grad under `name` (no '.', not empty, not taken).
  Variable register_parameter(const std::string& name, Tensor value);
  // Adds a child under `name` and returns the module (a copy sharing its parameters).
  template <class M>
  M register_module(const std::string& name, M module) {
    check_name(name);
    children_.emplace_back(name, std::make_shared<M>(module));
    return module;
  }
  // Same, for a child already owned elsewhere (Sequential).
  void register_shared_module(const std::string& name, std::shared_ptr<Module> module);

 private:
  void check_name(const std::string& name) const;
  std::vector<std::pair<std::string, Variable>> parameters_;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> children_;
};

}  // namespace nn
}  // namespace XTGRAD_ABI
}  // namespace xtgrad
