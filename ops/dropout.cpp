#include "xtgrad/ops/dropout.hpp"

#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "xtgrad/core/accumulate.hpp"
#include "xtgrad/core/parallel.hpp"
#include "xtgrad/core/xt.hpp"
#include "xtgrad/ops/elementwise.hpp"

namespace xtgrad {

template <class Scalar>
TensorOf<Scalar> dropout_mask(const typename TensorOf<Scalar>::shape_type& shape, double p, Rng& rng) {
  // m = 1/(1−p) where a 32-bit uniform draw u < (1−p)·2³², else 0; two draws per 64-bit word.
  TensorOf<Scalar> mask = empty_tensor<Scalar>(shape);
  const std::size_t n = mask.size();
  const auto keep = static_cast<std::uint64_t>(std::ldexp(1.0 - p, 32));
  const auto scale = static_cast<Scalar>(1.0 / (1.0 - p));
  Scalar* m = mask.data();
  std::size_t i = 0;
  for (; i + 1 < n; i += 2) {
    const std::uint64_t bits = rng();
    m[i] = (bits & 0xffffffffu) < keep ? scale : Scalar(0);
    m[i + 1] = (bits >> 32) < keep ? scale : Scalar(0);
  }
  if (i < n) m[i] = (rng() & 0xffffffffu) < keep ? scale : Scalar(0);
  return mask;
}

template <class Scalar>
BasicVariable<Scalar> dropout(const BasicVariable<Scalar>& x, double p, Rng& rng, bool training) {
  using Tensor = TensorOf<Scalar>;
  using Variable = BasicVariable<Scalar>;
  using Node = BasicNode<Scalar>;
  if (!(p >= 0 && p < 1)) {
    throw std::invalid_argument("dropout: p must be in [0, 1), got " + std::to_string(p) + " for input " +
                                shape_str(x.value()));
  }
  if (!training || p == 0) return x;
  const Tensor& v = x.value();
  const std::size_t n = v.size();
  Tensor mask = dropout_mask<Scalar>(v.shape(), p, rng);
  const Scalar* m = mask.data();
  // y = x ⊙ m, the elements split among the threads (the mask above stays one stream of draws)
  Tensor y = empty_like(v);
  const Scalar* in = v.data();
  Scalar* out = y.data();
  parallel_for(0, n, kElementwiseGrain, [&](std::size_t b, std::size_t e) {
    for (std::size_t k = b; k < e; ++k) out[k] = in[k] * m[k];
  });
  return make_result("dropout", std::move(y), {x}, [mask = SavedTensor(std::move(mask)), n](Node& self) {
    // dx = g ⊙ m : shape of x (with ops under create_graph: m is a constant)
    if (self.grad_node) {
      add_variable_to_parent(self, 0, mul(Variable(self.grad_node), Variable(mask.get())));
      return;
    }
    if (!self.parent_requires_grad(0)) return;
    Scalar beta = 0;
    Scalar* dx = grad_target(self, 0, beta);
    const Scalar* g = self.grad.data();
    const Scalar* mk = mask.get().data();
    parallel_for(0, n, kElementwiseGrain, [&](std::size_t b, std::size_t e) {
      if (beta == 0) {
        for (std::size_t k = b; k < e; ++k) dx[k] = g[k] * mk[k];
      } else {
        for (std::size_t k = b; k < e; ++k) dx[k] += g[k] * mk[k];
      }
    });
  });
}

// float and double, the precisions the library is built for
template BasicVariable<float> dropout(const BasicVariable<float>&, double, Rng&, bool);
template BasicVariable<double> dropout(const BasicVariable<double>&, double, Rng&, bool);
template TensorOf<float> dropout_mask<float>(const TensorOf<float>::shape_type&, double, Rng&);
template TensorOf<double> dropout_mask<double>(const TensorOf<double>::shape_type&, double, Rng&);

}  // namespace xtgrad
