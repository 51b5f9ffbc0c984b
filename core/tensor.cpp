#include "xtgrad/core/tensor.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>

namespace xtgrad {

std::string shape_str(const Shape& shape) {
  std::string s = "(";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(shape[i]);
  }
  return s + ")";
}

std::size_t element_count(const Shape& shape) {
  std::size_t n = 1;
  for (std::size_t d : shape) n *= d;
  return n;
}

Shape shape_from_extents(const char* op, std::initializer_list<long long> extents) {
  Shape shape;
  shape.reserve(extents.size());
  for (long long e : extents) {
    if (e < 0) throw std::invalid_argument(std::string(op) + ": negative extent " + std::to_string(e) + " in a shape");
    shape.push_back(static_cast<std::size_t>(e));
  }
  return shape;
}

template <class T>
TensorOf<T> empty(const Shape& shape) {
  return TensorOf<T>::from_shape(shape);
}

template <class T>
TensorOf<T> full(const Shape& shape, double value) {
  TensorOf<T> t = TensorOf<T>::from_shape(shape);
  std::fill(t.data(), t.data() + t.size(), static_cast<T>(value));
  return t;
}

template <class T>
TensorOf<T> zeros(const Shape& shape) {
  return full<T>(shape, 0.0);
}

template <class T>
TensorOf<T> ones(const Shape& shape) {
  return full<T>(shape, 1.0);
}

template <class T>
TensorOf<T> arange(double start, double stop, double step) {
  if (!std::isfinite(start) || !std::isfinite(stop) || !std::isfinite(step) || step == 0) {
    throw std::invalid_argument("arange: start " + std::to_string(start) + ", stop " + std::to_string(stop) +
                                ", step " + std::to_string(step) + ": the bounds must be finite and the step nonzero");
  }
  const double count = std::ceil((stop - start) / step);
  const std::size_t n = count > 0 ? static_cast<std::size_t>(count) : 0;
  TensorOf<T> t = TensorOf<T>::from_shape({n});
  for (std::size_t i = 0; i < n; ++i) t.data()[i] = static_cast<T>(start + double(i) * step);
  return t;
}

template <class T>
TensorOf<T> arange(double stop) {
  return arange<T>(0.0, stop, 1.0);
}

template <class T>
TensorOf<T> rows(const TensorOf<T>& t, std::int64_t start, std::int64_t stop) {
  if (t.dimension() == 0) throw std::invalid_argument("rows: a 0-d tensor has no rows, got " + shape_str(t));
  const auto n = static_cast<std::int64_t>(t.shape()[0]);
  auto clamp_index = [n](std::int64_t i) { return std::clamp(i < 0 ? i + n : i, std::int64_t(0), n); };
  const std::int64_t b = clamp_index(start), e = std::max(b, clamp_index(stop));
  Shape shape(t.shape().begin(), t.shape().end());
  shape[0] = static_cast<std::size_t>(e - b);
  TensorOf<T> out = TensorOf<T>::from_shape(shape);
  const std::size_t row = n == 0 ? 0 : t.size() / static_cast<std::size_t>(n);  // elements per row
  if (out.size() != 0) std::memcpy(out.data(), t.data() + std::size_t(b) * row, out.size() * sizeof(T));
  return out;
}

namespace {

// Shape of a literal from its first elements, level by level.
template <class T>
Shape literal_shape(const TensorLiteral<T>& data) {
  Shape shape;
  const TensorLiteral<T>* at = &data;
  while (!at->is_scalar()) {
    shape.push_back(at->items().size());
    if (at->items().empty()) break;
    at = &at->items().front();
  }
  return shape;
}

// Writes the numbers of `data` (which must have `shape` from axis `axis` on) in row-major order.
template <class T>
void flatten_literal(const TensorLiteral<T>& data, const Shape& shape, std::size_t axis, T*& out) {
  if (axis == shape.size()) {
    if (!data.is_scalar()) {
      throw std::invalid_argument("tensor: ragged nested list: a list where a number was expected (shape " +
                                  shape_str(shape) + ")");
    }
    *out++ = data.value();
    return;
  }
  if (data.is_scalar() || data.items().size() != shape[axis]) {
    const std::string found =
        data.is_scalar() ? std::string("a number") : std::to_string(data.items().size()) + " elements";
    throw std::invalid_argument("tensor: ragged nested list: axis " + std::to_string(axis) + " has " + found +
                                " where the first has " + std::to_string(shape[axis]) + " (shape " +
                                shape_str(shape) + ")");
  }
  for (const TensorLiteral<T>& item : data.items()) flatten_literal(item, shape, axis + 1, out);
}

}  // namespace

template <class T>
TensorOf<T> tensor(const TensorLiteral<NonDeduced<T>>& data) {
  const Shape shape = literal_shape(data);
  TensorOf<T> t = TensorOf<T>::from_shape(shape);
  T* out = t.data();
  flatten_literal(data, shape, 0, out);
  return t;
}

#define XTGRAD_INSTANTIATE(T)                                            \
  template TensorOf<T> empty<T>(const Shape&);                           \
  template TensorOf<T> full<T>(const Shape&, double);                    \
  template TensorOf<T> zeros<T>(const Shape&);                           \
  template TensorOf<T> ones<T>(const Shape&);                            \
  template TensorOf<T> arange<T>(double, double, double);               \
  template TensorOf<T> arange<T>(double);                                \
  template TensorOf<T> rows(const TensorOf<T>&, std::int64_t, std::int64_t); \
  template TensorOf<T> tensor<T>(const TensorLiteral<T>&);
XTGRAD_INSTANTIATE(float)
XTGRAD_INSTANTIATE(double)
#undef XTGRAD_INSTANTIATE

}  // namespace xtgrad
