// The reverse-mode engine: topological order by an explicit stack, then one sweep in
// reverse, so each node's gradient is complete before it is passed on, exactly once.
#include <algorithm>
#include <atomic>
#include <stdexcept>
#include <utility>

#include "xtgrad/core/buffer_cache.hpp"

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

std::atomic<std::uint64_t> g_sweeps{0};

// Working memory of one sweep, kept per thread so that repeated backward() calls reuse its
// capacity. A backward() started from inside a closure gets fresh vectors instead.
struct SweepScratch {
  std::vector<NodePtr> order;
  std::vector<std::pair<Node*, std::size_t>> stack;  // (node, index of next parent)
  bool in_use = false;
};
thread_local SweepScratch t_scratch;

// Nodes that require grad and are reachable from root, every parent before its children
// (iterative post-order DFS), into `order`. A node is visited once per sweep: its visit_mark
// is set to this sweep's number. Holding NodePtrs keeps them alive through the sweep.
void topological_order(const NodePtr& root, SweepScratch& s) {
  const std::uint64_t sweep = g_sweeps.fetch_add(1, std::memory_order_relaxed) + 1;
  s.order.clear();
  s.stack.clear();
  root->visit_mark = sweep;
  s.stack.emplace_back(root.get(), 0);
  while (!s.stack.empty()) {
    Node& node = *s.stack.back().first;
    if (node.released) throw_released(node);
    std::size_t& next = s.stack.back().second;
    if (next < node.parents.size()) {
      Node& parent = *node.parents[next++];
      if (parent.requires_grad && parent.visit_mark != sweep) {
        parent.visit_mark = sweep;
        s.stack.emplace_back(&parent, 0);
      }
      continue;
    }
    s.stack.pop_back();
    // The node's NodePtr: its child (the node below on the stack) holds it as a parent.
    s.order.push_back(s.stack.empty() ? root : s.stack.back().first->parents[s.stack.back().second - 1]);
  }
}

// The leaf's gradient is final for this sweep: run its hooks. They run from a copy of the list,
// so a hook may register or remove hooks (its own included) while they fire.
void run_post_accumulate_grad_hooks(const NodePtr& leaf) {
  const std::vector<std::shared_ptr<LeafHook>> hooks = leaf->post_accumulate_grad_hooks;
  const Variable v(leaf);
  for (const auto& hook : hooks) {
    if (!hook->removed) hook->fn(v);
  }
}

void run_sweep(const NodePtr& root, Tensor&& seed, const BackwardOptions& options, SweepScratch& s) {
  topological_order(root, s);
  accumulate_grad(*root, std::move(seed), "backward");
  for (auto it = s.order.rbegin(); it != s.order.rend(); ++it) {
    Node& node = **it;
    if (!node.backward_fn) {
      // A leaf: its gradient stays. Every consumer comes before it in this order, so it is final.
      if (node.has_grad && !node.post_accumulate_grad_hooks.empty()) run_post_accumulate_grad_hooks(*it);
      continue;
    }
    if (node.has_grad) node.backward_fn(node);
    // Interior gradients are consumed: recycle them (a retained graph starts clean next time).
    recycle(node.grad);
    node.has_grad = false;
  }
  if (!options.retain_graph) {
    for (const NodePtr& n : s.order) {
      if (!n->backward_fn) continue;
      n->backward_fn = nullptr;
      n->parents.clear();
      n->released = true;
    }
  }
}

void run_backward(const NodePtr& root, Tensor&& seed, const BackwardOptions& options) {
  if (!root->requires_grad) {
    throw std::invalid_argument(std::string("backward: the output (op '") + root->op +
                                "') does not require grad: no parameter contributed to it, or "
                                "it was computed under NoGrad");
  }
  SweepScratch local;
  SweepScratch& s = t_scratch.in_use ? local : t_scratch;
  s.in_use = true;
  try {
    run_sweep(root, std::move(seed), options, s);
  } catch (...) {
    s.order.clear();
    s.in_use = false;
    throw;
  }
  s.order.clear();  // drops the references that kept the graph alive
  s.in_use = false;
}

}  // namespace

void Variable::backward(BackwardOptions options) const {
  const Node& n = checked_node("backward");
  if (n.value.size() != 1) {
    throw std::invalid_argument("backward: an implicit gradient needs a one-element output, got shape " +
                                shape_str(n.value) + "; pass the upstream gradient explicitly");
  }
  Tensor seed = empty_like(n.value);
  seed.data()[0] = Scalar(1);
  run_backward(node_, std::move(seed), options);
}

void Variable::backward(const Tensor& upstream, BackwardOptions options) const {
  const Node& n = checked_node("backward");
  if (shape_of(upstream) != shape_of(n.value)) {
    throw std::invalid_argument("backward: upstream gradient has shape " + shape_str(upstream) +
                                " but the output has shape " + shape_str(n.value));
  }
  Tensor seed = empty_like(upstream);
  std::copy(upstream.data(), upstream.data() + upstream.size(), seed.data());
  run_backward(node_, std::move(seed), options);
}

}  // namespace XTGRAD_ABI
}  // namespace xtgrad
