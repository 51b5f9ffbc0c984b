#include "xtgrad/core/node.hpp"

#include <algorithm>
#include <stdexcept>

#include "xtgrad/core/accumulate.hpp"
#include "xtgrad/core/buffer_cache.hpp"

#include "xtgrad/core/xt.hpp"

namespace xtgrad {

template <class T>
BasicNode<T>::~BasicNode() {
  // Take over the parents; a parent we hold the last reference to hands its own parents to
  // the worklist before it dies, so no destructor ever runs another one recursively.
  NodeListOf<T> pending = std::move(parents);
  while (!pending.empty()) {
    NodePtrOf<T> node = std::move(pending.back());
    pending.pop_back();
    if (node && node.use_count() == 1) {
      for (NodePtrOf<T>& p : node->parents) pending.push_back(std::move(p));
      node->parents.clear();
      if (node->grad_node) pending.push_back(std::move(node->grad_node));
      node->backward_fn = nullptr;
    }
  }
  if (recycle_value) recycle(value);
  recycle(grad);
}

template <class T>
void BasicNode<T>::throw_modified(std::size_t i) const {
  const BasicNode& n = i < kCheckedParents ? *parents[i] : *this;
  const std::string what = i < kCheckedParents ? "input " + std::to_string(i) : std::string("its output");
  const std::string label = n.name.empty() ? std::string() : " '" + n.name + "'";
  throw std::logic_error(std::string(op) + ": " + what + label + " (op '" + n.op + "', shape " + shape_str(n.value) +
                         ") was modified in place after the forward pass (version " + std::to_string(n.version) +
                         ", saved at version " +
                         std::to_string(i < kCheckedParents ? saved_versions[i] : 0u) +
                         "); backward needs the old value: compute the output again after changing it");
}

template <class T>
void BasicNode<T>::add_to_parent(std::size_t i, TensorOf<T>&& contribution) const {
  if (grad_node) throw_first_order_only(*this);
  accumulate_grad(*parents[i], std::move(contribution), op);
}

template <class T>
NodePtrOf<T> make_node() {
  return std::allocate_shared<BasicNode<T>>(SmallBlockAllocator<BasicNode<T>>());
}

namespace {

// out[j] = Σ_r x[r, j] for x (rows, cols), rows ≥ 1, in Scalar, row after row. On every core
// above kElementwiseGrain elements: by column blocks when there are enough columns (each sum
// then runs as on one thread), else by row chunks whose partial rows (scratch from the buffer
// cache) are added in chunk order: the same for a given thread count, and on one thread the
// serial sum.
template <class Scalar>
void sum_rows(const Scalar* x, std::size_t rows, std::size_t cols, Scalar* out) {
  auto columns = [&](Scalar* o, std::size_t r0, std::size_t r1, std::size_t j0, std::size_t j1) {
    std::copy(x + r0 * cols + j0, x + r0 * cols + j1, o + j0);
    for (std::size_t r = r0 + 1; r < r1; ++r) {
      const Scalar* xr = x + r * cols;
      for (std::size_t j = j0; j < j1; ++j) o[j] += xr[j];
    }
  };
  const std::size_t column_grain = std::max<std::size_t>(16, kElementwiseGrain / rows);
  const std::size_t row_chunks = parallel_detail::chunk_count(rows, std::max<std::size_t>(1, kElementwiseGrain / cols));
  if (parallel_detail::chunk_count(cols, column_grain) > 1 || row_chunks <= 1) {
    parallel_for(0, cols, column_grain, [&](std::size_t j0, std::size_t j1) { columns(out, 0, rows, j0, j1); });
    return;
  }
  // chunk 0 sums into out, chunk c > 0 into row c − 1 of the scratch
  TensorOf<Scalar> partial = empty_tensor<Scalar>(Shape{row_chunks - 1, cols});
  Scalar* p = partial.data();
  parallel_for(0, row_chunks, 1, [&](std::size_t c0, std::size_t c1) {
    for (std::size_t c = c0; c < c1; ++c) {
      columns(c == 0 ? out : p + (c - 1) * cols, parallel_detail::chunk_start(0, rows, row_chunks, c),
              parallel_detail::chunk_start(0, rows, row_chunks, c + 1), 0, cols);
    }
  });
  for (std::size_t c = 1; c < row_chunks; ++c) {
    const Scalar* pc = p + (c - 1) * cols;
    for (std::size_t j = 0; j < cols; ++j) out[j] += pc[j];
  }
  recycle(partial);
}

template <class Scalar, class S>
TensorOf<Scalar> sum_to_shape(const TensorOf<Scalar>& t, const S& shape) {
  using Tensor = TensorOf<Scalar>;
  const std::size_t rank = t.dimension();
  const std::size_t target_rank = shape.size();
  auto fail = [&]() -> Tensor {
    throw std::logic_error("sum_to: cannot reduce " + shape_str(t) + " to " + shape_str(Shape(shape.begin(), shape.end())));
  };
  if (target_rank > rank) return fail();
  const std::size_t lead = rank - target_rank;
  bool trailing = true;  // only leading axes are summed away (a bias's gradient)
  for (std::size_t k = 0; k < target_rank; ++k) {
    const std::size_t have = t.shape()[lead + k];
    if (have != shape[k] && shape[k] != 1) return fail();
    trailing = trailing && have == shape[k];
  }
  Tensor out = empty_tensor<Scalar>(shape);
  const std::size_t n_out = out.size();
  Scalar* o = out.data();
  const Scalar* x = t.data();
  if (n_out == 0) return out;
  if (trailing) {
    // out[j] = Σ_r t[r, j] over the leading axes flattened into rows r
    const std::size_t rows = t.size() / n_out;
    if (rows == 0) {  // an empty leading axis: nothing to add
      std::fill(o, o + n_out, Scalar(0));
      return out;
    }
    sum_rows(x, rows, n_out, o);
    return out;
  }
  // General case: every element of t adds into the output element it broadcasts from
  // (index 0 along the output's size-1 axes), visited in row-major order.
  std::fill(o, o + n_out, Scalar(0));
  typename Tensor::shape_type stride(target_rank, 0);  // output strides, 0 along size-1 axes
  for (std::size_t k = target_rank, s = 1; k-- > 0; s *= shape[k]) stride[k] = shape[k] == 1 ? 0 : s;
  typename Tensor::shape_type index(rank, 0);
  std::size_t offset = 0;
  for (std::size_t i = 0, n = t.size(); i < n; ++i) {
    o[offset] += x[i];
    for (std::size_t d = rank; d-- > 0;) {  // odometer: advance the last axis, carry leftwards
      const std::size_t step = d >= lead ? stride[d - lead] : 0;
      if (++index[d] < t.shape()[d]) {
        offset += step;
        break;
      }
      offset -= step * (index[d] - 1);
      index[d] = 0;
    }
  }
  return out;
}

}  // namespace

template <class T>
TensorOf<T> sum_to(const TensorOf<T>& t, const Shape& shape) {
  return sum_to_shape(t, shape);
}

template <class T>
void accumulate_grad(BasicNode<T>& target, TensorOf<T>&& contribution, const char* op) {
  if (!target.requires_grad) return;
  const auto& want = target.value.shape();
  const auto& have = contribution.shape();
  if (!shapes_equal(want, have)) {
    TensorOf<T> reduced = TensorOf<T>::from_shape({0});
    try {
      reduced = sum_to_shape(contribution, want);
    } catch (const std::logic_error&) {
      throw std::logic_error(std::string(op) + ": backward produced a gradient of shape " +
                             shape_str(contribution) + " for an input of shape " +
                             shape_str(target.value));
    }
    recycle(contribution);
    contribution = std::move(reduced);
  }
  if (!target.has_grad) {
    recycle(target.grad);
    target.grad = std::move(contribution);
    target.has_grad = true;
  } else {
    add_into(target.grad, contribution);  // on every core above the grain
    recycle(contribution);
  }
}

#define XTGRAD_INSTANTIATE(T)                                                        \
  template struct BasicNode<T>;                                                     \
  template NodePtrOf<T> make_node();                                                \
  template TensorOf<T> sum_to(const TensorOf<T>&, const Shape&);                    \
  template void accumulate_grad(BasicNode<T>&, TensorOf<T>&&, const char*);
XTGRAD_INSTANTIATE(float)
XTGRAD_INSTANTIATE(double)
#undef XTGRAD_INSTANTIATE

}  // namespace xtgrad
