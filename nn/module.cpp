#include "xtgrad/nn/module.hpp"

#include <stdexcept>

namespace xtgrad {
inline namespace XTGRAD_ABI {
namespace nn {

void Module::check_name(const std::string& name) const {
  if (name.empty()) throw std::invalid_argument("Module: a parameter or child name must not be empty");
  if (name.find('.') != std::string::npos) {
    throw std::invalid_argument("Module: name '" + name + "' must not contain '.' (dots join nested names)");
  }
  for (const auto& [n, _] : parameters_)
    if (n == name) throw std::invalid_argument("Module: name '" + name + "' is already a parameter");
  for (const auto& [n, _] : children_)
    if (n == name) throw std::invalid_argument("Module: name '" + name + "' is already a child module");
}

Variable Module::register_parameter(const std::string& name, Tensor value) {
  check_name(name);
  Variable p = Variable::parameter(std::move(value), name);
  parameters_.emplace_back(name, p);
  return p;
}

void Module::register_shared_module(const std::string& name, std::shared_ptr<Module> module) {
  check_name(name);
  if (!module) throw std::invalid_argument("Module: child '" + name + "' is null");
  children_.emplace_back(name, std::move(module));
}

NamedParameters Module::named_parameters() const {
  NamedParameters out;
  // Depth-first, pre-order, with an explicit stack: (prefix, module).
  std::vector<std::pair<std::string, const Module*>> stack{{"", this}};
  while (!stack.empty()) {
    auto [prefix, m] = stack.back();
    stack.pop_back();
    for (const auto& [name, p] : m->parameters_) out.emplace_back(prefix + name, p);
    for (auto it = m->children_.rbegin(); it != m->children_.rend(); ++it) {
      stack.emplace_back(prefix + it->first + ".", it->second.get());
    }
  }
  return out;
}

std::vector<Variable> Module::parameters() const {
  std::vector<Variable> out;
  for (auto& [_, p] : named_parameters()) out.push_back(p);
  return out;
}

void Module::zero_grad() {
  for (auto& [_, p] : named_parameters()) p.zero_grad();
}

std::size_t Module::parameter_count() const {
  std::size_t n = 0;
  for (const auto& [_, p] : named_parameters()) n += p.size();
  return n;
}

}  // namespace nn
}  // namespace XTGRAD_ABI
}  // namespace xtgrad
