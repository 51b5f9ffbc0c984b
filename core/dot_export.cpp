#include "xtgrad/core/dot_export.hpp"

#include <sstream>
#include <unordered_map>

namespace xtgrad {

namespace {
// DOT string literal contents: quotes and backslashes escaped.
std::string escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}
}  // namespace

template <class T>
std::string to_dot(const BasicVariable<T>& output) {
  using Node = BasicNode<T>;
  std::ostringstream out;
  out << "digraph xtgrad {\n  rankdir=BT;\n  node [fontname=\"Helvetica\", fontsize=10];\n";
  if (!output.defined()) return out.str() + "}\n";
  std::unordered_map<const Node*, std::size_t> ids;
  std::vector<const Node*> stack{output.node().get()};
  ids.emplace(output.node().get(), 0);
  std::ostringstream edges;
  while (!stack.empty()) {
    const Node* n = stack.back();
    stack.pop_back();
    const std::size_t id = ids.at(n);
    const bool parameter = n->parents.empty() && n->requires_grad && !n->released;
    const bool constant = !n->requires_grad;
    std::string label = n->released ? std::string(n->op) + " (freed)" : parameter ? (n->name.empty() ? "parameter" : n->name) : std::string(n->op);
    if (!parameter && !n->name.empty()) label += " " + n->name;
    out << "  n" << id << " [label=\"" << escape(label) << "\\n" << shape_str(n->value) << "\"";
    if (parameter) out << ", shape=ellipse, style=filled, fillcolor=\"#cfe2ff\"";
    else if (constant) out << ", shape=box, style=filled, fillcolor=\"#eeeeee\", fontcolor=\"#555555\"";
    else out << ", shape=box";
    out << "];\n";
    for (const NodePtrOf<T>& p : n->parents) {
      auto [it, inserted] = ids.emplace(p.get(), ids.size());
      if (inserted) stack.push_back(p.get());
      edges << "  n" << it->second << " -> n" << id << ";\n";
    }
  }
  out << edges.str() << "}\n";
  return out.str();
}

template std::string to_dot(const BasicVariable<float>&);
template std::string to_dot(const BasicVariable<double>&);

}  // namespace xtgrad
