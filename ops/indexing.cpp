#include "xtgrad/ops/indexing.hpp"

#include <algorithm>
#include <cmath>
#include <memory>
#include <stdexcept>
#include <string>

#include "xtgrad/core/accumulate.hpp"
#include "xtgrad/ops/shape_checks.hpp"
#include "xtgrad/ops/take.hpp"

namespace xtgrad {
namespace {

// For every position p of index (row-major): the flat offset in `target` of p with p_axis
// replaced by index[p], and the flat offset of p in `other` (src for scatter_add; index itself
// for gather). Checks ranks, extents and index values, naming `op` and the shapes.
struct IndexMap {
  std::vector<std::size_t> target, other;
};
template <class Scalar>
IndexMap map_index(const char* op, const TensorOf<Scalar>& target, std::size_t axis, const TensorOf<Scalar>& index,
                   const TensorOf<Scalar>& other) {
  const std::size_t r = target.dimension();
  if (index.dimension() != r || other.dimension() != r) {
    throw std::invalid_argument(std::string(op) + ": index " + shape_str(index) + " must have the rank of input " +
                                shape_str(target) + (&other == &index ? "" : " and src " + shape_str(other)));
  }
  for (std::size_t d = 0; d < r; ++d) {
    if ((d != axis && index.shape()[d] > target.shape()[d]) || index.shape()[d] > other.shape()[d]) {
      throw std::invalid_argument(std::string(op) + ": index " + shape_str(index) + " is larger than input " +
                                  shape_str(target) + (&other == &index ? "" : " or src " + shape_str(other)) +
                                  " at axis " + std::to_string(d));
    }
  }
  std::vector<std::size_t> t_stride(r, 1), o_stride(r, 1), idx(r, 0);
  for (std::size_t d = r; d-- > 1;) {
    t_stride[d - 1] = t_stride[d] * target.shape()[d];
    o_stride[d - 1] = o_stride[d] * other.shape()[d];
  }
  IndexMap m;
  const std::size_t n = index.size();
  m.target.resize(n);
  m.other.resize(n);
  const double extent = r == 0 ? 1.0 : double(target.shape()[axis]);
  for (std::size_t k = 0; k < n; ++k) {
    const double v = index.data()[k];
    if (!(v >= 0 && v < extent && v == std::floor(v))) {
      throw std::invalid_argument(std::string(op) + ": index value " + std::to_string(v) + " at flat position " +
                                  std::to_string(k) + " is not an integer in [0, " +
                                  std::to_string(std::size_t(extent)) + ") for input " + shape_str(target) +
                                  " along axis " + std::to_string(axis));
    }
    std::size_t t = 0, o = 0;
    for (std::size_t d = 0; d < r; ++d) {
      t += (d == axis ? static_cast<std::size_t>(v) : idx[d]) * t_stride[d];
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

}  // namespace

template <class Scalar>
BasicVariable<Scalar> index_select(const BasicVariable<Scalar>& x, int axis, const std::vector<std::size_t>& indices) {
  const std::size_t a = normalize_axis("index_select", x.value(), axis);
  const std::size_t n = x.value().shape()[a];
  for (std::size_t j = 0; j < indices.size(); ++j) {
    if (indices[j] >= n) {
      throw std::invalid_argument("index_select: index " + std::to_string(indices[j]) + " at position " +
                                  std::to_string(j) + " is out of range for axis " + std::to_string(axis) +
                                  " of shape " + shape_str(x.value()));
    }
  }
  return take_along_axis("index_select", x, a, indices);
}

template <class Scalar>
BasicVariable<Scalar> gather(const BasicVariable<Scalar>& x, int axis, const TensorOf<Scalar>& index) {
  using Tensor = TensorOf<Scalar>;
  using Variable = BasicVariable<Scalar>;
  using Node = BasicNode<Scalar>;
  const std::size_t a = normalize_axis("gather", x.value(), axis);
  IndexMap m = map_index("gather", x.value(), a, index, index);
  Tensor y = empty_tensor<Scalar>(index.shape());
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

template <class Scalar>
BasicVariable<Scalar> scatter_add(const BasicVariable<Scalar>& x, int axis, const TensorOf<Scalar>& index,
                                  const BasicVariable<Scalar>& src) {
  using Tensor = TensorOf<Scalar>;
  using Variable = BasicVariable<Scalar>;
  using Node = BasicNode<Scalar>;
  const std::size_t a = normalize_axis("scatter_add", x.value(), axis);
  IndexMap m = map_index("scatter_add", x.value(), a, index, src.value());
  Tensor y = evaluate(x.value());
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

#define XTGRAD_INSTANTIATE(T)                                                                                 \
  template BasicVariable<T> index_select(const BasicVariable<T>&, int, const std::vector<std::size_t>&);      \
  template BasicVariable<T> gather(const BasicVariable<T>&, int, const TensorOf<T>&);                         \
  template BasicVariable<T> scatter_add(const BasicVariable<T>&, int, const TensorOf<T>&,                     \
                                        const BasicVariable<T>&);                                             \
  template TensorOf<T> one_hot<T>(const std::vector<std::size_t>&, std::size_t);
XTGRAD_INSTANTIATE(float)
XTGRAD_INSTANTIATE(double)
#undef XTGRAD_INSTANTIATE

}  // namespace xtgrad
