// Evaluating ops' results into recycled buffers, and writing a gradient straight into a
// parent's buffer when no broadcasting is involved, so gradient storage is reused step after
// step instead of reallocated. Internal to the ops' sources (it pulls in xtensor's expression
// headers).
#pragma once

#include <algorithm>
#include <type_traits>
#include <utility>

#include "xtgrad/core/buffer_cache.hpp"
#include "xtgrad/core/node.hpp"
#include "xtgrad/core/parallel.hpp"
#include "xtgrad/core/variable.hpp"
#include "xtgrad/core/xt.hpp"

namespace xtgrad {

// Whether two shapes (any containers of extents) are equal.
template <class A, class B>
bool shapes_equal(const A& a, const B& b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin());
}

// ---- elementwise work on every core ------------------------------------------------------------
//
// Chunks of the parallel elementwise loops start at multiples of kBlock elements, a multiple of
// every SIMD width: an element is then computed by a SIMD batch or by a scalar tail (which can
// differ in the last bit: exp, tanh, erf) exactly as in one serial pass over the whole tensor,
// so the result does not depend on the thread count.
constexpr std::size_t kBlock = 64;

// fn(b, e) over a partition of [0, n) into chunks of >= grain elements (about) whose starts are
// multiples of kBlock; one call fn(0, n) when n is below two grains or there is one thread.
template <class F>
void parallel_blocks(std::size_t n, std::size_t grain, const F& fn) {
  const std::size_t blocks = (n + kBlock - 1) / kBlock;
  parallel_for(0, blocks, std::max<std::size_t>(1, grain / kBlock),
               [&](std::size_t b, std::size_t e) { fn(b * kBlock, std::min(n, e * kBlock)); });
}

namespace assign_detail {

template <class E, class S, class = void>
struct Linear : std::false_type {};  // E has has_linear_assign(strides)
template <class E, class S>
struct Linear<E, S, std::void_t<decltype(std::declval<const E&>().has_linear_assign(std::declval<const S&>()))>>
    : std::true_type {};

// Whether `e` (of out's shape) can be read at flat index i (no broadcasting inside), the
// condition of xtensor's linear assignment; `simd` whether xtensor would read it by batches.
template <class T, class E>
bool linear(const TensorOf<T>& out, const E& e, bool& simd) {
  using Traits = xt::xassign_traits<TensorOf<T>, E>;
  simd = false;
  if constexpr (Linear<E, typename TensorOf<T>::strides_type>::value &&
                std::is_same_v<typename E::value_type, T>) {
    if (!shapes_equal(out.shape(), e.shape()) || !e.has_linear_assign(out.strides())) return false;
    if constexpr (Traits::simd_assign()) simd = Traits::simd_linear_assign() || Traits::simd_linear_assign(out, e);
    return true;
  } else {
    return false;
  }
}

// out[b, end) = e[b, end), b a multiple of kBlock, as xtensor's linear assigners do over
// [0, size): SIMD batches (when `simd`) while a whole batch fits, then data_element; without
// SIMD, its linear iterator.
template <class T, class E>
void linear_range(TensorOf<T>& out, const E& e, std::size_t b, std::size_t end, bool simd) {
  T* o = out.data();
  if constexpr (Linear<E, typename TensorOf<T>::strides_type>::value &&
                std::is_same_v<typename E::value_type, T>) {
    if constexpr (xt::xassign_traits<TensorOf<T>, E>::simd_assign()) {
      if (simd) {
        constexpr std::size_t lanes = xt_simd::simd_type<T>::size;
        static_assert(kBlock % lanes == 0, "kBlock must be a multiple of the SIMD width");
        std::size_t i = b;
        for (; i + lanes <= end; i += lanes) {
          out.template store_simd<xt_simd::unaligned_mode>(i, e.template load_simd<xt_simd::unaligned_mode, T>(i));
        }
        for (; i < end; ++i) o[i] = e.data_element(i);
        return;
      }
    }
    auto it = xt::linear_begin(e);
    it += static_cast<std::ptrdiff_t>(b);
    for (std::size_t i = b; i < end; ++i, ++it) o[i] = *it;
  }
}

}  // namespace assign_detail

// out = expr, out already of expr's shape: split across the threads above `grain` elements when
// expr reads its operands linearly (no broadcasting), bit-identical to one xtensor assignment
// for any thread count; otherwise one xtensor assignment on this thread.
template <class T, class E>
void assign_into(TensorOf<T>& out, const E& expr, std::size_t grain = kElementwiseGrain) {
  bool simd = false;
  if (!assign_detail::linear(out, expr, simd)) {
    xt::noalias(out) = expr;
    return;
  }
  parallel_blocks(out.size(), grain,
                  [&](std::size_t b, std::size_t e) { assign_detail::linear_range(out, expr, b, e, simd); });
}

// out += expr (of out's shape), likewise: out = out + expr element by element.
template <class T, class E>
void add_into(TensorOf<T>& out, const E& expr, std::size_t grain = kElementwiseGrain) {
  const TensorOf<T>& in = out;
  assign_into(out, in + expr, grain);
}

// `expr` evaluated into a tensor from the buffer cache (on every core above `grain` elements,
// assign_into).
template <class E>
TensorOf<typename E::value_type> evaluate(const E& expr, std::size_t grain = kElementwiseGrain) {
  TensorOf<typename E::value_type> out = empty_tensor<typename E::value_type>(expr.shape());
  assign_into(out, expr, grain);
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
// Elementwise on every core above `grain` elements (assign_into).
template <class T, class E>
void add_expr_to_parent(BasicNode<T>& self, std::size_t i, const E& expr, std::size_t grain = kElementwiseGrain) {
  if (self.grad_node) throw_first_order_only(self);
  BasicNode<T>& p = *self.parents[i];
  if (!p.requires_grad) return;
  if (!shapes_equal(p.value.shape(), expr.shape())) {
    self.add_to_parent(i, evaluate(expr, grain));
    return;
  }
  if (p.has_grad) {
    add_into(p.grad, expr, grain);
    return;
  }
  shape_grad_storage(p);
  assign_into(p.grad, expr, grain);
  p.has_grad = true;
}

// The parent's gradient storage, shaped like its value, for an op that writes its share
// itself (a loop): `accumulate` is true when a gradient is already there (add to it), false
// when not (overwrite; the contents are unspecified). Loops test this bool, not a float: a
// float the op's stores through the returned pointer might alias (its address escaped here) is
// reloaded and compared at every element, and the loop is not vectorised.
template <class T>
T* grad_target(BasicNode<T>& self, std::size_t i, bool& accumulate) {
  if (self.grad_node) throw_first_order_only(self);
  BasicNode<T>& p = *self.parents[i];
  accumulate = p.has_grad;
  if (!p.has_grad) {
    shape_grad_storage(p);
    p.has_grad = true;
  }
  return p.grad.data();
}

// The same with BLAS's `beta` (1: add, 0: overwrite), for an op that writes its share by gemm.
template <class T>
T* grad_target(BasicNode<T>& self, std::size_t i, T& beta) {
  bool accumulate = false;
  T* data = grad_target(self, i, accumulate);
  beta = accumulate ? T(1) : T(0);
  return data;
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

// f(g, x, y) is the share of the one input x, y the output (exp, sigmoid, ...); `grain` that of
// its evaluation (kTranscendentalGrain for a formula with exp, erf, ...).
template <class T, class F>
void backward_unary(BasicNode<T>& self, const F& f, std::size_t grain = kElementwiseGrain) {
  if (!self.parent_requires_grad(0)) return;
  if (self.grad_node) {
    add_variable_to_parent(self, 0, f(BasicVariable<T>(self.grad_node), input_variable(self, 0), output_variable(self)));
  } else {
    add_expr_to_parent(self, 0, f(self.grad, self.parent_value(0), self.output_value()), grain);
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
