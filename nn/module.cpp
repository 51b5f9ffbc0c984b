#include "xtgrad/nn/module.hpp"

#include <cxxabi.h>

#include <cstdlib>
#include <stdexcept>
#include <typeinfo>

namespace xtgrad {
inline namespace XTGRAD_ABI {
namespace nn {

namespace {
thread_local ForwardObserver* t_observer = nullptr;
}  // namespace

ForwardObserver* set_forward_observer(ForwardObserver* observer) {
  ForwardObserver* previous = t_observer;
  t_observer = observer;
  return previous;
}

Variable Module::operator()(const Variable& x) {
  Variable y = forward(x);
  if (t_observer) (*t_observer)(*this, y);
  return y;
}

void Module::check_name(const std::string& name) const {
  if (name.empty()) throw std::invalid_argument("Module: a parameter or child name must not be empty");
  if (name.find('.') != std::string::npos) {
    throw std::invalid_argument("Module: name '" + name + "' must not contain '.' (dots join nested names)");
  }
  for (const auto& [n, _] : parameters_)
    if (n == name) throw std::invalid_argument("Module: name '" + name + "' is already a parameter");
  for (const auto& [n, _] : buffers_)
    if (n == name) throw std::invalid_argument("Module: name '" + name + "' is already a buffer");
  for (const auto& [n, _] : children_)
    if (n == name) throw std::invalid_argument("Module: name '" + name + "' is already a child module");
}

Variable Module::register_parameter(const std::string& name, Tensor value) {
  check_name(name);
  Variable p = Variable::parameter(std::move(value), name);
  parameters_.emplace_back(name, p);
  return p;
}

Variable Module::register_buffer(const std::string& name, Tensor value) {
  check_name(name);
  Variable b(std::move(value), false);
  b.set_name(name);
  buffers_.emplace_back(name, b);
  return b;
}

void Module::register_shared_module(const std::string& name, std::shared_ptr<Module> module) {
  check_name(name);
  if (!module) throw std::invalid_argument("Module: child '" + name + "' is null");
  children_.emplace_back(name, std::move(module));
}

std::vector<NamedModule> Module::named_modules() {
  std::vector<NamedModule> out;
  // Depth-first, pre-order, with an explicit stack: (path, module).
  std::vector<NamedModule> stack{{"", this}};
  while (!stack.empty()) {
    NamedModule top = std::move(stack.back());
    stack.pop_back();
    const std::string prefix = top.first.empty() ? std::string() : top.first + ".";
    for (auto it = top.second->children_.rbegin(); it != top.second->children_.rend(); ++it) {
      stack.emplace_back(prefix + it->first, it->second.get());
    }
    out.push_back(std::move(top));
  }
  return out;
}

NamedParameters Module::named_entries(bool buffers) const {
  NamedParameters out;
  // Depth-first, pre-order, with an explicit stack: (prefix, module).
  std::vector<std::pair<std::string, const Module*>> stack{{"", this}};
  while (!stack.empty()) {
    auto [prefix, m] = stack.back();
    stack.pop_back();
    for (const auto& [name, p] : buffers ? m->buffers_ : m->parameters_) out.emplace_back(prefix + name, p);
    for (auto it = m->children_.rbegin(); it != m->children_.rend(); ++it) {
      stack.emplace_back(prefix + it->first + ".", it->second.get());
    }
  }
  return out;
}

NamedParameters Module::named_parameters() const { return named_entries(false); }
NamedParameters Module::named_buffers() const { return named_entries(true); }

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

void Module::train(bool on) {
  for (auto& [_, m] : named_modules()) m->state_->training = on;
}

EvalModeGuard::EvalModeGuard(Module& root) {
  for (auto& [_, m] : root.named_modules()) saved_.emplace_back(m, m->is_training());
  root.eval();
}

EvalModeGuard::~EvalModeGuard() {
  // Each module's own flag, set directly: train(on) would overwrite the descendants too.
  for (auto& [m, on] : saved_) m->state_->training = on;
}

std::string Module::type_name() const {
  const char* mangled = typeid(*this).name();
  int status = 0;
  char* demangled = abi::__cxa_demangle(mangled, nullptr, nullptr, &status);
  std::string name = status == 0 && demangled ? demangled : mangled;
  std::free(demangled);
  const std::size_t template_start = name.find('<');
  const std::size_t colon = name.rfind("::", template_start);
  return colon == std::string::npos ? name : name.substr(colon + 2);
}

}  // namespace nn
}  // namespace XTGRAD_ABI
}  // namespace xtgrad
