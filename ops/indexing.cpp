#include "xtgrad/ops/indexing.hpp"

#include <algorithm>
#include <cmath>
#include <memory>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "xtgrad/core/accumulate.hpp"
#include "xtgrad/ops/shape_checks.hpp"
#include "xtgrad/ops/take.hpp"

namespace xtgrad {
namespace {

// For every position p of index (row-major): the flat offset in `target` of p with p_axis
// replaced by index[p], and the flat offset of p in src (scatter_add; `src` null for gather,
// whose other offset is p's own). Checks ranks, extents, then index values, naming `op` and the
// shapes. I: Index, or the scalar of a float index tensor (whole numbers checked).
struct IndexMap {
  std::vector<std::size_t> target, other;
};
template <class Scalar, class I>
IndexMap map_index(const char* op, const TensorOf<Scalar>& target, std::size_t axis, const xt::xarray<I>& index,
                   const TensorOf<Scalar>* src) {
  const std::size_t r = target.dimension();
  const Shape other_shape = src ? shape_of(*src) : Shape(index.shape().begin(), index.shape().end());
  const std::string src_part = src ? " and src " + shape_str(other_shape) : "";
  if (index.dimension() != r || other_shape.size() != r) {
    throw std::invalid_argument(std::string(op) + ": index " + shape_str(index) + " must have the rank of input " +
                                shape_str(target) + src_part);
  }
  for (std::size_t d = 0; d < r; ++d) {
    if ((d != axis && index.shape()[d] > target.shape()[d]) || index.shape()[d] > other_shape[d]) {
      throw std::invalid_argument(std::string(op) + ": index " + shape_str(index) + " is larger than input " +
                                  shape_str(target) + (src ? " or src " + shape_str(other_shape) : "") +
                                  " at axis " + std::to_string(d));
    }
  }
  std::vector<std::size_t> t_stride(r, 1), o_stride(r, 1), idx(r, 0);
  for (std::size_t d = r; d-- > 1;) {
    t_stride[d - 1] = t_stride[d] * target.shape()[d];
    o_stride[d - 1] = o_stride[d] * other_shape[d];
  }
  IndexMap m;
  const std::size_t n = index.size();
  m.target.resize(n);
  m.other.resize(n);
  const std::size_t extent = r == 0 ? 1 : target.shape()[axis];
  const std::string where = " along axis " + std::to_string(axis) + " of input " + shape_str(target);
  for (std::size_t k = 0; k < n; ++k) {
    std::size_t at = 0;
    if constexpr (std::is_same_v<I, Index>) {
      at = checked_index(op, index.data()[k], k, extent, where);
    } else {
      const double v = index.data()[k];
      if (!(v >= 0 && v < double(extent) && v == std::floor(v))) {
        throw std::invalid_argument(std::string(op) + ": index value " + std::to_string(v) + " at flat position " +
                                    std::to_string(k) + " is not an integer in [0, " + std::to_string(extent) +
                                    ") for input " + shape_str(target) + " along axis " + std::to_string(axis));
      }
      at = static_cast<std::size_t>(v);
    }
    std::size_t t = 0, o = 0;
    for (std::size_t d = 0; d < r; ++d) {
      t += (d == axis ? at : idx[d]) * t_stride[d];
      o += idx[d] * o_stride[d];
    }
    m.target[k] = t;
    m.other[k] = o;
    for (std::size_t d = r; d-- > 0;) {
      if (++idx[d] < index.shape()[d]) break;
      idx[d] = 0;
    }
  }
  return m;
}

// gather's node once the index map is built.
template <class Scalar>
BasicVariable<Scalar> gather_mapped(const BasicVariable<Scalar>& x, const Shape& shape, IndexMap m) {
  using Variable = BasicVariable<Scalar>;
  using Node = BasicNode<Scalar>;
  TensorOf<Scalar> y = empty_tensor<Scalar>(shape);
  for (std::size_t k = 0; k < m.target.size(); ++k) y.data()[k] = x.value().data()[m.target[k]];
  return make_result("gather", std::move(y), {x}, [target = std::move(m.target)](Node& self) {
    // dx = 0 except dx[target(k)] += g[k]; create_graph: that scatter as an op
    if (self.grad_node) {
      add_variable_to_parent(self, 0, scatter_flat("gather", Variable(self.grad_node),
                                                   std::make_shared<const std::vector<std::size_t>>(target),
                                                   shape_of(self.parents[0]->value)));
      return;
    }
    Scalar beta = 0;
    Scalar* dx = grad_target(self, 0, beta);
    if (beta == 0) std::fill(dx, dx + self.parent_value(0).size(), Scalar(0));
    for (std::size_t k = 0; k < target.size(); ++k) dx[target[k]] += self.grad.data()[k];
  });
}

// scatter_add's node once the index map is built.
template <class Scalar>
BasicVariable<Scalar> scatter_add_mapped(const BasicVariable<Scalar>& x, const BasicVariable<Scalar>& src, IndexMap m) {
  using Variable = BasicVariable<Scalar>;
  using Node = BasicNode<Scalar>;
  TensorOf<Scalar> y = evaluate(x.value());
  for (std::size_t k = 0; k < m.target.size(); ++k) y.data()[m.target[k]] += src.value().data()[m.other[k]];
  return make_result("scatter_add", std::move(y), {x, src}, [m = std::move(m)](Node& self) {
    // dx = g; dsrc = 0 except dsrc[other(k)] = g[target(k)]
    if (self.grad_node) {  // create_graph: dsrc = scatter to other(k) of g gathered at target(k)
      const Variable g(self.grad_node);
      add_variable_to_parent(self, 0, g);
      if (self.parent_requires_grad(1)) {
        const Shape n{m.target.size()};
        const Variable picked =
            gather_flat("scatter_add", g, std::make_shared<const std::vector<std::size_t>>(m.target), n);
        add_variable_to_parent(self, 1, scatter_flat("scatter_add", picked,
                                                     std::make_shared<const std::vector<std::size_t>>(m.other),
                                                     shape_of(self.parents[1]->value)));
      }
      return;
    }
    if (self.parent_requires_grad(0)) add_expr_to_parent(self, 0, self.grad);
    if (self.parent_requires_grad(1)) {
      Scalar beta = 0;
      Scalar* ds = grad_target(self, 1, beta);
      if (beta == 0) std::fill(ds, ds + self.parent_value(1).size(), Scalar(0));
      for (std::size_t k = 0; k < m.target.size(); ++k) ds[m.other[k]] += self.grad.data()[m.target[k]];
    }
  });
}

}  // namespace

template <class Scalar>
BasicVariable<Scalar> index_select(const BasicVariable<Scalar>& x, int axis, const std::vector<std::size_t>& indices) {
  const std::size_t a = normalize_axis("index_select", x.value(), axis);
  const std::size_t n = x.value().shape()[a];
  for (std::size_t j = 0; j < indices.size(); ++j) {
    if (indices[j] >= n) {
      throw std::invalid_argument("index_select: index " + std::to_string(indices[j]) + " at position " +
                                  std::to_string(j) + " is out of range for size " + std::to_string(n) + " of axis " +
                                  std::to_string(axis) + " of shape " + shape_str(x.value()));
    }
  }
  return take_along_axis("index_select", x, a, indices);
}

template <class Scalar>
BasicVariable<Scalar> index_select(const BasicVariable<Scalar>& x, int axis, const IndexTensor& indices) {
  const std::size_t a = normalize_axis("index_select", x.value(), axis);
  if (indices.dimension() != 1) {
    throw std::invalid_argument("index_select: indices must be 1-d, got " + shape_str(indices) + " for input " +
                                shape_str(x.value()));
  }
  return take_along_axis("index_select", x, a,
                         checked_indices("index_select", indices, x.value().shape()[a],
                                         " along axis " + std::to_string(axis) + " of shape " + shape_str(x.value())));
}

template <class Scalar>
BasicVariable<Scalar> gather(const BasicVariable<Scalar>& x, int axis, const IndexTensor& index) {
  const std::size_t a = normalize_axis("gather", x.value(), axis);
  return gather_mapped(x, Shape(index.shape().begin(), index.shape().end()),
                       map_index<Scalar, Index>("gather", x.value(), a, index, nullptr));
}

template <class Scalar>
BasicVariable<Scalar> gather(const BasicVariable<Scalar>& x, int axis, const TensorOf<NonDeduced<Scalar>>& index) {
  const std::size_t a = normalize_axis("gather", x.value(), axis);
  return gather_mapped(x, shape_of(index), map_index<Scalar, Scalar>("gather", x.value(), a, index, nullptr));
}

template <class Scalar>
BasicVariable<Scalar> scatter_add(const BasicVariable<Scalar>& x, int axis, const IndexTensor& index,
                                  const BasicVariable<Scalar>& src) {
  const std::size_t a = normalize_axis("scatter_add", x.value(), axis);
  return scatter_add_mapped(x, src, map_index<Scalar, Index>("scatter_add", x.value(), a, index, &src.value()));
}

template <class Scalar>
BasicVariable<Scalar> scatter_add(const BasicVariable<Scalar>& x, int axis, const TensorOf<NonDeduced<Scalar>>& index,
                                  const BasicVariable<Scalar>& src) {
  const std::size_t a = normalize_axis("scatter_add", x.value(), axis);
  return scatter_add_mapped(x, src, map_index<Scalar, Scalar>("scatter_add", x.value(), a, index, &src.value()));
}

template <class Scalar>
TensorOf<Scalar> one_hot(const std::vector<std::size_t>& labels, std::size_t classes) {
  using Tensor = TensorOf<Scalar>;
  Tensor t = Tensor::from_shape({labels.size(), classes});
  std::fill(t.data(), t.data() + t.size(), Scalar(0));
  for (std::size_t i = 0; i < labels.size(); ++i) {
    if (labels[i] >= classes) {
      throw std::invalid_argument("one_hot: label " + std::to_string(labels[i]) + " at position " + std::to_string(i) +
                                  " is out of range for " + std::to_string(classes) + " classes");
    }
    t(i, labels[i]) = 1;
  }
  return t;
}

template <class Scalar>
TensorOf<Scalar> one_hot(const IndexTensor& labels, std::size_t classes) {
  if (labels.dimension() != 1) {
    throw std::invalid_argument("one_hot: labels must be 1-d, got " + shape_str(labels));
  }
  for (std::size_t i = 0; i < labels.size(); ++i) {
    const Index v = labels.data()[i];
    if (v < 0 || static_cast<std::uint64_t>(v) >= classes) {
      throw std::invalid_argument("one_hot: label " + std::to_string(v) + " at position " + std::to_string(i) +
                                  " is out of range for " + std::to_string(classes) + " classes");
    }
  }
  return one_hot<Scalar>(std::vector<std::size_t>(labels.begin(), labels.end()), classes);
}

#define XTGRAD_INSTANTIATE(T)                                                                                 \
  template BasicVariable<T> index_select(const BasicVariable<T>&, int, const std::vector<std::size_t>&);      \
  template BasicVariable<T> index_select(const BasicVariable<T>&, int, const IndexTensor&);                  \
  template BasicVariable<T> gather(const BasicVariable<T>&, int, const TensorOf<T>&);                         \
  template BasicVariable<T> gather(const BasicVariable<T>&, int, const IndexTensor&);                         \
  template BasicVariable<T> scatter_add(const BasicVariable<T>&, int, const TensorOf<T>&,                     \
                                        const BasicVariable<T>&);                                             \
  template BasicVariable<T> scatter_add(const BasicVariable<T>&, int, const IndexTensor&,                     \
                                        const BasicVariable<T>&);                                             \
  template TensorOf<T> one_hot<T>(const std::vector<std::size_t>&, std::size_t);                              \
  template TensorOf<T> one_hot<T>(const IndexTensor&, std::size_t);
XTGRAD_INSTANTIATE(float)
XTGRAD_INSTANTIATE(double)
#undef XTGRAD_INSTANTIATE

}  // namespace xtgrad
