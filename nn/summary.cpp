#include "xtgrad/nn/summary.hpp"

#include <algorithm>
#include <cstdio>
#include <unordered_map>

#include "xtgrad/core/grad_mode.hpp"
#include "xtgrad/core/xt.hpp"

namespace xtgrad {
namespace nn {

std::size_t LayerSummary::output_size() const {
  std::size_t n = 1;
  for (const std::size_t d : output_shape) n *= d;
  return n;
}

std::size_t total_output_size(const std::vector<LayerSummary>& rows) {
  std::size_t n = 0;
  for (const auto& row : rows) n += row.output_size();
  return n;
}

template <class T>
std::vector<LayerSummary> summarize(BasicModule<T>& model, const Shape& input_shape) {
  // Name of each module by identity (a member and its registered copy share one).
  std::unordered_map<const void*, std::string> names;
  std::unordered_map<const void*, bool> is_leaf;
  for (auto& [name, m] : model.named_modules()) {
    names.emplace(m->identity(), name);
    is_leaf[m->identity()] = m->named_modules().size() == 1;
  }
  std::vector<LayerSummary> rows;
  ForwardObserver observer = [&](const ModuleBase& m, const Shape& output_shape) {
    const auto leaf = is_leaf.find(m.identity());
    if (leaf != is_leaf.end() && !leaf->second) return;  // a container: its layers have rows
    const auto name = names.find(m.identity());
    rows.push_back({name == names.end() ? "?" : name->second, m.type_name(), output_shape, m.parameter_count()});
  };
  NoGrad no_grad;
  EvalModeGuard eval_mode(model);
  ForwardObserver* previous = set_forward_observer(&observer);
  try {
    model(BasicVariable<T>(TensorOf<T>(xt::zeros<T>(input_shape))));
  } catch (...) {
    set_forward_observer(previous);
    throw;
  }
  set_forward_observer(previous);
  return rows;
}

template <class T>
std::string summary(BasicModule<T>& model, const Shape& input_shape) {
  const std::vector<LayerSummary> rows = summarize(model, input_shape);
  std::vector<std::string> first{"Layer (type)"}, second{"Output shape"}, third{"Params"};
  for (const auto& r : rows) {
    first.push_back(r.name + " (" + r.type + ")");
    second.push_back(shape_str(r.output_shape));
    third.push_back(std::to_string(r.parameters));
  }
  std::size_t w1 = 0, w2 = 0, w3 = 0;
  for (std::size_t i = 0; i < first.size(); ++i) {
    w1 = std::max(w1, first[i].size());
    w2 = std::max(w2, second[i].size());
    w3 = std::max(w3, third[i].size());
  }
  std::string out;
  char line[512];
  for (std::size_t i = 0; i < first.size(); ++i) {
    std::snprintf(line, sizeof line, "%-*s  %-*s  %*s\n", int(w1), first[i].c_str(), int(w2), second[i].c_str(),
                  int(w3), third[i].c_str());
    out += line;
  }
  std::size_t buffers = 0;
  for (const auto& [_, b] : model.named_buffers()) buffers += b.size();
  out += "Total parameters: " + std::to_string(model.parameter_count());
  if (buffers) out += " (and " + std::to_string(buffers) + " buffer values)";
  return out + "\n";
}

template std::vector<LayerSummary> summarize(BasicModule<float>&, const Shape&);
template std::vector<LayerSummary> summarize(BasicModule<double>&, const Shape&);
template std::string summary(BasicModule<float>&, const Shape&);
template std::string summary(BasicModule<double>&, const Shape&);

}  // namespace nn
}  // namespace xtgrad
