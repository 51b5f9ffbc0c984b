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

template <class Scalar>
BasicVariable<Scalar> embedding(const BasicVariable<Scalar>& indices, const BasicVariable<Scalar>& weight) {
  using Tensor = TensorOf<Scalar>;
  using Variable = BasicVariable<Scalar>;
  using Node = BasicNode<Scalar>;
  const Tensor& iv = indices.value();
  const Tensor& wv = weight.value();
  if (wv.dimension() != 2) {
    throw std::invalid_argument("embedding: weight must be (num_embeddings, dim), got " + shape_str(wv) +
                                " (indices " + shape_str(iv) + ")");
  }
  const std::size_t v = wv.shape()[0], d = wv.shape()[1];
  for (std::size_t i = 0; i < iv.size(); ++i) {
    const Scalar k = iv.data()[i];
    if (!(k >= 0 && k < Scalar(v)) || std::floor(k) != k) {
      throw std::invalid_argument("embedding: index " + std::to_string(k) + " at flat position " + std::to_string(i) +
                                  " of indices " + shape_str(iv) + " is not a whole number in [0, " +
                                  std::to_string(v) + ") for weight " + shape_str(wv));
    }
  }
  typename Tensor::shape_type shape = iv.shape();
  shape.push_back(d);
  Tensor y = empty_tensor<Scalar>(shape);
  for (std::size_t i = 0; i < iv.size(); ++i) {
    const Scalar* row = wv.data() + std::size_t(iv.data()[i]) * d;
    std::copy(row, row + d, y.data() + i * d);
  }
  return make_result("embedding", std::move(y), {indices, weight}, [d](Node& self) {
    // dW[indices[i], :] += g[i, :] : linear in g, the indices constants
    if (!self.parent_requires_grad(1)) return;
    const Tensor& iv = self.parent_value(0);
    if (self.grad_node) {  // create_graph: the same scatter-add as an op
      auto map = std::make_shared<std::vector<std::size_t>>(iv.size() * d);
      for (std::size_t i = 0; i < iv.size(); ++i) {
        for (std::size_t k = 0; k < d; ++k) (*map)[i * d + k] = std::size_t(iv.data()[i]) * d + k;
      }
      add_variable_to_parent(self, 1, scatter_flat("embedding", Variable(self.grad_node), std::move(map),
                                                   shape_of(self.parents[1]->value)));
      return;
    }
    Scalar beta = 0;
    Scalar* dw = grad_target(self, 1, beta);
    if (beta == 0) std::fill(dw, dw + self.parent_value(1).size(), Scalar(0));
    for (std::size_t i = 0; i < iv.size(); ++i) {
      Scalar* row = dw + std::size_t(iv.data()[i]) * d;
      const Scalar* g = self.grad.data() + i * d;
      for (std::size_t k = 0; k < d; ++k) row[k] += g[k];
    }
  });
}

// float and double, the precisions the library is built for
template BasicVariable<float> embedding(const BasicVariable<float>&, const BasicVariable<float>&);
template BasicVariable<double> embedding(const BasicVariable<double>&, const BasicVariable<double>&);

}  // namespace xtgrad
