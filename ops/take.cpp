#include "xtgrad/ops/take.hpp"

#include <algorithm>

#include "xtgrad/core/accumulate.hpp"
#include "xtgrad/core/parallel.hpp"

namespace xtgrad {
namespace {

struct AxisView {
  std::size_t outer, n, inner;
};
// A tensor seen as (outer, n, inner) around `axis`: the product of the axes before it, its
// extent, the product of the axes after it.
template <class Scalar>
AxisView around_axis(const TensorOf<Scalar>& v, std::size_t axis) {
  AxisView view{1, v.shape()[axis], 1};
  for (std::size_t d = 0; d < axis; ++d) view.outer *= v.shape()[d];
  for (std::size_t d = axis + 1; d < v.dimension(); ++d) view.inner *= v.shape()[d];
  return view;
}

// Rows of `row` values each per thread, at least: a copy is about one load and one store per value.
inline std::size_t range_rows_grain(std::size_t row) {
  return std::max<std::size_t>(1, kElementwiseGrain / std::max<std::size_t>(row, 1));
}

}  // namespace

template <class Scalar>
BasicVariable<Scalar> take_along_axis(const char* op, const BasicVariable<Scalar>& x, std::size_t axis,
                                      std::vector<std::size_t> idx) {
  using Tensor = TensorOf<Scalar>;
  using Variable = BasicVariable<Scalar>;
  using Node = BasicNode<Scalar>;
  const Tensor& v = x.value();
  // x viewed as (outer, n, inner) around the axis; y as (outer, m, inner)
  const AxisView view = around_axis(v, axis);
  const std::size_t outer = view.outer, n = view.n, inner = view.inner;
  const std::size_t m = idx.size();
  Shape out = shape_of(v);
  out[axis] = m;
  Tensor y = empty_tensor<Scalar>(out);
  for (std::size_t o = 0; o < outer; ++o) {
    for (std::size_t j = 0; j < m; ++j) {
      const Scalar* src = v.data() + (o * n + idx[j]) * inner;
      std::copy(src, src + inner, y.data() + (o * m + j) * inner);
    }
  }
  return make_result(op, std::move(y), {x}, [idx = std::move(idx), outer, n, inner, op](Node& self) {
    // dx = 0 except dx[o, idx[j], :] += g[o, j, :]
    if (self.grad_node) {  // create_graph: the same scatter as an op
      const std::size_t m = idx.size();
      auto map = std::make_shared<std::vector<std::size_t>>(outer * m * inner);
      for (std::size_t o = 0; o < outer; ++o) {
        for (std::size_t j = 0; j < m; ++j) {
          for (std::size_t t = 0; t < inner; ++t) (*map)[(o * m + j) * inner + t] = (o * n + idx[j]) * inner + t;
        }
      }
      add_variable_to_parent(self, 0,
                             scatter_flat(op, Variable(self.grad_node), std::move(map), shape_of(self.parents[0]->value)));
      return;
    }
    Scalar beta = 0;
    Scalar* dx = grad_target(self, 0, beta);
    if (beta == 0) std::fill(dx, dx + outer * n * inner, Scalar(0));
    const std::size_t m = idx.size();
    for (std::size_t o = 0; o < outer; ++o) {
      for (std::size_t j = 0; j < m; ++j) {
        const Scalar* g = self.grad.data() + (o * m + j) * inner;
        Scalar* d = dx + (o * n + idx[j]) * inner;
        for (std::size_t t = 0; t < inner; ++t) d[t] += g[t];
      }
    }
  });
}

template <class Scalar>
BasicVariable<Scalar> take_range(const char* op, const BasicVariable<Scalar>& x, std::size_t axis, std::size_t start,
                                 std::size_t length) {
  using Tensor = TensorOf<Scalar>;
  using Variable = BasicVariable<Scalar>;
  using Node = BasicNode<Scalar>;
  const Tensor& v = x.value();
  // x viewed as (outer, n, inner) around the axis; y as (outer, length, inner)
  const AxisView view = around_axis(v, axis);
  const std::size_t outer = view.outer, n = view.n, inner = view.inner;
  const std::size_t block = length * inner;
  typename Tensor::shape_type out = v.shape();
  out[axis] = length;
  Tensor y = empty_tensor<Scalar>(out);
  // copies only: the rows o split among the threads give the same bits
  parallel_for(0, outer, range_rows_grain(block), [&](std::size_t o0, std::size_t o1) {
    for (std::size_t o = o0; o < o1; ++o) {
      const Scalar* src = v.data() + (o * n + start) * inner;
      std::copy(src, src + block, y.data() + o * block);
    }
  });
  return make_result(op, std::move(y), {x}, [outer, n, inner, start, length, op](Node& self) {
    // dx = 0 except dx[o, start + j, :] += g[o, j, :]
    const std::size_t block = length * inner;
    if (self.grad_node) {  // create_graph: the same scatter as an op
      auto map = std::make_shared<std::vector<std::size_t>>(outer * block);
      for (std::size_t o = 0; o < outer; ++o) {
        for (std::size_t k = 0; k < block; ++k) (*map)[o * block + k] = (o * n + start) * inner + k;
      }
      add_variable_to_parent(self, 0,
                             scatter_flat(op, Variable(self.grad_node), std::move(map), shape_of(self.parents[0]->value)));
      return;
    }
    Scalar beta = 0;
    Scalar* dx = grad_target(self, 0, beta);
    const Scalar* gp = self.grad.data();
    // row o of dx (n·inner values) is written by one thread: zeroed first when dx is fresh,
    // then g's block added at `start`; no value is summed across rows, so any split gives the same bits
    parallel_for(0, outer, range_rows_grain(n * inner), [&](std::size_t o0, std::size_t o1) {
      for (std::size_t o = o0; o < o1; ++o) {
        if (beta == 0) std::fill(dx + o * n * inner, dx + (o + 1) * n * inner, Scalar(0));
        const Scalar* g = gp + o * block;
        Scalar* d = dx + (o * n + start) * inner;
        for (std::size_t k = 0; k < block; ++k) d[k] += g[k];
      }
    });
  });
}

template <class Scalar>
BasicVariable<Scalar> gather_flat(const char* op, const BasicVariable<Scalar>& g, FlatMap map, const Shape& shape) {
  using Tensor = TensorOf<Scalar>;
  using Variable = BasicVariable<Scalar>;
  using Node = BasicNode<Scalar>;
  Tensor y = empty_tensor<Scalar>(shape);
  const Scalar* gs = g.value().data();
  for (std::size_t k = 0; k < map->size(); ++k) y.data()[k] = gs[(*map)[k]];
  return make_result(op, std::move(y), {g}, [map, op](Node& self) {
    // dg = 0 except dg[map[k]] += dy[k]
    if (self.grad_node) {
      add_variable_to_parent(self, 0, scatter_flat(op, Variable(self.grad_node), map, shape_of(self.parents[0]->value)));
      return;
    }
    Scalar beta = 0;
    Scalar* dg = grad_target(self, 0, beta);
    if (beta == 0) std::fill(dg, dg + self.parents[0]->value.size(), Scalar(0));
    for (std::size_t k = 0; k < map->size(); ++k) dg[(*map)[k]] += self.grad.data()[k];
  });
}

template <class Scalar>
BasicVariable<Scalar> scatter_flat(const char* op, const BasicVariable<Scalar>& g, FlatMap map, const Shape& shape) {
  using Tensor = TensorOf<Scalar>;
  using Variable = BasicVariable<Scalar>;
  using Node = BasicNode<Scalar>;
  Tensor y = empty_tensor<Scalar>(shape);
  std::fill(y.data(), y.data() + y.size(), Scalar(0));
  const Scalar* gs = g.value().data();
  for (std::size_t k = 0; k < map->size(); ++k) y.data()[(*map)[k]] += gs[k];
  return make_result(op, std::move(y), {g}, [map, op](Node& self) {
    // dg[k] = dy[map[k]]
    if (self.grad_node) {
      add_variable_to_parent(self, 0, gather_flat(op, Variable(self.grad_node), map, shape_of(self.parents[0]->value)));
      return;
    }
    bool accumulate = false;
    Scalar* dg = grad_target(self, 0, accumulate);
    for (std::size_t k = 0; k < map->size(); ++k) {
      const Scalar d = self.grad.data()[(*map)[k]];
      dg[k] = accumulate ? dg[k] + d : d;
    }
  });
}

#define XTGRAD_INSTANTIATE(T)                                                                                 \
  template BasicVariable<T> take_along_axis(const char*, const BasicVariable<T>&, std::size_t,                \
                                            std::vector<std::size_t>);                                        \
  template BasicVariable<T> take_range(const char*, const BasicVariable<T>&, std::size_t, std::size_t,         \
                                       std::size_t);                                                          \
  template BasicVariable<T> gather_flat(const char*, const BasicVariable<T>&, FlatMap, const Shape&);         \
  template BasicVariable<T> scatter_flat(const char*, const BasicVariable<T>&, FlatMap, const Shape&);
XTGRAD_INSTANTIATE(float)
XTGRAD_INSTANTIATE(double)
#undef XTGRAD_INSTANTIATE

}  // namespace xtgrad
