// Variable: the handle users hold for a value in the computation graph.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "xtgrad/core/node.hpp"

namespace xtgrad {
inline namespace XTGRAD_ABI {

struct BackwardOptions {
  bool retain_graph = false;  // keep closures and parents for another backward()
};

// A cheap handle over a shared graph node: copies alias the same node (value, grad and
// history), as a std::shared_ptr does. Parameters are leaves with requires_grad; inputs and
// labels are constants, and no gradient is ever computed for them.
class Variable {
 public:
  // An empty handle; most operations on it throw std::logic_error.
  Variable() = default;
  // A leaf holding `value`; a parameter if `requires_grad`.
  explicit Variable(Tensor value, bool requires_grad = false);
  // A constant leaf with a single element.
  static Variable scalar(Scalar value);
  // A leaf that requires grad, labelled `name` in graph exports.
  static Variable parameter(Tensor value, std::string name = {});
  // Wraps an existing node (used by ops).
  explicit Variable(NodePtr node) : node_(std::move(node)) {}

  // False for an empty handle.
  bool defined() const { return static_cast<bool>(node_); }
  // The forward value.
  const Tensor& value() const;
  // Mutable access for in-place updates (optimizers, initializers) outside the graph.
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

  // Reverse-mode sweep from this one-element output (seed 1). Gradients are added to every
  // leaf that requires grad; the graph is freed unless options.retain_graph.
  void backward(BackwardOptions options = {}) const;
  // Same, with an explicit upstream gradient of this value's shape.
  void backward(const Tensor& upstream, BackwardOptions options = {}) const;

  // A constant sharing no history: same value (copied), requires_grad false.
  Variable detach() const;

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
  NodePtr node_;
};

// A parameter with its dotted name (`fc1.weight`): what modules give and regularizers take.
using NamedParameter = std::pair<std::string, Variable>;
using NamedParameters = std::vector<NamedParameter>;

// Builds an op's result: records `inputs` as parents and `backward` as the closure only when
// grad mode is on and some input requires grad; otherwise returns a constant.
Variable make_result(const char* op, Tensor value, std::initializer_list<Variable> inputs,
                     BackwardFn backward);
// Same, for an op with any number of inputs (concat, stack).
Variable make_result(const char* op, Tensor value, const std::vector<Variable>& inputs, BackwardFn backward);

}  // namespace XTGRAD_ABI
}  // namespace xtgrad
