#include "xtgrad/core/random.hpp"

#include "xtgrad/core/xt.hpp"

namespace xtgrad {
inline namespace XTGRAD_ABI {

Tensor randn(const Shape& shape, Rng& rng, double mean, double stddev) {
  Tensor t = Tensor::from_shape(shape);
  std::normal_distribution<double> dist(mean, stddev);
  for (Scalar& x : t) x = static_cast<Scalar>(dist(rng));
  return t;
}

Tensor rand_uniform(const Shape& shape, Rng& rng, double low, double high) {
  Tensor t = Tensor::from_shape(shape);
  std::uniform_real_distribution<double> dist(low, high);
  for (Scalar& x : t) x = static_cast<Scalar>(dist(rng));
  return t;
}

}  // namespace XTGRAD_ABI
}  // namespace xtgrad
