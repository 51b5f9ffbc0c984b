// The reverse-mode engine: topological order by an explicit stack, then one sweep in
// reverse, so each node's gradient is complete before it is passed on, exactly once.
#include <stdexcept>
#include <unordered_set>
#include <utility>

#include "xtgrad/core/variable.hpp"
#include "xtgrad/core/xt.hpp"

namespace xtgrad {
inline namespace XTGRAD_ABI {
namespace {

[[noreturn]] void throw_released(const Node& n) {
  throw std::logic_error(std::string("backward: the graph through '") + n.op +
                         "' was freed by an earlier backward(); pass retain_graph = true to the "
                         "first call to run backward twice");
}

// Nodes that require grad and are reachable from root, every parent before its children
// (iterative post-order DFS). Holding NodePtrs keeps them alive through the sweep.
std::vector<NodePtr> topological_order(const NodePtr& root) {
  std::vector<NodePtr> order;
  std::unordered_set<const Node*> visited;
  std::vector<std::pair<NodePtr, std::size_t>> stack;  // (node, index of next parent)
  visited.insert(root.get());
  stack.emplace_back(root, 0);
  while (!stack.empty()) {
    Node& node = *stack.back().first;
    if (node.released) throw_released(node);
    std::size_t& next = stack.back().second;
    if (next < node.parents.size()) {
      const NodePtr& parent = node.parents[next++];
      if (parent->requires_grad && visited.insert(parent.get()).second) stack.emplace_back(parent, 0);
      continue;
    }
    order.push_back(std::move(stack.back().first));
    stack.pop_back();
  }
  return order;
}

void run_backward(const NodePtr& root, Tensor seed, const BackwardOptions& options) {
  if (!root->requires_grad) {
    throw std::invalid_argument(std::string("backward: the output (op '") + root->op +
                                "') does not require grad: no parameter contributed to it, or "
                                "it was computed under NoGrad");
  }
  std::vector<NodePtr> order = topological_order(root);
  accumulate_grad(*root, std::move(seed), "backward");
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    Node& node = **it;
    if (!node.backward_fn) continue;  // a leaf: its gradient stays
    if (node.has_grad) node.backward_fn(node);
    // Interior gradients are consumed: free them (a retained graph starts clean next time).
    node.grad = Tensor();
    node.has_grad = false;
  }
  if (!options.retain_graph) {
    for (const NodePtr& n : order) {
      if (!n->backward_fn) continue;
      n->backward_fn = nullptr;
      n->parents.clear();
      n->released = true;
    }
  }
}

}  // namespace

void Variable::backward(BackwardOptions options) const {
  const Node& n = checked_node("backward");
  if (n.value.size() != 1) {
    throw std::invalid_argument("backward: an implicit gradient needs a one-element output, got shape " +
                                shape_str(n.value) + "; pass the upstream gradient explicitly");
  }
  run_backward(node_, xt::ones_like(n.value), options);
}

void Variable::backward(const Tensor& upstream, BackwardOptions options) const {
  const Node& n = checked_node("backward");
  if (shape_of(upstream) != shape_of(n.value)) {
    throw std::invalid_argument("backward: upstream gradient has shape " + shape_str(upstream) +
                                " but the output has shape " + shape_str(n.value));
  }
  run_backward(node_, upstream, options);
}

}  // namespace XTGRAD_ABI
}  // namespace xtgrad
