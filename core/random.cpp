#include "xtgrad/core/random.hpp"

#include "xtgrad/core/xt.hpp"

namespace xtgrad {

template <class T>
TensorOf<T> randn(const Shape& shape, Rng& rng, double mean, double stddev) {
  TensorOf<T> t = TensorOf<T>::from_shape(shape);
  std::normal_distribution<double> dist(mean, stddev);
  for (T& x : t) x = static_cast<T>(dist(rng));
  return t;
}

template <class T>
TensorOf<T> rand_uniform(const Shape& shape, Rng& rng, double low, double high) {
  TensorOf<T> t = TensorOf<T>::from_shape(shape);
  std::uniform_real_distribution<double> dist(low, high);
  for (T& x : t) x = static_cast<T>(dist(rng));
  return t;
}

template TensorOf<float> randn(const Shape&, Rng&, double, double);
template TensorOf<double> randn(const Shape&, Rng&, double, double);
template TensorOf<float> rand_uniform(const Shape&, Rng&, double, double);
template TensorOf<double> rand_uniform(const Shape&, Rng&, double, double);

}  // namespace xtgrad
