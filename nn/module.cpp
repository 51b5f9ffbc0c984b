#include "xtgrad/nn/module.hpp"

#include <cxxabi.h>

#include <cstdlib>
#include <stdexcept>
#include <typeinfo>

namespace xtgrad {
namespace nn {

namespace {
thread_local ForwardObserver* t_observer = nullptr;
}  // namespace

ForwardObserver* set_forward_observer(ForwardObserver* observer) {
  ForwardObserver* previous = t_observer;
  t_observer = observer;
  return previous;
}

// ---- ModuleBase ------------------------------------------------------------------------------

void ModuleBase::check_name(const std::string& name) const {
  if (name.empty()) throw std::invalid_argument("Module: a parameter or child name must not be empty");
  if (name.find('.') != std::string::npos) {
    throw std::invalid_argument("Module: name '" + name + "' must not contain '.' (dots join nested names)");
  }
  for (const auto& [n, taken_by] : names_)
    if (n == name) throw std::invalid_argument("Module: name '" + name + "' is already " + taken_by);
}

void ModuleBase::claim_name(const std::string& name, const char* kind) {
  check_name(name);
  names_.emplace_back(name, kind);
}

std::vector<NamedModule> ModuleBase::named_modules() {
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

void ModuleBase::train(bool on) {
  for (auto& [_, m] : named_modules()) m->state_->training = on;
}

std::string ModuleBase::type_name() const {
  const char* mangled = typeid(*this).name();
  int status = 0;
  char* demangled = abi::__cxa_demangle(mangled, nullptr, nullptr, &status);
  std::string name = status == 0 && demangled ? demangled : mangled;
  std::free(demangled);
  const std::size_t template_start = name.find('<');
  const std::size_t colon = name.rfind("::", template_start);
  if (colon != std::string::npos) name = name.substr(colon + 2);
  // The library's BasicX<float> / BasicX<double> is shown as its float alias X.
  for (const char* args : {"<float>", "<double>"}) {
    const std::string suffix = args;
    if (name.rfind("Basic", 0) == 0 && name.size() > 5 + suffix.size() &&
        name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0) {
      return name.substr(5, name.size() - 5 - suffix.size());
    }
  }
  return name;
}

EvalModeGuard::EvalModeGuard(ModuleBase& root) {
  for (auto& [_, m] : root.named_modules()) saved_.emplace_back(m, m->is_training());
  root.eval();
}

EvalModeGuard::~EvalModeGuard() {
  // Each module's own flag, set directly: train(on) would overwrite the descendants too.
  for (auto& [m, on] : saved_) m->state_->training = on;
}

bool ModuleBase::call_observed() { return t_observer != nullptr; }

void ModuleBase::report_shape(const Shape& output_shape) const {
  if (t_observer) (*t_observer)(*this, output_shape);
}

// ---- BasicModule<T> --------------------------------------------------------------------------

template <class T>
BasicVariable<T> BasicModule<T>::operator()(const Variable& x) {
  Variable y = forward(x);
  this->report_call(y);
  return y;
}

template <class T>
BasicVariable<T> BasicModule<T>::register_parameter(const std::string& name, Tensor value) {
  claim_name(name, "a parameter");
  Variable p = Variable::parameter(std::move(value), name);
  parameters_.emplace_back(name, p);
  return p;
}

template <class T>
BasicVariable<T> BasicModule<T>::register_buffer(const std::string& name, Tensor value) {
  claim_name(name, "a buffer");
  Variable b(std::move(value), false);
  b.set_name(name);
  buffers_.emplace_back(name, b);
  return b;
}

template <class T>
void BasicModule<T>::register_shared_module(const std::string& name, std::shared_ptr<BasicModule> module) {
  check_name(name);
  if (!module) throw std::invalid_argument("Module: child '" + name + "' is null");
  claim_name(name, "a child module");
  children_.emplace_back(name, std::move(module));
}

template <class T>
NamedParametersOf<T> BasicModule<T>::named_entries(bool buffers) const {
  NamedParameters out;
  // Depth-first, pre-order, with an explicit stack: (prefix, module). Every child of a
  // BasicModule<T> was registered as a BasicModule<T> (register_module, register_shared_module).
  std::vector<std::pair<std::string, const BasicModule*>> stack{{"", this}};
  while (!stack.empty()) {
    auto [prefix, m] = stack.back();
    stack.pop_back();
    for (const auto& [name, p] : buffers ? m->buffers_ : m->parameters_) out.emplace_back(prefix + name, p);
    for (auto it = m->children_.rbegin(); it != m->children_.rend(); ++it) {
      stack.emplace_back(prefix + it->first + ".", static_cast<const BasicModule*>(it->second.get()));
    }
  }
  return out;
}

template <class T>
NamedParametersOf<T> BasicModule<T>::named_parameters() const {
  return named_entries(false);
}

template <class T>
NamedParametersOf<T> BasicModule<T>::named_buffers() const {
  return named_entries(true);
}

template <class T>
std::vector<BasicVariable<T>> BasicModule<T>::parameters() const {
  std::vector<Variable> out;
  for (auto& [_, p] : named_parameters()) out.push_back(p);
  return out;
}

template <class T>
void BasicModule<T>::zero_grad() {
  for (auto& [_, p] : named_parameters()) p.zero_grad();
}

template <class T>
std::size_t BasicModule<T>::parameter_count() const {
  std::size_t n = 0;
  for (const auto& [_, p] : named_parameters()) n += p.size();
  return n;
}

template class BasicModule<float>;
template class BasicModule<double>;

}  // namespace nn
}  // namespace xtgrad
