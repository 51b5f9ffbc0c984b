#include "xtgrad/nn/data_loader.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>
#include <string>
#include <vector>

namespace xtgrad {
namespace nn {
namespace {

// Rows `rows` of t (n, ...), in that order.
template <class T>
TensorOf<T> take_rows(const TensorOf<T>& t, const std::vector<std::size_t>& rows) {
  Shape shape = shape_of(t);
  const std::size_t row = t.shape()[0] ? t.size() / t.shape()[0] : 0;
  shape[0] = rows.size();
  TensorOf<T> out = TensorOf<T>::from_shape(shape);
  for (std::size_t i = 0; i < rows.size(); ++i)
    std::copy(t.data() + rows[i] * row, t.data() + (rows[i] + 1) * row, out.data() + i * row);
  return out;
}

}  // namespace

template <class T>
std::pair<BasicDataset<T>, BasicDataset<T>> split_dataset(const BasicDataset<T>& data, double validation_fraction,
                                                          Rng& rng) {
  if (data.inputs.dimension() == 0 || data.targets.dimension() == 0 ||
      data.inputs.shape()[0] != data.targets.shape()[0]) {
    throw std::invalid_argument("split_dataset: inputs " + shape_str(data.inputs) + " and targets " +
                                shape_str(data.targets) + " must have the same number of rows");
  }
  const std::size_t n = data.inputs.shape()[0];
  const auto n_val = static_cast<std::size_t>(std::llround(validation_fraction * double(n)));
  if (!(validation_fraction > 0 && validation_fraction < 1) || n_val == 0 || n_val == n) {
    throw std::invalid_argument("split_dataset: validation fraction " + std::to_string(validation_fraction) +
                                " of " + std::to_string(n) + " rows must leave both parts non-empty");
  }
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), std::size_t{0});
  for (std::size_t i = n - 1; i > 0; --i) {
    std::uniform_int_distribution<std::size_t> pick(0, i);
    std::swap(order[i], order[pick(rng)]);
  }
  std::vector<std::size_t> val(order.begin(), order.begin() + std::ptrdiff_t(n_val));
  std::vector<std::size_t> train(order.begin() + std::ptrdiff_t(n_val), order.end());
  std::sort(val.begin(), val.end());
  std::sort(train.begin(), train.end());
  return {BasicDataset<T>{take_rows(data.inputs, train), take_rows(data.targets, train)},
          BasicDataset<T>{take_rows(data.inputs, val), take_rows(data.targets, val)}};
}

template <class T>
BasicDataLoader<T>::BasicDataLoader(const BasicDataset<T>& data, const DataLoaderOptions& options, Rng& rng)
    : batches_(data.inputs, data.targets, options.batch_size, options.shuffle, rng) {
  batches_.set_drop_last(options.drop_last);
  batches_.set_prefetch(options.prefetch);
}

template <class T>
typename BasicDataLoader<T>::iterator BasicDataLoader<T>::begin() {
  batches_.start_epoch();
  return iterator(advance() ? this : nullptr);
}

template <class T>
bool BasicDataLoader<T>::advance() {
  if (!batches_.next(batch_.x.mutable_value(), batch_.y.mutable_value())) return false;
  const TensorOf<T>& y = batch_.y.value();
  // class indices (1-d targets of whole numbers >= 0): the same values as int64, resized only
  // when the batch size changes; one-hot or regression targets: no labels
  bool indices = y.dimension() == 1;
  if (indices && batch_.labels.size() != y.size()) batch_.labels.resize({y.size()});
  for (std::size_t i = 0; indices && i < y.size(); ++i) {
    const T v = y.data()[i];
    indices = v >= 0 && std::floor(v) == v && v < T(9.2e18);
    if (indices) batch_.labels.data()[i] = static_cast<Index>(v);
  }
  if (!indices && batch_.labels.size() != 0) batch_.labels.resize({0});
  return true;
}

template std::pair<BasicDataset<float>, BasicDataset<float>> split_dataset(const BasicDataset<float>&, double,
                                                                          Rng&);
template std::pair<BasicDataset<double>, BasicDataset<double>> split_dataset(const BasicDataset<double>&, double,
                                                                            Rng&);
template class BasicDataLoader<float>;
template class BasicDataLoader<double>;

}  // namespace nn
}  // namespace xtgrad
