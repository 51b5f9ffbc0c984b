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

// weight (V, D) checked; `shape` the indices' shape, `rows` their values (each < V).
template <class Scalar>
BasicVariable<Scalar> embedding_rows(const Shape& shape, std::shared_ptr<const std::vector<std::size_t>> rows,
                                     const BasicVariable<Scalar>& weight) {
  using Tensor = TensorOf<Scalar>;
  using Variable = BasicVariable<Scalar>;
  using Node = BasicNode<Scalar>;
  const Tensor& wv = weight.value();
  const std::size_t d = wv.shape()[1];
  Shape out_shape = shape;
  out_shape.push_back(d);
  Tensor y = empty_tensor<Scalar>(out_shape);
  for (std::size_t i = 0; i < rows->size(); ++i) {
    const Scalar* row = wv.data() + (*rows)[i] * d;
    std::copy(row, row + d, y.data() + i * d);
  }
  return make_result("embedding", std::move(y), {weight}, [rows, d](Node& self) {
    // dW[indices[i], :] += g[i, :] : linear in g, the indices constants
    if (self.grad_node) {  // create_graph: the same scatter-add as an op
      auto map = std::make_shared<std::vector<std::size_t>>(rows->size() * d);
      for (std::size_t i = 0; i < rows->size(); ++i) {
        for (std::size_t k = 0; k < d; ++k) (*map)[i * d + k] = (*rows)[i] * d + k;
      }
      add_variable_to_parent(self, 0, scatter_flat("embedding", Variable(self.grad_node), std::move(map),
                                                   shape_of(self.parents[0]->value)));
      return;
    }
    Scalar beta = 0;
    Scalar* dw = grad_target(self, 0, beta);
    if (beta == 0) std::fill(dw, dw + self.parent_value(0).size(), Scalar(0));
    for (std::size_t i = 0; i < rows->size(); ++i) {
      Scalar* row = dw + (*rows)[i] * d;
      const Scalar* g = self.grad.data() + i * d;
      for (std::size_t k = 0; k < d; ++k) row[k] += g[k];
    }
  });
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
  check_weight(weight.value(), indices);
  const std::string where = " (num_embeddings) of weight " + shape_str(weight.value()) + ", indices " +
                            shape_str(indices);
  auto rows = std::make_shared<const std::vector<std::size_t>>(
      checked_indices("embedding", indices, weight.value().shape()[0], where));
  return embedding_rows(Shape(indices.shape().begin(), indices.shape().end()), std::move(rows), weight);
}

template <class Scalar>
BasicVariable<Scalar> embedding(const BasicVariable<Scalar>& indices, const BasicVariable<Scalar>& weight) {
  const TensorOf<Scalar>& iv = indices.value();
  const TensorOf<Scalar>& wv = weight.value();
  check_weight(wv, iv);
  const std::size_t v = wv.shape()[0];
  auto rows = std::make_shared<std::vector<std::size_t>>(iv.size());
  for (std::size_t i = 0; i < iv.size(); ++i) {
    const Scalar k = iv.data()[i];
    if (!(k >= 0 && k < Scalar(v)) || std::floor(k) != k) {
      throw std::invalid_argument("embedding: index " + std::to_string(k) + " at flat position " + std::to_string(i) +
                                  " of indices " + shape_str(iv) + " is not a whole number in [0, " +
                                  std::to_string(v) + ") for weight " + shape_str(wv));
    }
    (*rows)[i] = static_cast<std::size_t>(k);
  }
  return embedding_rows<Scalar>(shape_of(iv), std::move(rows), weight);
}

// float and double, the precisions the library is built for
template BasicVariable<float> embedding(const IndexTensor&, const BasicVariable<float>&);
template BasicVariable<double> embedding(const IndexTensor&, const BasicVariable<double>&);
template BasicVariable<float> embedding(const BasicVariable<float>&, const BasicVariable<float>&);
template BasicVariable<double> embedding(const BasicVariable<double>&, const BasicVariable<double>&);

}  // namespace xtgrad
