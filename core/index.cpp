#include "xtgrad/core/index.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace xtgrad {

IndexTensor index_tensor(std::initializer_list<Index> values) {
  IndexTensor t = IndexTensor::from_shape({values.size()});
  std::copy(values.begin(), values.end(), t.data());
  return t;
}

IndexTensor index_tensor(const std::vector<std::size_t>& values) {
  IndexTensor t = IndexTensor::from_shape({values.size()});
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (values[i] > std::size_t(INT64_MAX)) {
      throw std::invalid_argument("index_tensor: index " + std::to_string(values[i]) + " at position " +
                                  std::to_string(i) + " does not fit in int64");
    }
    t.data()[i] = static_cast<Index>(values[i]);
  }
  return t;
}

std::size_t checked_index(const char* op, Index value, std::size_t position, std::size_t size,
                          const std::string& where) {
  if (value < 0 || static_cast<std::uint64_t>(value) >= size) {
    throw std::invalid_argument(std::string(op) + ": index " + std::to_string(value) + " at flat position " +
                                std::to_string(position) + " is out of range for size " + std::to_string(size) +
                                where);
  }
  return static_cast<std::size_t>(value);
}

std::vector<std::size_t> checked_indices(const char* op, const IndexTensor& index, std::size_t size,
                                         const std::string& where) {
  std::vector<std::size_t> out(index.size());
  for (std::size_t k = 0; k < out.size(); ++k) out[k] = checked_index(op, index.data()[k], k, size, where);
  return out;
}

template <class T>
IndexTensor to_index_tensor(const TensorOf<T>& values, const char* op) {
  IndexTensor t = IndexTensor::from_shape(values.shape());
  for (std::size_t k = 0; k < values.size(); ++k) {
    const T v = values.data()[k];
    // 2⁶³ is exact in float and double; [−2⁶³, 2⁶³) converts without overflow
    if (!(std::floor(v) == v && v >= T(-9223372036854775808.0) && v < T(9223372036854775808.0))) {
      throw std::invalid_argument(std::string(op) + ": index value " + std::to_string(v) + " at flat position " +
                                  std::to_string(k) + " of " + shape_str(values) + " is not an integer");
    }
    t.data()[k] = static_cast<Index>(v);
  }
  return t;
}

template IndexTensor to_index_tensor(const TensorOf<float>&, const char*);
template IndexTensor to_index_tensor(const TensorOf<double>&, const char*);

}  // namespace xtgrad
