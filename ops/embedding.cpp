#include "xtgrad/ops/embedding.hpp"

#include <cmath>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "xtgrad/core/accumulate.hpp"
#include "xtgrad/core/xt.hpp"
#include "xtgrad/ops/take.hpp"

namespace xtgrad {
namespace {

// y (index_shape + (D)) ← rows of wv (V, D): y[i, :] = wv[row_of(i), :] for the flat
// positions i of the indices (each row_of(i) < V, checked by the caller).
template <class Scalar, class IndexShape, class RowOf>
TensorOf<Scalar> gather_rows(const TensorOf<Scalar>& wv, const IndexShape& index_shape, std::size_t count,
                             const RowOf& row_of) {
  const std::size_t d = wv.shape()[1];
  typename TensorOf<Scalar>::shape_type out_shape(index_shape.size() + 1);  // inline up to rank 4: no malloc
  std::copy(index_shape.begin(), index_shape.end(), out_shape.begin());
  out_shape.back() = d;
  TensorOf<Scalar> y = empty_tensor<Scalar>(out_shape);
  for (std::size_t i = 0; i < count; ++i) {
    const Scalar* row = wv.data() + row_of(i) * d;
    std::copy(row, row + d, y.data() + i * d);
  }
  return y;
}

// The backward of gather_rows for parent 0 (the weight): dW[row_of(i), :] += g[i, :], linear in
// g, the indices constants. A create_graph sweep records the same scatter-add as an op.
template <class Scalar, class RowOf>
void scatter_rows(BasicNode<Scalar>& self, const RowOf& row_of) {
  using Variable = BasicVariable<Scalar>;
  if (!self.parent_requires_grad(0)) return;
  const std::size_t d = self.parents[0]->value.shape()[1];
  const std::size_t count = d == 0 ? 0 : self.value.size() / d;
  if (self.grad_node) {
    auto map = std::make_shared<std::vector<std::size_t>>(count * d);
    for (std::size_t i = 0; i < count; ++i) {
      for (std::size_t k = 0; k < d; ++k) (*map)[i * d + k] = row_of(i) * d + k;
    }
    add_variable_to_parent(self, 0, scatter_flat("embedding", Variable(self.grad_node), std::move(map),
                                                 shape_of(self.parents[0]->value)));
    return;
  }
  Scalar beta = 0;
  Scalar* dw = grad_target(self, 0, beta);
  if (beta == 0) std::fill(dw, dw + self.parent_value(0).size(), Scalar(0));
  for (std::size_t i = 0; i < count; ++i) {
    Scalar* row = dw + row_of(i) * d;
    const Scalar* g = self.grad.data() + i * d;
    for (std::size_t k = 0; k < d; ++k) row[k] += g[k];
  }
}

template <class Scalar, class I>
void check_weight(const TensorOf<Scalar>& wv, const xt::xarray<I>& iv) {
  if (wv.dimension() != 2) {
    throw std::invalid_argument("embedding: weight must be (num_embeddings, dim), got " + shape_str(wv) +
                                " (indices " + shape_str(iv) + ")");
  }
}

}  // namespace

template <class Scalar>
BasicVariable<Scalar> embedding(const IndexTensor& indices, const BasicVariable<Scalar>& weight) {
  using Node = BasicNode<Scalar>;
  const TensorOf<Scalar>& wv = weight.value();
  check_weight(wv, indices);
  const std::size_t v = wv.shape()[0], n = indices.size();
  // The rows travel with the closure in a recycled buffer (as doubles: exact below 2^53), so a
  // training step allocates nothing for them.
  TensorOf<double> rows = empty_tensor<double>({n});
  for (std::size_t i = 0; i < n; ++i) {
    const Index k = indices.data()[i];
    if (k < 0 || static_cast<std::uint64_t>(k) >= v) {
      checked_index("embedding", k, i, v,
                    " (num_embeddings) of weight " + shape_str(wv) + ", indices " + shape_str(indices));
    }
    rows.data()[i] = double(k);
  }
  const double* r = rows.data();
  TensorOf<Scalar> y = gather_rows(wv, indices.shape(), n, [r](std::size_t i) { return std::size_t(r[i]); });
  return make_result("embedding", std::move(y), {weight}, [saved = SavedTensor<double>(std::move(rows))](Node& self) {
    const double* r = saved.get().data();
    scatter_rows(self, [r](std::size_t i) { return std::size_t(r[i]); });
  });
}

template <class Scalar>
BasicVariable<Scalar> embedding(const BasicVariable<Scalar>& indices, const BasicVariable<Scalar>& weight) {
  using Node = BasicNode<Scalar>;
  const TensorOf<Scalar>& iv = indices.value();
  const TensorOf<Scalar>& wv = weight.value();
  check_weight(wv, iv);
  const std::size_t v = wv.shape()[0];
  for (std::size_t i = 0; i < iv.size(); ++i) {
    const Scalar k = iv.data()[i];
    if (!(k >= 0 && k < Scalar(v)) || std::floor(k) != k) {
      throw std::invalid_argument("embedding: index " + std::to_string(k) + " at flat position " + std::to_string(i) +
                                  " of indices " + shape_str(iv) + " is not a whole number in [0, " +
                                  std::to_string(v) + ") for weight " + shape_str(wv));
    }
  }
  const Scalar* ip = iv.data();
  TensorOf<Scalar> y = gather_rows(wv, iv.shape(), iv.size(), [ip](std::size_t i) { return std::size_t(ip[i]); });
  // The indices are input 1 (they get no gradient): backward reads them from there (checked for
  // in-place changes since), so the closure holds nothing.
  return make_result("embedding", std::move(y), {weight, indices}, [](Node& self) {
    const Scalar* ip = self.parent_value(1).data();
    scatter_rows(self, [ip](std::size_t i) { return std::size_t(ip[i]); });
  });
}

// float and double, the precisions the library is built for
template BasicVariable<float> embedding(const IndexTensor&, const BasicVariable<float>&);
template BasicVariable<double> embedding(const IndexTensor&, const BasicVariable<double>&);
template BasicVariable<float> embedding(const BasicVariable<float>&, const BasicVariable<float>&);
template BasicVariable<double> embedding(const BasicVariable<double>&, const BasicVariable<double>&);

}  // namespace xtgrad
