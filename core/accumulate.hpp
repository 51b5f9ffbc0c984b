// Evaluating ops' results into recycled buffers, and writing a gradient straight into a
// parent's buffer when no broadcasting is involved, so gradient storage is reused step after
// step instead of reallocated. Internal to the ops' sources (it pulls in xtensor's expression
// headers).
#pragma once

#include <algorithm>
#include <type_traits>

#include "xtgrad/core/buffer_cache.hpp"
#include "xtgrad/core/node.hpp"
#include "xtgrad/core/variable.hpp"
#include "xtgrad/core/xt.hpp"

namespace xtgrad {

// Whether two shapes (any containers of extents) are equal.
template <class A, class B>
bool shapes_equal(const A& a, const B& b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin());
}

// `expr` evaluated into a tensor from the buffer cache.
template <class E>
TensorOf<typename E::value_type> evaluate(const E& expr) {
  TensorOf<typename E::value_type> out = empty_tensor<typename E::value_type>(expr.shape());
  xt::noalias(out) = expr;
  return out;
}

// Makes p.grad a buffer of p.value's shape (contents unspecified), reusing the one it has.
template <class T>
void shape_grad_storage(BasicNode<T>& p) {
  if (!shapes_equal(p.grad.shape(), p.value.shape())) {
    recycle(p.grad);
    p.grad = empty_like(p.value);
  }
}

// The error a first-order closure raises when a create_graph sweep reaches it (self.grad_node is
// set): std::logic_error naming self.op. add_expr_to_parent, grad_target and Node::add_to_parent
// check, so an op not written with the runners below can never give a silently wrong or
// missing second derivative.
[[noreturn]] void throw_first_order_only(const char* op);
template <class T>
[[noreturn]] void throw_first_order_only(const BasicNode<T>& self) {
  throw_first_order_only(self.op);
}

// parents[i].grad += expr, evaluated in place when expr already has the parent's shape;
// otherwise through accumulate_grad (which reduces broadcast axes).
template <class T, class E>
void add_expr_to_parent(BasicNode<T>& self, std::size_t i, const E& expr) {
  if (self.grad_node) throw_first_order_only(self);
  BasicNode<T>& p = *self.parents[i];
  if (!p.requires_grad) return;
  if (!shapes_equal(p.value.shape(), expr.shape())) {
    self.add_to_parent(i, evaluate(expr));
    return;
  }
  if (p.has_grad) {
    xt::noalias(p.grad) += expr;
    return;
  }
  shape_grad_storage(p);
  xt::noalias(p.grad) = expr;
  p.has_grad = true;
}

// The parent's gradient storage, shaped like its value, for an op that writes its share
// itself (gemm or a loop): `beta` is 1 when a gradient is already there (add to it), 0 when
// not (overwrite; the contents are unspecified).
template <class T>
T* grad_target(BasicNode<T>& self, std::size_t i, T& beta) {
  if (self.grad_node) throw_first_order_only(self);
  BasicNode<T>& p = *self.parents[i];
  if (p.has_grad) {
    beta = 1;
  } else {
    shape_grad_storage(p);
    beta = 0;
    p.has_grad = true;
  }
  return p.grad.data();
}

// ---- create_graph: gradients as Variables ---------------------------------------------------

// a + b for two gradients of the same shape, recorded as a graph op ("grad_sum").
template <class T>
BasicVariable<T> grad_sum(const BasicVariable<T>& a, const BasicVariable<T>& b);
// target.grad_node += contribution, reduced to target's shape by the differentiable sum_to. A
// leaf that already holds a tensor gradient without history starts from a constant copy of it.
template <class T>
void accumulate_variable(BasicNode<T>& target, const BasicVariable<T>& contribution);
// The same for parents[i] of `self`; a no-op if that parent needs no gradient.
template <class T>
void add_variable_to_parent(BasicNode<T>& self, std::size_t i, const BasicVariable<T>& contribution) {
  if (self.parents[i]->requires_grad) accumulate_variable(*self.parents[i], contribution);
}

// Input i and the output of `self` as Variables (with the in-place check of parent_value).
template <class T>
BasicVariable<T> input_variable(const BasicNode<T>& self, std::size_t i) {
  (void)self.parent_value(i);
  return BasicVariable<T>(self.parents[i]);
}
template <class T>
BasicVariable<T> output_variable(BasicNode<T>& self) {
  (void)self.output_value();
  return BasicVariable<T>(self.shared_from_this());
}

// sign(x) ∈ {−1, 0, 1}: an expression over a tensor, a constant Variable over a Variable (its
// derivative is 0 almost everywhere).
template <class T>
auto sign_of(const TensorOf<T>& x) {
  return xt::sign(x);
}
template <class T>
BasicVariable<T> sign_of(const BasicVariable<T>& x);

// ---- backward formulas, written once, run on Tensors or on Variables --------------------------
//
// An op writes each input's share of the gradient as a generic lambda. Without create_graph
// the lambda gets `const Tensor&` operands and returns a lazy xtensor expression, evaluated
// straight into the parent's gradient buffer (add_expr_to_parent: no temporary). In a
// create_graph sweep it gets Variables, and the same operators and unqualified function names
// (exp, log, transpose, sign_of, ...) resolve to xtgrad's differentiable ops, so the share
// is recorded with its history. A lambda that returns its argument unchanged must return a
// reference (`-> const auto&`), or the Tensor is copied.

// fi(g) is input i's share (ops whose derivative needs no value: add, neg, affine, ...).
template <class T, class... F>
void backward_linear(BasicNode<T>& self, const F&... f) {
  std::size_t i = 0;
  auto one = [&self](std::size_t k, const auto& fk) {
    if (!self.parent_requires_grad(k)) return;
    if (self.grad_node) {
      add_variable_to_parent(self, k, fk(BasicVariable<T>(self.grad_node)));
    } else {
      add_expr_to_parent(self, k, fk(self.grad));
    }
  };
  (one(i++, f), ...);
}

// f(g, x, y) is the share of the one input x, y the output (exp, sigmoid, ...).
template <class T, class F>
void backward_unary(BasicNode<T>& self, const F& f) {
  if (!self.parent_requires_grad(0)) return;
  if (self.grad_node) {
    add_variable_to_parent(self, 0, f(BasicVariable<T>(self.grad_node), input_variable(self, 0), output_variable(self)));
  } else {
    add_expr_to_parent(self, 0, f(self.grad, self.parent_value(0), self.output_value()));
  }
}

// fa(g, a, b, y) and fb(g, a, b, y) are the shares of a and b, at the broadcast shape.
template <class T, class Fa, class Fb>
void backward_binary(BasicNode<T>& self, const Fa& fa, const Fb& fb) {
  if (self.grad_node) {
    const BasicVariable<T> g(self.grad_node), a = input_variable(self, 0), b = input_variable(self, 1),
        y = output_variable(self);
    if (self.parent_requires_grad(0)) add_variable_to_parent(self, 0, fa(g, a, b, y));
    if (self.parent_requires_grad(1)) add_variable_to_parent(self, 1, fb(g, a, b, y));
    return;
  }
  const TensorOf<T> &g = self.grad, &a = self.parent_value(0), &b = self.parent_value(1), &y = self.output_value();
  if (self.parent_requires_grad(0)) add_expr_to_parent(self, 0, fa(g, a, b, y));
  if (self.parent_requires_grad(1)) add_expr_to_parent(self, 1, fb(g, a, b, y));
}

// For an op with a one-element output (a loss, a norm): fi(g, inputs...) is input i's share,
// g the upstream gradient as a Scalar (fast path) or as a one-element Variable.
template <class T, class... F>
void backward_of_scalar(BasicNode<T>& self, const F&... f) {
  std::size_t i = 0;
  auto one = [&self](std::size_t k, const auto& fk) {
    if (!self.parent_requires_grad(k)) return;
    // fk takes the op's inputs: one (a norm) or two (a loss and its target)
    constexpr bool unary = std::is_invocable_v<decltype(fk), const T&, const TensorOf<T>&>;
    if (self.grad_node) {
      const BasicVariable<T> g(self.grad_node);
      if constexpr (unary) {
        add_variable_to_parent(self, k, fk(g, input_variable(self, 0)));
      } else {
        add_variable_to_parent(self, k, fk(g, input_variable(self, 0), input_variable(self, 1)));
      }
    } else {
      const T g = self.grad.data()[0];
      if constexpr (unary) {
        add_expr_to_parent(self, k, fk(g, self.parent_value(0)));
      } else {
        add_expr_to_parent(self, k, fk(g, self.parent_value(0), self.parent_value(1)));
      }
    }
  };
  (one(i++, f), ...);
}

}  // namespace xtgrad
