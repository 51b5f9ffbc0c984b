// The reverse-mode engine: topological order by an explicit stack, then one sweep in
// reverse, so each node's gradient is complete before it is passed on, exactly once.
//
// Two kinds of sweep share this loop. The default one moves Tensors (node.grad) and records
// nothing. A create_graph sweep moves Variables (node.grad_node): each closure then builds its
// gradient from differentiable ops, so the gradients have history and can be differentiated
// again. grad() runs either kind, but returns the inputs' gradients instead of leaving them in
// the leaves.
#include <algorithm>
#include <atomic>
#include <stdexcept>
#include <utility>

#include "xtgrad/core/accumulate.hpp"
#include "xtgrad/core/broadcast.hpp"
#include "xtgrad/core/buffer_cache.hpp"
#include "xtgrad/core/variable.hpp"
#include "xtgrad/core/xt.hpp"

namespace xtgrad {
namespace {

std::atomic<std::uint64_t> g_sweeps{0};

// The engine for one precision: the sweep and its helpers over BasicNode<Scalar>.
template <class Scalar>
struct Engine {
  using Tensor = TensorOf<Scalar>;
  using Node = BasicNode<Scalar>;
  using NodePtr = NodePtrOf<Scalar>;
  using Variable = BasicVariable<Scalar>;

  [[noreturn]] static void throw_released(const Node& n) {
    throw std::logic_error(std::string("backward: the graph through '") + n.op +
                           "' was freed by an earlier backward(); pass retain_graph = true to the "
                           "first call to run backward twice");
  }

  // A leaf's gradient state, put aside while grad() runs so that .grad is left as it was.
  struct Stashed {
    Node* node;
    Tensor grad;
    bool has_grad;
    NodePtr grad_node;
  };

  // Working memory of one sweep, kept per thread so that repeated backward() calls reuse its
  // capacity. A backward() started from inside a closure gets fresh vectors instead.
  struct SweepScratch {
    std::vector<NodePtr> order;
    std::vector<std::pair<Node*, std::size_t>> stack;  // (node, index of next parent)
    std::vector<Stashed> stash;                         // grad() only
    bool in_use = false;
  };
  // This thread's scratch (a function-local thread_local: see thread_cache in buffer_cache.cpp).
  static SweepScratch& thread_scratch() {
    thread_local SweepScratch scratch;
    return scratch;
  }

  // Nodes that require grad and are reachable from the roots, every parent before its children
  // (iterative post-order DFS), into `order`. A node is visited once per sweep: its visit_mark
  // is set to this sweep's number. Holding NodePtrs keeps them alive through the sweep.
  static void topological_order(const NodePtr* roots, std::size_t count, SweepScratch& s) {
    const std::uint64_t sweep = g_sweeps.fetch_add(1, std::memory_order_relaxed) + 1;
    s.order.clear();
    s.stack.clear();
    for (std::size_t r = 0; r < count; ++r) {
      const NodePtr& root = roots[r];
      if (root->visit_mark == sweep) continue;
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
  }

  // The leaf's gradient is final for this sweep: run its hooks. They run from a copy of the list,
  // so a hook may register or remove hooks (its own included) while they fire.
  static void run_post_accumulate_grad_hooks(const NodePtr& leaf) {
    const std::vector<std::shared_ptr<LeafHook<Scalar>>> hooks = leaf->post_accumulate_grad_hooks;
    const Variable v(leaf);
    for (const auto& hook : hooks) {
      if (!hook->removed) hook->fn(v);
    }
  }

  // Runs the node's hooks on its complete gradient (a Tensor, or a Variable in a create_graph
  // sweep); a hook's non-empty result replaces it.
  // They run from a copy of the list, so a hook may remove hooks (its own included) as they fire.
  static void run_hooks(Node& node) {
    const std::vector<std::shared_ptr<GradHookEntry<Scalar>>> hooks = node.extras->hooks;
    for (const auto& hook : hooks) {
      if (hook->removed) continue;
      const Variable g = node.grad_node ? Variable(node.grad_node) : Variable(Tensor(node.grad), false);
      const Variable r = hook->fn(g);
      if (!r.defined()) continue;
      if (!shapes_equal(r.value().shape(), node.value.shape())) {
        throw std::invalid_argument("gradient hook on a value of shape " + shape_str(node.value) +
                                    " (op '" + node.op + "') returned a gradient of shape " + shape_str(r.value()));
      }
      if (node.grad_node) {
        node.grad_node = r.node();
      } else {
        std::copy(r.value().data(), r.value().data() + r.size(), node.grad.data());
      }
    }
  }

  // retain_grad(): the interior node's gradient of this pass is added to what it keeps.
  static void retain(Node& node) {
    NodeExtras<Scalar>& e = *node.extras;
    if (node.grad_node) {
      const Tensor& v = node.grad_node->value;
      if (!e.has_retained) {
        e.retained_node = node.grad_node;
      } else if (e.retained_node) {  // (no history if an earlier pass had none)
        e.retained_node = grad_sum(Variable(e.retained_node), Variable(node.grad_node)).node();
      }
      if (e.has_retained) {
        xt::noalias(e.retained) += v;
      } else {
        e.retained = v;
      }
    } else if (e.has_retained) {
      e.retained_node.reset();
      xt::noalias(e.retained) += node.grad;
    } else {
      e.retained = node.grad;
    }
    e.has_retained = true;
  }

  // What grad() asks of a sweep: the inputs whose gradients it returns, and where.
  struct Capture {
    const std::vector<Variable>* inputs;
    std::vector<Variable>* results;  // one per input; undefined until found
  };

  // Puts the input's current gradient into the results, if `node` is one of the inputs. The
  // node is in the sweep (the outputs depend on it), so without a gradient it gets zeros: only
  // an input outside the graph stays undefined (grad()'s allow_unused).
  static void capture_if_input(const Node& node, const Capture& c) {
    for (std::size_t i = 0; i < c.inputs->size(); ++i) {
      if ((*c.inputs)[i].node().get() != &node) continue;
      if (node.grad_node) {
        (*c.results)[i] = Variable(node.grad_node);
      } else if (node.has_grad) {
        (*c.results)[i] = Variable(Tensor(node.grad), false);
      } else {
        Tensor zeros = Tensor::from_shape(node.value.shape());
        zeros.fill(0);
        (*c.results)[i] = Variable(std::move(zeros), false);
      }
    }
  }

  static void run_sweep(const NodePtr* roots, Tensor* seeds, std::size_t count, bool create_graph, bool retain_graph,
                 const Capture* capture, SweepScratch& s) {
    topological_order(roots, count, s);
    if (capture) {
      // grad() leaves .grad alone: every leaf starts empty and gets its old state back after.
      for (const NodePtr& n : s.order) {
        if (n->backward_fn) continue;
        s.stash.push_back({n.get(), std::move(n->grad), n->has_grad, std::move(n->grad_node)});
        n->grad = Tensor::from_shape({0});
        n->has_grad = false;
        n->grad_node.reset();
      }
    }
    for (std::size_t r = 0; r < count; ++r) {
      if (create_graph) {
        accumulate_variable(*roots[r], Variable(std::move(seeds[r]), false));
      } else {
        accumulate_grad(*roots[r], std::move(seeds[r]), "backward");
      }
    }
    for (auto it = s.order.rbegin(); it != s.order.rend(); ++it) {
      Node& node = **it;
      const bool has = node.grad_node || (node.has_grad && !create_graph);
      if (has && node.extras && !node.extras->hooks.empty()) run_hooks(node);
      if (!node.backward_fn) {  // a leaf: its gradient stays
        if (create_graph && node.grad_node) {
          // the tensor gradient follows the Variable that now carries it
          const Tensor& v = node.grad_node->value;
          shape_grad_storage(node);
          std::copy(v.data(), v.data() + v.size(), node.grad.data());
          node.has_grad = true;
        } else if (!create_graph && node.grad_node) {
          node.grad_node.reset();  // the tensor changed: that history no longer describes it
        }
        // Every consumer comes before the leaf in this order, so its gradient is final.
        if (node.has_grad && !node.post_accumulate_grad_hooks.empty()) run_post_accumulate_grad_hooks(*it);
        continue;
      }
      if (capture) capture_if_input(node, *capture);
      if (has) {
        if (!capture && node.extras && node.extras->retains_grad) retain(node);
        node.backward_fn(node);
      }
      // Interior gradients are consumed: recycle them (a retained graph starts clean next time).
      recycle(node.grad);
      node.has_grad = false;
      node.grad_node.reset();
    }
    if (capture) {
      for (Stashed& st : s.stash) capture_if_input(*st.node, *capture);
      for (Stashed& st : s.stash) {
        recycle(st.node->grad);
        st.node->grad = std::move(st.grad);
        st.node->has_grad = st.has_grad;
        st.node->grad_node = std::move(st.grad_node);
      }
      s.stash.clear();
    }
    if (!retain_graph) {
      for (const NodePtr& n : s.order) {
        if (!n->backward_fn) continue;
        n->backward_fn = nullptr;
        n->parents.clear();
        n->released = true;
      }
    }
  }

  // Seeds roots[r] with seeds[r] (moved from) and runs one sweep.
  static void run_backward(const NodePtr* roots, Tensor* seeds, std::size_t count, bool create_graph, bool retain_graph,
                    const Capture* capture) {
    SweepScratch local;
    SweepScratch& mine = thread_scratch();
    SweepScratch& s = mine.in_use ? local : mine;
    s.in_use = true;
    try {
      run_sweep(roots, seeds, count, create_graph, retain_graph, capture, s);
    } catch (...) {
      // Interior gradients of the failed sweep are never consumed: drop them, so a retained graph
      // starts clean and a create_graph gradient (whose history points back at the graph) leaves
      // no reference cycle behind.
      for (const NodePtr& n : s.order) {
        if (!n->backward_fn) continue;
        n->grad_node.reset();
        n->has_grad = false;
      }
      for (Stashed& st : s.stash) {  // grad() failed: give the leaves their gradients back
        st.node->grad = std::move(st.grad);
        st.node->has_grad = st.has_grad;
        st.node->grad_node = std::move(st.grad_node);
      }
      s.stash.clear();
      s.order.clear();
      s.in_use = false;
      throw;
    }
    s.order.clear();  // drops the references that kept the graph alive
    s.in_use = false;
  }

  static void check_requires_grad(const Node& root) {
    if (!root.requires_grad) {
      throw std::invalid_argument(std::string("backward: the output (op '") + root.op +
                                  "') does not require grad: no parameter contributed to it, or "
                                  "it was computed under NoGrad");
    }
  }

  // The seed 1 of a one-element output, or an error naming `who`.
  static Tensor unit_seed(const Node& n, const std::string& who) {
    if (n.value.size() != 1) {
      throw std::invalid_argument(who + ": an implicit gradient needs a one-element output, got shape " +
                                  shape_str(n.value) + "; pass the upstream gradient explicitly");
    }
    Tensor seed = empty_like(n.value);
    seed.data()[0] = Scalar(1);
    return seed;
  }
};

}  // namespace

template <class T>
void BasicVariable<T>::backward(BackwardOptions options) const {
  using E = Engine<T>;
  const Node& n = checked_node("backward");
  Tensor seed = E::unit_seed(n, "backward");
  E::check_requires_grad(n);
  E::run_backward(&node_, &seed, 1, options.create_graph, options.retain_graph.value_or(options.create_graph), nullptr);
}

template <class T>
void BasicVariable<T>::backward_from(const Tensor& upstream, BackwardOptions options) const {
  using E = Engine<T>;
  const Node& n = checked_node("backward");
  if (shape_of(upstream) != shape_of(n.value)) {
    throw std::invalid_argument("backward: upstream gradient has shape " + shape_str(upstream) +
                                " but the output has shape " + shape_str(n.value));
  }
  E::check_requires_grad(n);
  Tensor seed = empty_like(upstream);
  std::copy(upstream.data(), upstream.data() + upstream.size(), seed.data());
  E::run_backward(&node_, &seed, 1, options.create_graph, options.retain_graph.value_or(options.create_graph), nullptr);
}

namespace {

template <class Scalar>
std::vector<BasicVariable<Scalar>> grad_of(const std::vector<BasicVariable<Scalar>>& outputs,
                                           const std::vector<BasicVariable<Scalar>>& inputs,
                                           BasicGradOptions<Scalar> options) {
  using E = Engine<Scalar>;
  using Tensor = TensorOf<Scalar>;
  using Node = BasicNode<Scalar>;
  using Variable = BasicVariable<Scalar>;
  if (outputs.empty()) throw std::invalid_argument("grad: no outputs given");
  if (!options.grad_outputs.empty() && options.grad_outputs.size() != outputs.size()) {
    throw std::invalid_argument("grad: " + std::to_string(options.grad_outputs.size()) + " grad_outputs for " +
                                std::to_string(outputs.size()) + " outputs");
  }
  std::vector<NodePtrOf<Scalar>> roots;
  std::vector<Tensor> seeds;
  for (std::size_t k = 0; k < outputs.size(); ++k) {
    const std::string who = "grad: output " + std::to_string(k);
    if (!outputs[k].defined()) throw std::invalid_argument(who + " is an empty Variable");
    const Node& n = *outputs[k].node();
    if (!n.requires_grad) {
      throw std::invalid_argument(who + " (op '" + n.op + "', shape " + shape_str(n.value) +
                                  ") does not require grad: no input contributed to it, or it was computed "
                                  "under NoGrad");
    }
    if (options.grad_outputs.empty()) {
      seeds.push_back(E::unit_seed(n, who));
    } else {
      const Tensor& up = options.grad_outputs[k];
      if (!shapes_equal(up.shape(), n.value.shape())) {
        throw std::invalid_argument(who + " has shape " + shape_str(n.value) + " but its grad_output has shape " +
                                    shape_str(up));
      }
      seeds.push_back(up);
    }
    roots.push_back(outputs[k].node());
  }
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    if (!inputs[i].defined()) throw std::invalid_argument("grad: input " + std::to_string(i) + " is an empty Variable");
    if (!inputs[i].requires_grad()) {
      throw std::invalid_argument("grad: input " + std::to_string(i) + " (shape " + shape_str(inputs[i].value()) +
                                  ") does not require grad");
    }
  }
  std::vector<Variable> results(inputs.size());
  const typename E::Capture capture{&inputs, &results};
  E::run_backward(roots.data(), seeds.data(), roots.size(), options.create_graph,
               options.retain_graph.value_or(options.create_graph), &capture);
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    if (results[i].defined()) continue;
    if (!options.allow_unused && !options.materialize_grads) {
      throw std::invalid_argument("grad: the outputs do not depend on input " + std::to_string(i) + " (shape " +
                                  shape_str(inputs[i].value()) +
                                  "); pass allow_unused = true to get an undefined Variable, materialize_grads = "
                                  "true to get zeros");
    }
    if (!options.materialize_grads) continue;  // undefined: PyTorch's None
    Tensor zeros = Tensor::from_shape(inputs[i].value().shape());
    zeros.fill(0);
    results[i] = Variable(std::move(zeros), false);
  }
  return results;
}

}  // namespace

std::vector<BasicVariable<float>> grad(const std::vector<BasicVariable<float>>& outputs,
                                       const std::vector<BasicVariable<float>>& inputs,
                                       BasicGradOptions<float> options) {
  return grad_of(outputs, inputs, std::move(options));
}

std::vector<BasicVariable<double>> grad(const std::vector<BasicVariable<double>>& outputs,
                                        const std::vector<BasicVariable<double>>& inputs,
                                        BasicGradOptions<double> options) {
  return grad_of(outputs, inputs, std::move(options));
}

template void BasicVariable<float>::backward(BackwardOptions) const;
template void BasicVariable<double>::backward(BackwardOptions) const;
template void BasicVariable<float>::backward_from(const TensorOf<float>&, BackwardOptions) const;
template void BasicVariable<double>::backward_from(const TensorOf<double>&, BackwardOptions) const;

}  // namespace xtgrad
