// A node of the computation graph: a value, its gradient, and how to pass the gradient on.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "xtgrad/core/backward_fn.hpp"
#include "xtgrad/core/tensor.hpp"

namespace xtgrad {

template <class T>
struct BasicNode;
template <class T>
class BasicVariable;
template <class T>
using NodePtrOf = std::shared_ptr<BasicNode<T>>;

// Called with a leaf when a backward pass has added its last contribution to the leaf's
// gradient (Variable::register_post_accumulate_grad_hook).
template <class T>
using PostAccumulateGradHookOf = std::function<void(const BasicVariable<T>& leaf)>;
template <class T>
struct LeafHook {
  std::uint64_t id;
  PostAccumulateGradHookOf<T> fn;
  bool removed = false;  // set by HookHandle::remove(), which may run while the hooks fire
};

// A node's inputs, in recycled small blocks like the node itself.
template <class T>
using NodeListOf = std::vector<NodePtrOf<T>, SmallBlockAllocator<NodePtrOf<T>>>;

// A node's BackwardFn (backward_fn.hpp) reads `self.grad` (complete when called) and adds
// each parent's share through `self.add_to_parent`. It captures evaluated tensors (as
// SavedTensor) or shapes by value, never a node. In a create_graph sweep the gradient is
// `self.grad_node` instead (a Variable's node, with history) and the closure adds Variables
// (`add_variable_to_parent`, core/accumulate.hpp); `self.grad_node` is null otherwise.

// A gradient hook (Variable::register_hook): gets the complete gradient of a value and
// returns an empty Variable to keep it, or a Variable of the same shape to replace it.
template <class T>
using GradHookOf = std::function<BasicVariable<T>(const BasicVariable<T>& grad)>;

// A registered gradient hook; the id lets its HookHandle find and remove it.
template <class T>
struct GradHookEntry {
  std::uint64_t id;
  GradHookOf<T> fn;
  bool removed = false;  // set by HookHandle::remove(), which may run while the hooks fire
};

// A fresh id for a hook (gradient or post-accumulate), unique in the process.
std::uint64_t next_hook_id();

// What few nodes need, kept out of line so that a Node stays small: hooks, retain_grad().
template <class T>
struct NodeExtras {
  std::vector<std::shared_ptr<GradHookEntry<T>>> hooks;  // in registration order
  bool retains_grad = false;  // an interior value keeps its gradient (retain_grad())
  bool has_retained = false;
  TensorOf<T> retained = TensorOf<T>::from_shape({0});  // accumulated over backward passes until zero_grad
  NodePtrOf<T> retained_node;                     // its history, after a create_graph pass
};

// Parents whose version is recorded for the in-place check (all of every op in ops/).
constexpr std::size_t kCheckedParents = 4;

template <class T>
struct BasicNode : std::enable_shared_from_this<BasicNode<T>> {
  using Scalar = T;
  TensorOf<T> value = TensorOf<T>::from_shape({0});
  TensorOf<T> grad = TensorOf<T>::from_shape({0});  // storage kept between backward passes; valid while has_grad
  bool has_grad = false;
  bool requires_grad = false;
  bool released = false;       // backward already freed this node's closure and parents
  bool recycle_value = false;  // the value is an op's output (or Variable::scalar's), not a tensor the user gave
  std::uint64_t visit_mark = 0;  // the last backward sweep that reached this node
  const char* op = "leaf";     // a string literal: the op that made this node
  std::string name;            // optional label (parameters), shown by to_dot
  NodeListOf<T> parents;
  BasicBackwardFn<T> backward_fn;      // empty for leaves and constants
  NodePtrOf<T> grad_node;           // the gradient with history (create_graph); see above
  std::uint32_t version = 0;   // bumped by every in-place write to `value` (mutable_value)
  // parents[i]'s version when this node was recorded (i < kCheckedParents).
  std::array<std::uint32_t, kCheckedParents> saved_versions{};
  std::unique_ptr<NodeExtras<T>> extras;  // null unless hooks or retain_grad were asked for
  std::vector<std::shared_ptr<LeafHook<T>>> post_accumulate_grad_hooks;  // leaves only, in registration order

  BasicNode() = default;
  BasicNode(const BasicNode&) = delete;
  BasicNode& operator=(const BasicNode&) = delete;
  // Frees the ancestors it alone owns through a worklist: no recursion, so a chain of any
  // length is destroyed without growing the stack. The gradient's storage, and the value's
  // if an op computed it, go to the buffer cache (buffer_cache.hpp); a value the user gave
  // (a parameter, a data set) is freed, so the cache holds only per-step temporaries.
  ~BasicNode();

  // A parameter or constant: no backward closure, and not an interior node already released.
  bool is_leaf() const { return !backward_fn && !released; }
  // Value of input i, for backward closures. Throws std::logic_error naming the op and the
  // input if that value was changed in place since this node was recorded.
  const TensorOf<T>& parent_value(std::size_t i) const {
    if (i < kCheckedParents && parents[i]->version != saved_versions[i]) throw_modified(i);
    return parents[i]->value;
  }
  // This node's own value, with the same check (an op's output has version 0 when recorded).
  const TensorOf<T>& output_value() const {
    if (version != 0) throw_modified(kCheckedParents);
    return value;
  }
  // Whether input i needs a gradient (a closure may skip computing its share).
  bool parent_requires_grad(std::size_t i) const { return parents[i]->requires_grad; }
  // parents[i].grad += sum_to(contribution, parents[i].value.shape); a no-op if the parent
  // needs no gradient. Throws std::logic_error naming `op` if the shapes cannot broadcast.
  void add_to_parent(std::size_t i, TensorOf<T>&& contribution) const;
  // The error parent_value / output_value throw (i == kCheckedParents: the output itself).
  [[noreturn]] void throw_modified(std::size_t i) const;
};

// A new node from the recycled small blocks (small_blocks.hpp).
template <class T>
NodePtrOf<T> make_node();

// target.grad += contribution, reduced over broadcast dimensions to target's shape: the one
// place where broadcasting is undone. `op` names the op that produced the contribution.
template <class T>
void accumulate_grad(BasicNode<T>& target, TensorOf<T>&& contribution, const char* op);

// Sums `t` down to `shape` (numpy broadcasting in reverse): leading extra axes are summed
// away, axes where `shape` has 1 and `t` does not are summed with keepdims.
template <class T>
TensorOf<T> sum_to(const TensorOf<T>& t, const Shape& shape);

}  // namespace xtgrad
