// Variable: the handle users hold for a value in the computation graph.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "xtgrad/core/node.hpp"

namespace xtgrad {

// Options of Variable::backward, C++17 style: `y.backward(BackwardOptions().set_create_graph(true))`,
// or set the public fields (`BackwardOptions o; o.retain_graph = true; y.backward(o);`).
struct BackwardOptions {
  // Keep closures and parents for another backward(); unset means create_graph's value.
  std::optional<bool> retain_graph = std::nullopt;
  // Record the backward pass itself as graph ops, so that the gradients left in the leaves
  // carry history (grad_variable()) and can be differentiated again.
  bool create_graph = false;

  BackwardOptions& set_retain_graph(bool v) { retain_graph = v; return *this; }
  BackwardOptions& set_create_graph(bool v) { create_graph = v; return *this; }
};

// Options of grad(), C++17 style: `grad({y}, {x}, GradOptions().set_create_graph(true))`
// (GradOptions is BasicGradOptions<float>; BasicGradOptions<double> for double), or the
// public fields. The setters return the options, so they chain.
template <class T>
struct BasicGradOptions {
  bool create_graph = false;          // the returned gradients are Variables with history
  std::optional<bool> retain_graph = std::nullopt;  // unset: create_graph's value (as in PyTorch)
  // An input the outputs do not depend on gets an undefined Variable (defined() false: PyTorch's
  // None), not an error. A used input whose gradient happens to be 0 gets zeros.
  bool allow_unused = false;
  // Upstream gradient of each output (same shapes); empty: every output has one element, seed 1.
  std::vector<TensorOf<T>> grad_outputs = {};
  // An unused input gets zeros of its shape instead of an undefined Variable (implies
  // allow_unused; PyTorch's materialize_grads): what Hessian and Jacobian code wants.
  bool materialize_grads = false;

  BasicGradOptions& set_create_graph(bool v) { create_graph = v; return *this; }
  BasicGradOptions& set_retain_graph(bool v) { retain_graph = v; return *this; }
  BasicGradOptions& set_allow_unused(bool v) { allow_unused = v; return *this; }
  BasicGradOptions& set_grad_outputs(std::vector<TensorOf<T>> v) { grad_outputs = std::move(v); return *this; }
  BasicGradOptions& set_materialize_grads(bool v) { materialize_grads = v; return *this; }
};

// Removes a hook it was returned for. Does not keep the variable alive; remove() on a handle
// whose variable is gone, or a second time, does nothing. Dropping the handle keeps the hook.
template <class T>
class BasicHookHandle {
 public:
  BasicHookHandle() = default;
  // Unregisters the hook: it will not run again, even later in a sweep already running.
  void remove();

 private:
  friend class BasicVariable<T>;
  BasicHookHandle(const NodePtrOf<T>& node, std::uint64_t id) : node_(node), id_(id) {}
  std::weak_ptr<BasicNode<T>> node_;
  std::uint64_t id_ = 0;
};

// A cheap handle over a shared graph node: copies alias the same node (value, grad and
// history), as a std::shared_ptr does. Parameters are leaves with requires_grad; inputs and
// labels are constants, and no gradient is ever computed for them. T is the scalar type
// (float or double); `Variable` names the default one.
template <class T>
class BasicVariable {
  static_assert(is_supported_scalar_v<T>, "xtgrad: BasicVariable<T> exists for float and double");

 public:
  using Scalar = T;
  using Tensor = TensorOf<T>;
  using Node = BasicNode<T>;
  using NodePtr = NodePtrOf<T>;

  // An empty handle; most operations on it throw std::logic_error.
  BasicVariable() = default;
  // A leaf holding `value`; a parameter if `requires_grad`.
  explicit BasicVariable(Tensor value, bool requires_grad = false);
  // A constant leaf with a single element.
  static BasicVariable scalar(Scalar value);
  // A leaf that requires grad, labelled `name` in graph exports.
  static BasicVariable parameter(Tensor value, std::string name = {});
  // Wraps an existing node (used by ops).
  explicit BasicVariable(NodePtr node) : node_(std::move(node)) {}

  // False for an empty handle.
  bool defined() const { return static_cast<bool>(node_); }
  // The forward value.
  const Tensor& value() const;
  // Mutable access for in-place updates (optimizers, initializers) outside the graph; bumps
  // version(), so a backward that needs the old value throws instead of using the new one.
  Tensor& mutable_value();
  // Shape of value().
  Shape shape() const;
  // Number of elements of value().
  std::size_t size() const;
  // Rank of value().
  std::size_t dim() const;
  // The single element of a one-element value; throws std::invalid_argument otherwise.
  Scalar item() const;

  // Whether backward() computes a gradient for this value.
  bool requires_grad() const;
  // Only leaves may change it (like PyTorch's requires_grad_).
  void set_requires_grad(bool requires_grad);
  // Whether a gradient has been accumulated since the last zero_grad().
  bool has_grad() const;
  // d(output)/d(this) accumulated by backward(); throws std::logic_error if none yet.
  const Tensor& grad() const;
  // Mutable access to grad(), e.g. to scale or average it before an optimizer step.
  Tensor& mutable_grad();
  // Forgets the accumulated gradient: the next backward() starts from zero.
  void zero_grad();

  // d(output)/d(this) as a Variable: with history after a create_graph backward() (so it can
  // be differentiated again), otherwise a constant copy of grad().
  BasicVariable grad_variable() const;

  // Reverse-mode sweep from this one-element output (seed 1). Gradients are added to every
  // leaf that requires grad; the graph is freed unless options.retain_graph. With
  // create_graph, a leaf's gradient keeps its history until zero_grad() (which also breaks
  // the reference cycle leaf → gradient graph → leaf, as in PyTorch).
  void backward(BackwardOptions options = {}) const;
  // Same, with an explicit upstream gradient of this value's shape (a Tensor: a template so
  // that a braced `{.retain_graph = true}` can only mean the options).
  template <class U, class = std::enable_if_t<std::is_same_v<U, Tensor>>>
  void backward(const U& upstream, BackwardOptions options = {}) const {
    backward_from(upstream, options);
  }

  // Calls `hook` with this value's complete gradient in every backward pass (before it is
  // passed on; for a leaf, once all of the pass's contributions are added, so it includes what
  // earlier passes accumulated). The hook returns an empty Variable to keep the gradient or a
  // Variable of the same shape to replace it. Hooks run in the order registered, in backward()
  // and in grad() alike (docs/autograd.md). The handle's remove() unregisters it.
  BasicHookHandle<T> register_hook(GradHookOf<T> hook);
  // An interior value keeps its gradient (grad(), has_grad()) as a leaf does; no-op on leaves.
  void retain_grad();
  // How many times the value was changed in place (mutable_value()). Ops that need an input's
  // value in backward record it, and backward throws if it changed in between.
  std::uint32_t version() const;

  // Runs hook(*this) each time a backward pass reaches this leaf with a gradient: every
  // contribution of that pass has then been added (a parameter used several times has had all
  // of them), so grad() is final for the pass. It fires once per leaf per backward(), in the
  // reverse sweep, while the pass goes on to other leaves: data-parallel training starts
  // reducing a gradient there, overlapped with the rest of backward (distributed/). Hooks run
  // in registration order; an exception from one propagates out of backward(). Throws
  // std::logic_error unless this is a leaf that requires grad. (PyTorch's name.)
  BasicHookHandle<T> register_post_accumulate_grad_hook(PostAccumulateGradHookOf<T> hook);

  // A constant sharing no history: same value (copied), requires_grad false.
  BasicVariable detach() const;

  // Rows start … stop − 1 along the first axis, Python rules (negative counts from the end, both
  // clamped): x[start:stop] in PyTorch, a differentiable op (its gradient goes back to those
  // rows). The same as rows(x, start, stop) of ops/shape_ops.hpp, which defines it.
  BasicVariable rows(std::int64_t start, std::int64_t stop) const;

  // Name of the op that produced this value ("leaf" for leaves and constants).
  const char* op() const;
  // Label shown by to_dot (empty unless set).
  const std::string& name() const;
  // Sets that label.
  void set_name(std::string name);
  // The shared graph node (for ops and the engine).
  const NodePtr& node() const { return node_; }

 private:
  Node& checked_node(const char* what) const;
  void backward_from(const Tensor& upstream, BackwardOptions options) const;
  NodePtr node_;
};


// Gradients of `outputs` (one-element each, or seeded with options.grad_outputs) with respect
// to `inputs`, returned (one per input, shaped like it) instead of accumulated into .grad:
// PyTorch's torch.autograd.grad. With create_graph they carry history. An input that does not
// require grad is an error; one the outputs do not depend on is an error unless allow_unused
// (then an undefined Variable, as PyTorch's None: test with defined()) or materialize_grads
// (then zeros). Gradient hooks of the values on the way run, as in backward().
// Throws std::invalid_argument naming the output or input.
// Declared for each precision (not a template), so that braced lists deduce: grad({y}, {x}).
std::vector<BasicVariable<float>> grad(const std::vector<BasicVariable<float>>& outputs,
                                       const std::vector<BasicVariable<float>>& inputs,
                                       BasicGradOptions<float> options = {});
std::vector<BasicVariable<double>> grad(const std::vector<BasicVariable<double>>& outputs,
                                        const std::vector<BasicVariable<double>>& inputs,
                                        BasicGradOptions<double> options = {});

// A parameter with its dotted name (`fc1.weight`): what modules give and regularizers take.
template <class T>
using NamedParameterOf = std::pair<std::string, BasicVariable<T>>;
template <class T>
using NamedParametersOf = std::vector<NamedParameterOf<T>>;

// Builds an op's result: records `inputs` as parents and `backward` as the closure only when
// grad mode is on and some input requires grad; otherwise returns a constant. T comes from the
// inputs: `make_result("exp", std::move(y), {x}, [](BasicNode<T>& self) { ... })`.
template <class T>
BasicVariable<T> make_result(const char* op, NonDeduced<TensorOf<T>> value, std::initializer_list<BasicVariable<T>> inputs,
                             NonDeduced<BasicBackwardFn<T>> backward);
// Same, for an op with any number of inputs (concat, stack).
template <class T>
BasicVariable<T> make_result(const char* op, NonDeduced<TensorOf<T>> value, const std::vector<BasicVariable<T>>& inputs,
                             NonDeduced<BasicBackwardFn<T>> backward);

}  // namespace xtgrad
